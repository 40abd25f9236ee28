import { ApiError, GenerateVideosOperation, GoogleGenAI } from '@google/genai';
import type { GoogleGenAIOptions, HttpOptions } from '@google/genai';
import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type {
  FetchedOutput,
  GenerationRequest,
  JobHandle,
  JobProvider,
  JobState,
  OutputRef,
  SubmitOptions,
} from './job-api.ts';
import { errorFromNetwork, sanitizeCause, type ErrorContext } from './map-provider-error.ts';
import type { SecretRedactor } from './redact.ts';
import { ProviderError, type ProviderErrorKind } from './types.ts';
import { RAI_MESSAGE, veoJobState, veoParameters } from './vertex-veo-request.ts';

/** Where Veo lives when the config does not say (the region Google's Veo pages use). */
export const VERTEX_DEFAULT_LOCATION = 'us-central1';

export interface VertexVeoProviderOptions {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  /** The Google Cloud project the operations are billed to. */
  readonly project: string;
  /** The Vertex region (`us-central1`, `global`, …). */
  readonly location: string;
  /** The service's root (`http://127.0.0.1:PORT` for the emulator); undefined = the SDK's regional default. */
  readonly baseUrl: string | undefined;
  /**
   * How the SDK obtains credentials. Undefined = Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
   * `gcloud auth application-default login`, or the metadata server); tests pass an `authClient` holding a token.
   */
  readonly googleAuthOptions?: GoogleGenAIOptions['googleAuthOptions'];
  readonly clock: Clock;
  readonly redactor: SecretRedactor;
  /**
   * Per-request time limit. A finished operation carries its videos inline (several MB of base64 each), so
   * this is generous. @default 300_000
   */
  readonly timeoutMs?: number;
}

/**
 * Veo 3.1 on Vertex AI (Gemini Enterprise Agent Platform) through `@google/genai` with `vertexai: true`
 * (spec/successor-apis.md section 1):
 * - submit is one `models.generateVideos` (`:predictLongRunning`); the SDK's retries are off (it retries only
 *   when `httpOptions.retryOptions` is set, and this adapter never sets it), so a lost answer is never resent;
 *   Vertex takes no idempotency key and has no list, so such a submit is left to the engine to report;
 * - the handle's id is the full operation name; poll rebuilds a real `GenerateVideosOperation` from it (the SDK
 *   calls a method on the object it is given, so a plain object crashes it: js-genai#1074) and the SDK sends
 *   `:fetchPredictOperation` (a plain GET of the name is a 404 on Vertex);
 * - the videos come back inline in the finished operation (no `storageUri` is ever sent), so `fetch` of an
 *   inline output needs no request; a `gs://` output is refused with what to do instead;
 * - Veo has no cancel and no delete.
 * Every call is one attempt; the engine is the one layer that retries reads and waits out a 429.
 */
export class VertexVeoProvider implements JobProvider {
  readonly name: string;
  readonly type = 'vertex-veo' as const;
  readonly family: ProviderFamily = 'vertex-veo';
  readonly #options: VertexVeoProviderOptions;
  /** One SDK client per region: a handle made under another `location` is polled where it lives. */
  readonly #clients = new Map<string, GoogleGenAI>();

  constructor(options: VertexVeoProviderOptions) {
    this.name = options.name;
    this.#options = options;
  }

