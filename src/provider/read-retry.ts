import type { Clock } from '../core/clock.ts';
import { ProviderError } from './types.ts';

export interface ReadRetryOptions {
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  /**
   * Waits before each retry, in clock milliseconds; its length is the number of retries.
   * @default [500, 2000]
   */
  readonly delaysMs?: readonly number[];
}

/**
 * Retries a read (retrieve, list page, download, delete) after a connection failure or a 5xx/408. Reads
 * are safe to repeat; creates never come through here. The SDK's own retries are off everywhere because
 * they sleep in real time, and every wait in sora-build goes through the Clock. A 429 is not retried here:
 * the scheduler owns the rate and reacts to it.
 */
export async function withReadRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: ReadRetryOptions,
): Promise<T> {
  const delays = options.delaysMs ?? [500, 2000];
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const delay = delays[n];
      if (delay === undefined || !isTransient(error) || options.signal?.aborted === true) throw error;
      await options.clock.sleep(delay, options.signal);
    }
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof ProviderError && (error.kind === 'connection' || error.kind === 'server');
}
