/**
 * Runway's task API (`type: runway`) through the official `@runwayml/sdk` (successor-apis.md section 3):
 * `POST /v1/text_to_video` or `/v1/image_to_video` starts a task, `GET /v1/tasks/{id}` reads it through
 * PENDING, THROTTLED and RUNNING to SUCCEEDED (output URLs), FAILED (`failureCode`) or CANCELLED, and
 * `DELETE /v1/tasks/{id}` cancels a running task or deletes a finished one.
 *
 * Money: the SDK's automatic retries are off for every request (a create repeated after a lost response
 * would start and bill a second task; reads are retried by the engine, the one layer that retries). Runway
 * has no List and no idempotency key, so a create whose answer is lost cannot be reconciled: the engine
 * reports it `unreconciled` and sends nothing.
 *
 * Output URLs are signed and "expire within 24-48 hours; fetch the task again to get fresh URLs": each poll
 * stamps them with the short end of that (24 h from the poll), and the engine downloads them at once.
 */
import RunwayML, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  RunwayMLError,
} from '@runwayml/sdk';
import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import { fetchOutputUrl } from './fetch-output-url.ts';
import type {
  FetchedOutput,
  GenerationRequest,
  JobFailureKind,
  JobHandle,
  JobProvider,
  JobState,
  OutputRef,
  SubmitOptions,
} from './job-api.ts';
import type { ErrorContext } from './map-provider-error.ts';
import { errorFromNetwork, errorFromResponse, sanitizeCause } from './map-provider-error.ts';
import type { SecretRedactor } from './redact.ts';
import { ProviderError } from './types.ts';

export const RUNWAY_DEFAULT_BASE_URL = 'https://api.dev.runwayml.com';
/** "Output URLs expire within 24-48 hours" (sdk-node src/resources/tasks.ts): the short end. */
const OUTPUT_URL_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Runway takes an image inline as a data URI of at most 5 MB (larger ones need its upload API). */
const MAX_DATA_URI_BYTES = 5 * 1024 * 1024;
/** Models that take audio and a negative prompt (the Veo family on Runway). */
const VEO_MODELS = new Set(['veo3.1', 'veo3.1_fast']);
/** Gen-4 models: text-to-video only at these ratios (Gen-4.5), or not at all (Gen-4 Turbo). */
const GEN4_TEXT_RATIOS: Readonly<Record<string, readonly string[]>> = {
  'gen4.5': ['1280:720', '720:1280'],
  gen4_turbo: [],
};

type CreateBody = RunwayML.ImageToVideoCreateParams;
type TaskState = RunwayML.TaskRetrieveResponse;

export interface RunwayProviderOptions {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  /** Config `base_url`, else Runway's own (`https://api.dev.runwayml.com`). */
  readonly baseUrl: string;
  /** From RUNWAYML_API_SECRET; never logged (the redactor knows it). */
  readonly apiKey: string;
  readonly clock: Clock;
  readonly redactor: SecretRedactor;
  /** Model name -> the name sent (`deployments:` in the config). Models not listed are sent as they are. */
  readonly deployments?: Readonly<Record<string, string>>;
  /**
   * Per-request time limit until the response headers arrive, real ms.
   * @default 120_000
   */
  readonly timeoutMs?: number;
  /** Called by `close()` (a test's emulator stops here). */
  readonly onClose?: () => Promise<void>;
}

export class RunwayProvider implements JobProvider {
  readonly name: string;
  readonly type = 'runway' as const;
  readonly family = 'runway' as const;
  readonly #options: RunwayProviderOptions;
  readonly #client: RunwayML;
  #closed = false;