  async submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }> {
    const params = veoParameters(request);
    if (!params.ok) {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: ${request.model}: ${params.problems.join('; ')}`,
        delivered: 'no',
      });
    }
    const { signal } = options;
    const client = this.#client(this.#options.location);
    const operation = await this.#call('create', signal, (httpOptions) =>
      client.models.generateVideos({
        ...params.value,
        config: { ...params.value.config, httpOptions, ...(signal !== undefined && { abortSignal: signal }) },
      }),
    );
    const name = operation.name;
    if (name === undefined || !/\/operations\/[^/]+$/.test(name)) {
      // The service took the request (and may bill it) but named no operation to poll.
      throw new ProviderError({
        kind: 'server',
        message: `${this.name}: create: Vertex answered without an operation name (${JSON.stringify(name ?? null)})`,
        delivered: 'yes',
      });
    }
    const handle: JobHandle = {
      type: 'vertex-veo',
      provider: this.name,
      id: name,
      model: request.model,
      createdAt: this.#options.clock.now(),
      // What the SDK's poll addresses (section 5: record it beside the name).
      extra: { resourceName: name.split('/operations/')[0]! },
    };
    const state = veoJobState(operation);
    return { handle, state: state.state === 'running' ? { ...state, state: 'queued' } : state };
  }

  async poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState> {
    const operation = new GenerateVideosOperation();
    operation.name = handle.id;
    const client = this.#client(locationOf(handle.id) ?? this.#options.location);
    const answer = await this.#call(`poll ${shortName(handle.id)}`, signal, (httpOptions) =>
      client.operations.getVideosOperation({ operation, config: { httpOptions } }),
    );
    return veoJobState(answer);
  }

  fetch(output: OutputRef): Promise<FetchedOutput> {
    switch (output.kind) {
      case 'inline': {
        const bytes = output.bytes;
        return Promise.resolve({
          body: new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes);
              controller.close();
            },
          }),
          contentLength: bytes.byteLength,
          contentType: output.mime,
        });
      }
      case 'gcs':
        return Promise.reject(
          new ProviderError({
            kind: 'invalid-request',
            message:
              `${this.name}: Veo wrote this video to ${output.uri}, which sora-build does not read. Copy it with ` +
              '`gcloud storage cp`, or remove the output bucket so that Veo returns the video inline',
            delivered: 'no',
          }),
        );
      case 'content':
      case 'url':
        return Promise.reject(new Error(`internal error: a Veo job has no ${output.kind} outputs`));
    }
  }

  close(): Promise<void> {
    this.#clients.clear();
    return Promise.resolve();
  }

  #client(location: string): GoogleGenAI {
    let client = this.#clients.get(location);
    if (client === undefined) {
      const { baseUrl, googleAuthOptions } = this.#options;
      client = quietly(
        () =>
          new GoogleGenAI({
            vertexai: true,
            project: this.#options.project,
            location,
            ...(googleAuthOptions !== undefined && { googleAuthOptions }),
            httpOptions: {
              ...(baseUrl !== undefined && { baseUrl }),
              timeout: this.#options.timeoutMs ?? 300_000,
            },
          }),
      );
      this.#clients.set(location, client);
    }
    return client;
  }

  /**
   * One SDK call, its failure mapped. The SDK is handed our own `fetch` so that we know how far a failed call
   * got: not sent (the credentials could not be had), sent without an answer (network), or answered.
   */
  async #call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (httpOptions: HttpOptions) => Promise<T>,
  ): Promise<T> {
    let sent = false;
    let answered = false;
    const tracked: typeof fetch = async (input, init) => {
      sent = true;
      const signals = [init?.signal, signal].filter((s): s is AbortSignal => s !== undefined && s !== null);
      const response = await fetch(input, {
        ...init,
        ...(signals.length > 0 && { signal: AbortSignal.any(signals) }),
      });
      answered = true;
      return response;
    };
    try {
      return await call({ fetch: tracked });
    } catch (error) {
      throw this.#mapError(this.#context(operation, signal), error, { sent, answered });
    }
  }

  #mapError(
    context: ErrorContext,
    error: unknown,
    progress: { readonly sent: boolean; readonly answered: boolean },
  ): unknown {
    if (error instanceof ProviderError) return error;
    if (context.signal?.aborted === true) return context.signal.reason as unknown;
    if (error instanceof ApiError) return googleApiError(context, error);
    const detail = error instanceof Error ? error.message : String(error);
    if (!progress.sent) {
      // Nothing left this machine: Application Default Credentials could not give a token.
      return new ProviderError({
        kind: 'auth',
        message: context.redactor.redact(
          `${context.provider}: ${context.operation}: no Google credentials (${detail}). Run ` +
            '`gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a key file, or run ' +
            'where the metadata server gives a service account token; the request was not sent',
        ),
        delivered: 'no',
        cause: sanitizeCause(error, context.redactor),
      });
    }
    if (!progress.answered) {
      const name = error instanceof Error ? error.name : '';
      return errorFromNetwork(context, error, name === 'AbortError' || name === 'TimeoutError');
    }
    // A 2xx whose body could not be read: the service did act on the request.
    return new ProviderError({
      kind: 'server',
      message: context.redactor.redact(
        `${context.provider}: ${context.operation}: unreadable response (${detail})`,
      ),
      delivered: 'yes',
      cause: sanitizeCause(error, context.redactor),
    });
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
 * The SDK's ApiError (status + the body as JSON text, `{"error":{code,message,status,details}}`) as a
 * ProviderError. A 429's wait is in the body's google.rpc.RetryInfo (`retryDelay: "1.5s"`), real time, turned
 * into clock time; a 400 in Responsible-AI words is a moderation refusal (nothing was made or billed).
 */
