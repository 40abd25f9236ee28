import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import type { RemoteVideo } from './types.ts';
import { ProviderError, type ProviderErrorKind } from './types.ts';
import type { SecretRedactor } from './redact.ts';
import { isModerationCode } from './moderation-codes.ts';

/** What a mapper needs to know about the call that failed. */
export interface ErrorContext {
  /** The provider's config name, first word of every message. */
  readonly provider: string;
  /** `create`, `retrieve video_123`, … */
  readonly operation: string;
  readonly redactor: SecretRedactor;
  /** The provider's clock, to turn an HTTP-date `retry-after` into a delay. */
  readonly now: number;
  /**
   * Clock ms per real ms (`clockSpeed`): a server's `retry-after` is real time, turned into clock time here.
   * @default 1
   */
  readonly speed?: number;
  readonly signal?: AbortSignal | undefined;
}

export { isModerationCode };

/**
 * Connection errors that happen before a single byte of the request left this machine: the server cannot
 * have acted on the request, so even a create may be sent again. Everything else (reset, "other side
 * closed", timeouts) may have happened after the server read the request.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Walks `cause` chains and AggregateError members looking for a "never sent" socket error code. */
export function deliveryOfNetworkError(error: unknown): 'no' | 'maybe' {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return 'no';
    stack.push((e as { cause?: unknown }).cause);
    if (e instanceof AggregateError) stack.push(...(e.errors as unknown[]));
  }
  return 'maybe';
}

/**
 * The server's requested wait: `retry-after-ms` (float milliseconds) first, then `retry-after` (seconds or
 * an HTTP-date, measured against `now`).
 */
export function retryAfterMs(headers: Headers | undefined, now: number): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms !== null && ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const after = headers?.get('retry-after');
  if (after !== null && after !== undefined && after.trim() !== '') {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const at = Date.parse(after);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return undefined;
}

/** The kind for an HTTP error status, with moderation codes taking precedence over the status. */
export function kindOfStatus(status: number, code: string | undefined): ProviderErrorKind {
  if (isModerationCode(code) && status < 500) return 'moderation-blocked';
  if (status === 429) return 'rate-limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 408 || status >= 500) return 'server';
  return 'invalid-request';
}

/** The fields of an error body, wrapped (`{"error":{…}}`, OpenAI and Azure v1) or flat (Sora 1's spec). */
export interface ErrorBody {
  readonly message: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
}

export function parseErrorBody(body: unknown): ErrorBody {
  const outer = isRecord(body) ? body : undefined;
  const inner = outer !== undefined && isRecord(outer['error']) ? outer['error'] : outer;
  const innerError = inner !== undefined && isRecord(inner['inner_error']) ? inner['inner_error'] : undefined;
  const code = stringOrUndefined(inner?.['code']) ?? stringOrUndefined(innerError?.['code']);
  // Azure puts the moderation verdict in inner_error.code while `code` stays generic.
  const innerCode = stringOrUndefined(innerError?.['code']);
  return {
    message: stringOrUndefined(inner?.['message']),
    code: isModerationCode(innerCode) ? innerCode : code,
    param: stringOrUndefined(inner?.['param']),
  };
}