  constructor(options: RunwayProviderOptions) {
    this.name = options.name;
    this.#options = options;
    options.redactor.add(options.apiKey);
    this.#client = new RunwayML({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
      // The SDK must not print (only cli/ and reporter/ do), least of all request details.
      logLevel: 'off',
    });
  }

  async submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }> {
    const body = this.#body(request);
    const opts = { maxRetries: 0, ...(options.signal !== undefined ? { signal: options.signal } : {}) };
    const { id } = await this.#call('create', options.signal, () =>
      request.frames.length === 0
        ? this.#client.textToVideo.create(body as unknown as RunwayML.TextToVideoCreateParams, opts)
        : this.#client.imageToVideo.create(body, opts),
    );
    const handle: JobHandle = {
      type: 'runway',
      provider: this.name,
      id,
      model: body.model,
      createdAt: this.#options.clock.now(),
    };
    return { handle, state: { state: 'queued', progress: null, pollAfterMs: null } };
  }

  async poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState> {
    let task: TaskState;
    try {
      task = await this.#call(`retrieve task ${handle.id}`, signal, () =>
        this.#client.tasks.retrieve(handle.id, { maxRetries: 0, ...(signal !== undefined && { signal }) }),
      );
    } catch (error) {
      // The service says the task does not exist (deleted, or older than Runway keeps tasks).
      if (error instanceof ProviderError && error.kind === 'not-found')
        return { state: 'failed', kind: 'gone', code: 'not_found', message: error.message };
      throw error;
    }
    return this.#state(task);
  }

  fetch(output: OutputRef, signal?: AbortSignal): Promise<FetchedOutput> {
    return fetchOutputUrl(output, {
      context: this.#context('download output', signal),
      timeoutMs: this.#options.timeoutMs ?? 120_000,
    });
  }

  /** Cancels a task still running (Runway answers the same DELETE by deleting a finished one). */
  async cancel(handle: JobHandle, signal?: AbortSignal): Promise<void> {
    await this.#call(`delete task ${handle.id}`, signal, () =>
      this.#client.tasks.delete(handle.id, { maxRetries: 0, ...(signal !== undefined && { signal }) }),
    );
  }

  delete(handle: JobHandle, signal?: AbortSignal): Promise<void> {
    return this.cancel(handle, signal);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#options.onClose?.() ?? Promise.resolve();
  }

  /** The create body: Runway's names for the shot's fields. Refuses what Runway cannot take, before sending. */
  #body(request: GenerationRequest): CreateBody {
    const deployments = this.#options.deployments ?? {};
    const model = Object.hasOwn(deployments, request.model) ? deployments[request.model]! : request.model;
    const refuse = (message: string): never => {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: ${message}`,
        delivered: 'no',
      });
    };
    const size = /^(\d+)x(\d+)$/.exec(request.size);
    if (size === null) refuse(`size ${JSON.stringify(request.size)} is not WIDTHxHEIGHT`);
    if (request.referenceImages.length > 0) refuse(`${model} on Runway takes no reference images`);
    if (request.inputVideo !== undefined) refuse(`${model} on Runway takes no input video`);
    if (request.parent !== undefined) refuse(`Runway cannot ${request.parent.relation} a video`);
    if (request.variants !== 1) refuse(`Runway makes one video per task (variants: ${request.variants})`);
    const promptImage = request.frames.map((frame) => {
      if (frame.at !== 'first' && frame.at !== 'last')
        refuse(`Runway takes a first and a last frame, not frame ${frame.at}`);
      const uri = `data:${frame.image.mime};base64,${Buffer.from(frame.image.bytes).toString('base64')}`;
      if (uri.length > MAX_DATA_URI_BYTES)
        refuse(`${frame.image.filename} is over Runway's 5 MB limit for an inline image`);
      return { uri, position: frame.at as 'first' | 'last' };
    });
    const ratio = `${size![1]}:${size![2]}`;
    const textRatios = GEN4_TEXT_RATIOS[model];
    if (promptImage.length === 0 && textRatios !== undefined && !textRatios.includes(ratio)) {
      refuse(
        textRatios.length === 0
          ? `${model} needs a first frame (it has no text-to-video)`
          : `${model} without a first frame makes ${textRatios.map((r) => r.replace(':', 'x')).join(' or ')}, not ${request.size}`,
      );
    }
    const veo = VEO_MODELS.has(model);
    if (!veo && request.negativePrompt !== undefined) refuse(`${model} takes no negative prompt`);
    if (!veo && request.audio === true) refuse(`${model} makes no audio`);
    return {
      model,
      promptText: request.prompt,
      ratio,
      duration: request.seconds,
      ...(promptImage.length > 0 && { promptImage }),
      ...(request.seed !== undefined && { seed: request.seed }),
      ...(veo && request.audio !== undefined && { audio: request.audio }),
      ...(request.negativePrompt !== undefined && { negativePrompt: request.negativePrompt }),
    } as CreateBody;
  }

  #state(task: TaskState): JobState {
    const now = this.#options.clock.now();
    switch (task.status) {
      case 'PENDING':
      case 'THROTTLED': // accepted, waiting for one of the account's concurrency slots
        return { state: 'queued', progress: null, pollAfterMs: null };
      case 'RUNNING':
        return {
          state: 'running',
          progress: typeof task.progress === 'number' ? Math.round(task.progress * 100) : null,
          pollAfterMs: null,
        };
      case 'SUCCEEDED': {
        // A video task has one output; further entries would be side files of other formats.
        const url = task.output[0];
        if (url === undefined) {
          return {
            state: 'failed',
            kind: 'upstream',
            code: 'no_output',
            message: `${this.name}: task ${task.id} succeeded without an output`,
          };
        }
        const expiresAt = now + OUTPUT_URL_LIFETIME_MS;
        return {
          state: 'succeeded',
          outputs: [{ index: 0, video: { kind: 'url', url, asset: 'video', expiresAt } }],
          completedAt: null,
          expiresAt,
        };
      }
      case 'FAILED': {
        const code = task.failureCode ?? 'FAILED';
        return {
          state: 'failed',
          kind: failureKind(task.failureCode),
          code,
          message: `${this.name}: task ${task.id} failed: ${task.failure} (${code})`,
        };
      }
      case 'CANCELLED':
        return {
          state: 'failed',
          kind: 'upstream',
          code: 'CANCELLED',
          message: `${this.name}: task ${task.id} was cancelled`,
        };
      default:
        return { state: 'unknown', raw: String((task as { status?: unknown }).status) };
    }
  }

  async #call<T>(operation: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw mapRunwayError(this.#context(operation, signal), error);
    }
  }

  #context(operation: string, signal: AbortSignal | undefined): ErrorContext {
    return {
      provider: this.name,
      operation,
      redactor: this.#options.redactor,
      now: this.#options.clock.now(),
      speed: clockSpeed(this.#options.clock),
      signal,
    };
  }
}