export function googleApiError(context: ErrorContext, error: ApiError): ProviderError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(error.message);
    const inner = isRecord(parsed) ? parsed['error'] : undefined;
    if (isRecord(inner)) body = inner;
  } catch {
    body = { message: error.message };
  }
  const message = typeof body['message'] === 'string' ? body['message'] : 'request failed';
  const status = typeof body['status'] === 'string' ? body['status'] : undefined;
  let kind: ProviderErrorKind;
  if (error.status === 400 && RAI_MESSAGE.test(message)) kind = 'moderation-blocked';
  else if (error.status === 429) kind = 'rate-limited';
  else if (error.status === 401 || error.status === 403) kind = 'auth';
  else if (error.status === 404 || error.status === 410) kind = 'not-found';
  else if (error.status === 408 || error.status >= 500) kind = 'server';
  else kind = 'invalid-request';
  const realWait = kind === 'rate-limited' ? retryDelayMs(body['details']) : undefined;
  const details = [
    status !== undefined ? `code ${status}` : undefined,
    realWait !== undefined ? `retry after ${realWait} ms` : undefined,
  ].filter((s) => s !== undefined);
  return new ProviderError({
    kind,
    message: context.redactor.redact(
      `${context.provider}: ${context.operation}: ${error.status} ${message}${details.length > 0 ? ` (${details.join(', ')})` : ''}`,
    ),
    status: error.status,
    ...(status !== undefined && { code: status }),
    ...(realWait !== undefined && { retryAfterMs: realWait * (context.speed ?? 1) }),
    delivered: 'yes',
    cause: sanitizeCause(error, context.redactor),
  });
}

/** `retryDelay` of the first google.rpc.RetryInfo in `details` (`"1.500s"`), in ms. */
function retryDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (!isRecord(d) || !String(d['@type']).endsWith('google.rpc.RetryInfo')) continue;
    const delay = d['retryDelay'];
    const m = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
    if (m !== null) return Math.round(Number(m[1]) * 1000);
    if (isRecord(delay)) {
      const seconds = Number(delay['seconds'] ?? 0) + Number(delay['nanos'] ?? 0) / 1e9;
      if (Number.isFinite(seconds)) return Math.round(seconds * 1000);
    }
  }
  return undefined;
}

/**
 * Runs the SDK's constructor with its console notes silenced: with GOOGLE_API_KEY or GEMINI_API_KEY in the
 * environment beside an explicit project it `console.debug`s which one wins (onto stdout, where it would break
 * `--reporter json`), and only cli/ and reporter/ print. The project and ADC win here, as configured.
 */
function quietly<T>(make: () => T): T {
  /* eslint-disable no-console -- this silences the SDK for one synchronous call; it prints nothing itself */
  const { debug, warn } = console;
  console.debug = () => undefined;
  console.warn = () => undefined;
  try {
    return make();
  } finally {
    console.debug = debug;
    console.warn = warn;
  }
  /* eslint-enable no-console */
}

function locationOf(operationName: string): string | undefined {
  return /^projects\/[^/]+\/locations\/([^/]+)\//.exec(operationName)?.[1];
}

/** `…/models/veo-3.1-generate-001/operations/abc` -> `veo-3.1-generate-001/operations/abc`, for messages. */
function shortName(operationName: string): string {
  return /[^/]+\/operations\/[^/]+$/.exec(operationName)?.[0] ?? operationName;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
