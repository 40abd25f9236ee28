/**
 * fal.ai's queue (`type: fal`) through the official `@fal-ai/client` (successor-apis.md section 3): submit
 * (`POST {endpoint}`), status (`GET …/requests/{id}/status`: IN_QUEUE, IN_PROGRESS, COMPLETED), result
 * (`GET …/requests/{id}`) and cancel (`PUT …/requests/{id}/cancel`). A model is an endpoint id; its input
 * fields are mapped from the shot in fal-inputs.ts.
 *
 * COMPLETED is not success: a content-policy block, bad input or a failed run surfaces only when the result
 * is fetched, so a poll that reads COMPLETED fetches the result at once and reports what it says.
 *
 * Retries: the client retries queue requests on its own (429, 502-504 and dropped connections, up to three
 * more times, with real sleeps), and a per-request setting overrides any configured one. Every call here
 * therefore runs under a guard signal that our `fetch` aborts as soon as an attempt fails, which the client
 * reads as "do not retry": the submit reaches fal at most once (a repeat after a lost answer would queue and
 * bill a second request), and reads are retried by the engine, the one layer that retries. The guard never
 * reaches the real request, so an answer already received is read whole. fal has no List and no idempotency
 * key: a submit whose answer is lost is reported `unreconciled` by the engine and never resent.
 */
