/**
 * The one retry layer for reads (design.md, style.md: "retries live in one layer"). Adapters make one
 * attempt per call; the engine decides here whether to try again, and says so with a `retry` event every
 * time it does, so what the user sees is what was sent.
 */
import type { ShotId } from '../core/brand.ts';
import type { RetryReason } from '../core/events.ts';
import { ProviderError } from '../provider/types.ts';
import { isRetryable, retryDelay } from '../scheduler/retry-policy.ts';
import type { JobContext } from './job-types.ts';

/** Attempts per read (retrieve, list) and per download before giving up on transient errors. */
export const MAX_READ_ATTEMPTS = 6;

export async function withReadRetries<T>(
  shot: ShotId | null,
  ctx: Pick<JobContext, 'clock' | 'emit' | 'random'>,
  operation: 'retrieve' | 'list',
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (
        !(error instanceof ProviderError) ||
        !isRetryable(error, 'read') ||
        attempt >= MAX_READ_ATTEMPTS ||
        signal.aborted
      )
        throw error;
      const delayMs = retryDelay({
        attempt,
        retryAfterMs: error.retryAfterMs,
        baseMs: 1000,
        maxMs: 30_000,
        jitter: ctx.random,
      });
      ctx.emit({
        type: 'retry',
        time: ctx.clock.now(),
        shot,
        operation,
        attempt: attempt + 1,
        delayMs,
        reason: retryReason(error),
        message: error.message,
      });
      await ctx.clock.sleep(delayMs, signal);
    }
  }
}

export function retryReason(error: ProviderError): RetryReason {
  return error.kind === 'rate-limited' ? 'rate-limited' : error.kind === 'server' ? 'server' : 'connection';
}