/**
 * Runway's failure codes (docs.dev.runwayml.com/errors/task-failures): `SAFETY.INPUT.*` / `SAFETY.OUTPUT.*`
 * (and `INPUT_PREPROCESSING.SAFETY.*`) are moderation, "do not retry"; `ASSET.INVALID` is an input Runway
 * could not use; `INTERNAL.BAD_OUTPUT.*` and the rest are Runway's own failures.
 */
export function failureKind(code: string | undefined): JobFailureKind {
  if (code === undefined) return 'upstream';
  if (/(^|\.)SAFETY(\.|$)/.test(code)) return 'safety';
  if (code.startsWith('ASSET.')) return 'invalid';
  return 'upstream';
}

/** Anything the SDK threw, as a ProviderError (or the caller's own abort reason). */
function mapRunwayError(context: ErrorContext, error: unknown): unknown {
  if (error instanceof ProviderError) return error;
  if (context.signal?.aborted === true) return context.signal.reason as unknown;
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionTimeoutError) return errorFromNetwork(context, error, true);
  if (error instanceof APIConnectionError) return errorFromNetwork(context, error.cause ?? error);
  if (error instanceof APIError && typeof error.status === 'number') {
    // Runway's error body: {"error": "text", "issues"?: [{path: [...], message}]}.
    const body = (error.error ?? {}) as { error?: unknown; issues?: unknown };
    const issue = Array.isArray(body.issues) ? (body.issues[0] as { path?: unknown } | undefined) : undefined;
    const param = Array.isArray(issue?.path) ? issue.path.join('.') : undefined;
    const text = typeof body.error === 'string' ? body.error : error.message.replace(/^\d{3}\s*/, '');
    const issues = Array.isArray(body.issues)
      ? (body.issues as { path?: unknown; message?: unknown }[])
          .map((i) => `${Array.isArray(i.path) ? i.path.join('.') : '?'}: ${String(i.message)}`)
          .join('; ')
      : '';
    // Runway refuses a prompt its moderation catches at create with a 400 and no code.
    const moderated = error.status === 400 && /moderation/i.test(text);
    return errorFromResponse(
      context,
      error.status,
      error.headers as Headers | undefined,
      {
        message: issues === '' ? text : `${text}: ${issues}`,
        code: moderated ? 'moderation_blocked' : undefined,
        param,
      },
      error,
    );
  }
  if (error instanceof RunwayMLError) {
    // Raised before any request was sent (a bad option, a missing key).
    return new ProviderError({
      kind: 'auth',
      message: context.redactor.redact(`${context.provider}: ${context.operation}: ${error.message}`),
      delivered: 'no',
      cause: sanitizeCause(error, context.redactor),
    });
  }
  return new ProviderError({
    kind: 'server',
    message: context.redactor.redact(
      `${context.provider}: ${context.operation}: unreadable response (${String(error)})`,
    ),
    delivered: 'yes',
    cause: sanitizeCause(error, context.redactor),
  });
}