import { ApiError, ValidationError, createFalClient } from '@fal-ai/client';
import type { FalClient } from '@fal-ai/client';
import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import { falInput } from './fal-inputs.ts';
import { fetchOutputUrl } from './fetch-output-url.ts';
import type {
  FetchedOutput,
  GenerationRequest,
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

/** Where `@fal-ai/client` sends queue requests; config `base_url` replaces it (an emulator's `…/fal/queue`). */
export const FAL_DEFAULT_BASE_URL = 'https://queue.fal.run';

export interface FalProviderOptions {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  /** Config `base_url`, else fal's queue (`https://queue.fal.run`). */
  readonly baseUrl: string;
  /** From FAL_KEY; never logged (the redactor knows it). */
  readonly apiKey: string;
  readonly clock: Clock;
  readonly redactor: SecretRedactor;
  /**
   * Per-request time limit until the response headers arrive, real ms.
   * @default 120_000
   */
  readonly timeoutMs?: number;
  readonly onClose?: () => Promise<void>;
}

/** One SDK call in flight: the caller's signal, and what the one attempt got back. */
interface Call {
  readonly guard: AbortController;
  readonly signal: AbortSignal | undefined;
  timedOut: boolean;
  headers: Headers | undefined;
}

interface FalVideoResult {
  readonly video?: { readonly url?: unknown };
}

export class FalProvider implements JobProvider {
  readonly name: string;
  readonly type = 'fal' as const;
  readonly family = 'fal' as const;
  readonly #options: FalProviderOptions;
  readonly #client: FalClient;
  readonly #calls = new WeakMap<AbortSignal, Call>();
  #closed = false;

  constructor(options: FalProviderOptions) {
    this.name = options.name;
    this.#options = options;
    options.redactor.add(options.apiKey);
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#client = createFalClient({
      // Always given: the client would otherwise read FAL_KEY from process.env itself.
      credentials: options.apiKey,
      ...(base !== FAL_DEFAULT_BASE_URL && {
        requestMiddleware: (request) =>
          Promise.resolve({ ...request, url: request.url.replace(FAL_DEFAULT_BASE_URL, base) }),
      }),
      fetch: (input, init) => this.#fetch(input, init),
      retry: { maxRetries: 0 },
    });
  }

  async submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }> {
    const mapped = falInput(request.model, request);
    if (!mapped.ok) {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: ${mapped.message}`,
        delivered: 'no',
      });
    }
    const { endpointId, input } = mapped;
    const queued = await this.#call('submit', options.signal, (abortSignal) =>
      this.#client.queue.submit(endpointId, { input, abortSignal }),
    );
    const handle: JobHandle = {
      type: 'fal',
      provider: this.name,
      id: queued.request_id,
      model: request.model,
      createdAt: this.#options.clock.now(),
      // Status, result and cancel are addressed by endpoint: kept so any process can resume.
      extra: { endpoint: endpointId },
    };
    return { handle, state: { state: 'queued', progress: null, pollAfterMs: null } };
  }

  async poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState> {
    const endpoint = endpointOf(handle);
    const requestId = handle.id;
    let status;
    try {
      status = await this.#call(`status of ${requestId}`, signal, (abortSignal) =>
        this.#client.queue.status(endpoint, { requestId, abortSignal }),
      );
    } catch (error) {
      const gone = goneState(error);
      if (gone !== undefined) return gone;
      throw error;
    }
    switch (status.status) {
      case 'IN_QUEUE':
        return { state: 'queued', progress: null, pollAfterMs: null };
      case 'IN_PROGRESS':
        return { state: 'running', progress: null, pollAfterMs: null };
      case 'COMPLETED':
        return this.#result(endpoint, requestId, signal);
      default:
        return { state: 'unknown', raw: String((status as { status?: unknown }).status) };
    }
  }

  fetch(output: OutputRef, signal?: AbortSignal): Promise<FetchedOutput> {
    return fetchOutputUrl(output, {
      context: this.#context('download output', signal),
      timeoutMs: this.#options.timeoutMs ?? 120_000,
    });
  }

  async cancel(handle: JobHandle, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call(`cancel ${handle.id}`, signal, (abortSignal) =>
        this.#client.queue.cancel(endpointOf(handle), { requestId: handle.id, abortSignal }),
      );
    } catch (error) {
      // 400 ALREADY_COMPLETED: nothing left to stop.
      if (error instanceof ProviderError && error.status === 400) return;
      throw error;
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#options.onClose?.() ?? Promise.resolve();
  }

  /** A COMPLETED request's result: the video, or the failure fal reports only here. */
  async #result(endpoint: string, requestId: string, signal: AbortSignal | undefined): Promise<JobState> {
    let data: FalVideoResult;
    try {
      const result = await this.#call(`result of ${requestId}`, signal, (abortSignal) =>
        this.#client.queue.result(endpoint, { requestId, abortSignal }),
      );
      data = result.data as FalVideoResult;
    } catch (error) {
      const failed = resultFailure(this.name, requestId, error);
      if (failed !== undefined) return failed;
      throw error;
    }
    const url = data.video?.url;
    if (typeof url !== 'string' || url === '') {
      return {
        state: 'failed',
        kind: 'upstream',
        code: 'no_video',
        message: `${this.name}: request ${requestId} completed without a video`,
      };
    }
    // fal keeps result files for as long as the account's storage setting says: not known here.
    return {
      state: 'succeeded',
      outputs: [{ index: 0, video: { kind: 'url', url, asset: 'video', expiresAt: null } }],
      completedAt: null,
      expiresAt: null,
    };
  }

  /** One SDK call, with retries off (see the module comment) and errors mapped to ProviderError. */
  async #call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    run: (guard: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const call: Call = { guard: new AbortController(), signal, timedOut: false, headers: undefined };
    this.#calls.set(call.guard.signal, call);
    try {
      return await run(call.guard.signal);
    } catch (error) {
      throw this.#mapError(operation, call, error);
    }
  }

  /** The client's fetch: the real request under the caller's signal and a time limit, never the guard. */
  async #fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const call =
      init?.signal === undefined || init.signal === null ? undefined : this.#calls.get(init.signal);
    if (call === undefined) throw new Error('internal error: a fal request outside FalProvider#call');
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      call.timedOut = true;
      timeout.abort(new Error('timed out'));
    }, this.#options.timeoutMs ?? 120_000);
    const signal =
      call.signal === undefined ? timeout.signal : AbortSignal.any([call.signal, timeout.signal]);
    try {
      const response = await fetch(input, { ...init, signal });
      call.headers = response.headers;
      if (!response.ok) call.guard.abort();
      return response;
    } catch (error) {
      call.guard.abort();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #mapError(operation: string, call: Call, error: unknown): unknown {
    const context = this.#context(operation, call.signal);
    if (error instanceof ProviderError) return error;
    if (call.signal?.aborted === true) return call.signal.reason as unknown;
    if (error instanceof ApiError) {
      const apiError = error as ApiError<unknown>;
      const mapped = errorFromResponse(
        context,
        apiError.status,
        call.headers,
        { message: detailText(apiError.body) ?? apiError.message, code: undefined, param: undefined },
        error,
      );
      if (error instanceof ValidationError) fieldErrorsOf.set(mapped, error.fieldErrors);
      return mapped;
    }
    if (call.timedOut) return errorFromNetwork(context, error, true);
    if (error instanceof TypeError && /fetch failed/i.test(error.message))
      return errorFromNetwork(context, error.cause ?? error);
    return new ProviderError({
      kind: 'server',
      message: context.redactor.redact(
        `${context.provider}: ${context.operation}: unreadable response (${String(error)})`,
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

function endpointOf(handle: JobHandle): string {
  const endpoint = handle.extra?.endpoint;
  // Older handles without it cannot exist (this adapter always writes it); the model is the next best guess.
  return typeof endpoint === 'string' ? endpoint : handle.model;
}

/** A 404 from the queue: the request id is unknown to fal (expired, or never its). */
function goneState(error: unknown): JobState | undefined {
  if (!(error instanceof ProviderError) || error.status !== 404) return undefined;
  return { state: 'failed', kind: 'gone', code: 'not_found', message: error.message };
}

/**
 * What a result fetch's error says about the request, when it is the request's own outcome rather than a
 * passing failure: 422 (`content_policy_violation` is safety, any other field error invalid input), 400 for
 * a cancelled request, 404 gone, 500 a failed run (fal's client does not retry a result's 500: it is the
 * run's answer, not a hiccup). 429, 502-504, auth and network failures are thrown for the engine to retry.
 */
function resultFailure(provider: string, requestId: string, error: unknown): JobState | undefined {
  if (!(error instanceof ProviderError) || error.status === undefined) return undefined;
  const prefix = `${provider}: request ${requestId}`;
  switch (error.status) {
    case 422: {
      const fields = fieldErrorsOf.get(error) ?? [];
      const safety = fields.some((f) => f.type === 'content_policy_violation');
      const reasons = fields.map(
        (f) => `${f.loc.filter((l) => l !== 'body').join('.') || 'input'}: ${f.msg}`,
      );
      return {
        state: 'failed',
        kind: safety ? 'safety' : 'invalid',
        code: safety ? 'content_policy_violation' : 'validation_error',
        message: `${prefix} ${safety ? 'was blocked by the content checker' : 'was refused'}: ${reasons.join('; ') || error.message}`,
      };
    }
    case 400:
      // "still in progress" cannot follow COMPLETED; anything else at 400 is the request's end (cancelled).
      if (/in progress/i.test(error.message)) return undefined;
      return { state: 'failed', kind: 'upstream', code: 'cancelled', message: `${prefix}: ${error.message}` };
    case 404:
      return { state: 'failed', kind: 'gone', code: 'not_found', message: error.message };
    case 500:
      return { state: 'failed', kind: 'upstream', code: 'run_failed', message: error.message };
    default:
      return undefined;
  }
}

/** The field errors of a 422, remembered by the ProviderError it became (whose cause chain is sanitised). */
const fieldErrorsOf = new WeakMap<ProviderError, readonly FieldError[]>();

interface FieldError {
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
}

/** fal's `detail`: a string, or Pydantic's list of `{loc, msg, type}`. */
function detailText(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const detail = (body as { detail?: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d: { loc?: unknown; msg?: unknown }) =>
        Array.isArray(d.loc)
          ? `${d.loc.filter((l) => l !== 'body').join('.')}: ${String(d.msg)}`
          : String(d.msg),
      )
      .join('; ');
  }
  return undefined;
}
