import type { ProviderError, ProviderErrorKind } from '../provider/types.ts';
import { unreachable } from '../core/unreachable.ts';

/**
 * When to retry a provider call and how long to wait first. Pure functions: the scheduler owns the loop,
 * the clock and the signal; these only decide.
 */
export interface RetryDelayOptions {
  /** 1 for the first retry, 2 for the second, … */
  readonly attempt: number;
  /**
   * The server's wish (`retry-after-ms`, else `retry-after` in seconds, already converted by the provider).
   * Honoured as given, clamped to `[0, maxRetryAfterMs]`: waiting less than the server asked only earns
   * another 429.
   */
  readonly retryAfterMs?: number | undefined;
  /**
   * First backoff step without a server hint.
   * @default 1000
   */
  readonly baseMs?: number;
  /**
   * Largest backoff without a server hint.
   * @default 60_000
   */
  readonly maxMs?: number;
  /**
   * Largest server-requested wait we honour as is (a broken proxy saying "retry in a day" is capped).
   * @default 600_000
   */
  readonly maxRetryAfterMs?: number;
  /**
   * A random number in [0, 1). Injected so tests are deterministic.
   * @default Math.random
   */
  readonly jitter?: () => number;
}

/**
 * Milliseconds to wait before retry number `attempt`. With a server hint: the hint (clamped). Without:
 * exponential backoff `baseMs * 2^(attempt-1)` capped at `maxMs`, with "equal jitter" (a uniformly random
 * point in the upper half: `[d/2, d)`), so many clients that failed together do not retry together, while
 * the wait still grows with each attempt.
 */
export function retryDelay(options: RetryDelayOptions): number {
  const { attempt } = options;
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 60_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 600_000;
  const jitter = options.jitter ?? Math.random;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new TypeError(`Expected \`attempt\` to be an integer >= 1, got ${String(attempt)}`);
  }
  for (const [name, value] of [
    ['baseMs', baseMs],
    ['maxMs', maxMs],
    ['maxRetryAfterMs', maxRetryAfterMs],
  ] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`Expected \`${name}\` to be a finite number >= 0, got ${String(value)}`);
    }
  }
  if (options.retryAfterMs !== undefined && !Number.isNaN(options.retryAfterMs)) {
    return Math.min(Math.max(0, options.retryAfterMs), maxRetryAfterMs);
  }
  const r = jitter();
  if (!(r >= 0 && r < 1))
    throw new TypeError(`Expected \`jitter()\` to return a number in [0, 1), got ${String(r)}`);
  // 2^(attempt-1) overflows to Infinity for huge attempts; min() keeps it finite.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

export type Operation = 'create' | 'read' | 'download';

/**
 * Whether a failed call may simply be sent again.
 *
 * - `create` (also remix and extend): only when a second request provably cannot make a second paid job:
 *   the first never reached the server (`delivered: 'no'`), or the server answered 429, which creates
 *   nothing. Anything else (`maybe`: a timeout or reset after sending; a 5xx, after which the job may or may
 *   not exist) must be reconciled through List first: see `createRecovery`.
 * - `read` (retrieve, list) and `download`: idempotent, so retried on connection errors, 5xx and 429.
 *   401/403, 400/409/422, 404 and moderation blocks are answers, not accidents, and are never retried.
 */
export function isRetryable(error: Pick<ProviderError, 'kind' | 'delivered'>, operation: Operation): boolean {
  switch (operation) {
    case 'create':
      return error.delivered === 'no' || error.kind === 'rate-limited';
    case 'read':
    case 'download':
      return transient(error.kind);
    default:
      return unreachable(operation);
  }
}

/** What the engine does after a failed create. */
export type CreateRecovery =
  /** Send it again (after `retryDelay`): the first request created nothing. */
  | 'retry'
  /** The job may exist: look for it through List (`reconcile` in journal.ts) before any new create. */
  | 'reconcile'
  /** Report the failure on the shot: the service refused the request as written, or credentials are wrong. */
  | 'give-up';

export function createRecovery(error: Pick<ProviderError, 'kind' | 'delivered'>): CreateRecovery {
  if (isRetryable(error, 'create')) return 'retry';
  // A refusal with a definite answer created nothing and will refuse again.
  if (error.delivered === 'yes' && !transient(error.kind)) return 'give-up';
  return transient(error.kind) ? 'reconcile' : 'give-up';
}

function transient(kind: ProviderErrorKind): boolean {
  switch (kind) {
    case 'rate-limited':
    case 'server':
    case 'connection':
      return true;
    case 'auth':
    case 'not-found':
    case 'invalid-request':
    case 'moderation-blocked':
      return false;
    default:
      return unreachable(kind);
  }
}