/** A ProviderError for an HTTP response that was not 2xx. */
export function errorFromResponse(
  context: ErrorContext,
  status: number,
  headers: Headers | undefined,
  body: ErrorBody,
  cause?: unknown,
): ProviderError {
  const kind = kindOfStatus(status, body.code);
  const realWait = kind === 'rate-limited' ? retryAfterMs(headers, context.now) : undefined;
  const wait = realWait === undefined ? undefined : realWait * (context.speed ?? 1);
  const details = [
    body.code !== undefined ? `code ${body.code}` : undefined,
    body.param !== undefined ? `param ${body.param}` : undefined,
    // The server's own figure (real ms), as it sent it.
    realWait !== undefined ? `retry after ${realWait} ms` : undefined,
  ].filter((s) => s !== undefined);
  const text = `${status} ${body.message ?? statusText(status)}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  return new ProviderError({
    kind,
    message: context.redactor.redact(`${context.provider}: ${context.operation}: ${text}`),
    status,
    ...(body.code !== undefined ? { code: body.code } : {}),
    ...(body.param !== undefined ? { param: body.param } : {}),
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    delivered: 'yes',
    cause: sanitizeCause(cause, context.redactor),
  });
}

/** A ProviderError for a request that got no HTTP response at all. */
export function errorFromNetwork(context: ErrorContext, error: unknown, timedOut = false): ProviderError {
  const delivered = timedOut ? 'maybe' : deliveryOfNetworkError(error);
  const reason = timedOut
    ? 'the request timed out'
    : delivered === 'no'
      ? `could not connect (${describeChain(error)}); the request was not sent`
      : `the connection failed after the request may have been sent (${describeChain(error)})`;
  return new ProviderError({
    kind: 'connection',
    message: context.redactor.redact(`${context.provider}: ${context.operation}: ${reason}`),
    delivered,
    cause: sanitizeCause(error, context.redactor),
  });
}

/**
 * Maps anything the openai SDK threw. An abort by the caller is not a provider failure: the signal's own
 * reason is returned so the caller sees its cancellation.
 */
export function mapSdkError(context: ErrorContext, error: unknown): unknown {
  if (error instanceof ProviderError) return error;
  if (context.signal?.aborted === true) return context.signal.reason as unknown;
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionTimeoutError) return errorFromNetwork(context, error, true);
  if (error instanceof APIConnectionError) return errorFromNetwork(context, error.cause ?? error);
  if (error instanceof APIError) {
    const apiError = error as APIError<number | undefined, Headers | undefined, object | undefined>;
    if (apiError.status !== undefined) {
      const inner: unknown = apiError.error;
      const body = parseErrorBody(inner === undefined ? undefined : { error: inner });
      // The SDK's own message ("400 …") already holds the server's text when the body was not JSON.
      const message = body.message ?? apiError.message.replace(/^\d{3}\s*/, '');
      return errorFromResponse(context, apiError.status, apiError.headers, { ...body, message }, error);
    }
  }
  // Our token provider failed inside the SDK's apiKey hook: rethrow our own error unchanged.
  const inner = findProviderError(error);
  if (inner !== undefined) return inner;
  if (error instanceof OpenAIError) {
    // Raised before any request was sent (bad option, token function failed).
    return new ProviderError({
      kind: 'auth',
      message: context.redactor.redact(`${context.provider}: ${context.operation}: ${error.message}`),
      delivered: 'no',
      cause: sanitizeCause(error, context.redactor),
    });
  }
  // A 2xx whose body could not be read or parsed: the server did act on the request.
  return new ProviderError({
    kind: 'server',
    message: context.redactor.redact(
      `${context.provider}: ${context.operation}: unreadable response (${describeChain(error)})`,
    ),
    delivered: 'yes',
    cause: sanitizeCause(error, context.redactor),
  });
}

/**
 * A failed job is not a thrown error (the call succeeded), but the scheduler reports it the same way: this
 * turns a `failed` RemoteVideo into the ProviderError that describes it (`moderation-blocked` for the
 * moderation codes, else `server`), or undefined when the video did not fail.
 */
export function remoteFailure(provider: string, video: RemoteVideo): ProviderError | undefined {
  if (video.status !== 'failed') return undefined;
  const code = video.error?.code;
  const message = video.error?.message ?? 'the job failed without a message';
  return new ProviderError({
    kind: isModerationCode(code) ? 'moderation-blocked' : 'server',
    message: `${provider}: ${video.id} failed: ${message}${code !== undefined ? ` (code ${code})` : ''}`,
    ...(code !== undefined ? { code } : {}),
    delivered: 'yes',
  });
}

function findProviderError(error: unknown): ProviderError | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e !== null && typeof e === 'object'; depth++) {
    if (e instanceof ProviderError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A copy of an error chain with every message redacted and no reference to the original objects (which can
 * hold request headers), so `cause` never leaks a key or token.
 */
export function sanitizeCause(error: unknown, redactor: SecretRedactor, depth = 0): Error | undefined {
  if (error === undefined || error === null || depth > 6) return undefined;
  const source = error instanceof Error ? error : new Error(describeValue(error));
  const inner = sanitizeCause((source as { cause?: unknown }).cause, redactor, depth + 1);
  const copy = new Error(redactor.redact(source.message), inner === undefined ? {} : { cause: inner });
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

function describeChain(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e !== null && e !== undefined; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${e.message} [${code}]` : e.message);
      e = e.cause;
    } else {
      parts.push(describeValue(e));
      break;
    }
  }
  return parts.filter((p) => p !== '').join(': ') || 'unknown error';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function statusText(status: number): string {
  if (status === 429) return 'too many requests';
  if (status >= 500) return 'server error';
  return 'request failed';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
