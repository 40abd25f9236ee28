/**
 * The in-process lanes of one engine (design.md section 6), as p-queue queues: each limit is taken and
 * given back by the queue around the task it runs, so nothing can leak a permit on a throw (style.md:
 * resources are released where they are taken). The per-minute create window is not here: it is shared
 * by every process through a file (src/scheduler/create-ledger.ts), which p-queue cannot do.
 *
 *   inFlight   max_in_flight: a job holds a place from the moment it is dispatched until the service
 *              says it is no longer queued or rendering. Highest critical-path priority first.
 *   turns      one create decided at a time (slot, journal intent, request), highest priority first: if
 *              every ready shot waited on the per-minute window by itself, the window would hand slots out
 *              in whatever order the timers fired, not in critical-path order.
 *   polls      bounded concurrent retrieve requests.
 *   downloads  bounded concurrent content streams.
 */
import PQueue from 'p-queue';

export interface LanesOptions {
  /** `max_in_flight` from the provider's quota. */
  readonly maxInFlight: number;
  /** @default 4 */
  readonly downloads?: number;
  /** @default 8 */
  readonly polls?: number;
}

export interface Lanes {
  readonly inFlight: PQueue;
  readonly turns: PQueue;
  readonly polls: PQueue;
  readonly downloads: PQueue;
}

export function createLanes(options: LanesOptions): Lanes {
  const positive = (name: string, value: number): number => {
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`Expected \`${name}\` to be an integer >= 1, got ${String(value)}`);
    }
    return value;
  };
  return {
    inFlight: new PQueue({ concurrency: positive('maxInFlight', options.maxInFlight) }),
    turns: new PQueue({ concurrency: 1 }),
    polls: new PQueue({ concurrency: positive('polls', options.polls ?? 8) }),
    downloads: new PQueue({ concurrency: positive('downloads', options.downloads ?? 4) }),
  };
}

/** Whether a queue's places are all taken (a new task would wait). */
export function isFull(queue: PQueue): boolean {
  return queue.pending >= queue.concurrency;
}

/** Returned by `runInLane` when `signal` aborted before the task started. */
export const NOT_STARTED: unique symbol = Symbol('not started');

/**
 * Runs `task` in `queue` at `priority`. `signal` cancels only while the task waits for its place; once it
 * runs, the task alone decides how to stop (p-queue's own `signal` would reject the caller and free the
 * place while the task still runs, which for a job on the service means a permit given back too early).
 */
export async function runInLane<T>(
  queue: PQueue,
  task: () => Promise<T>,
  options: { readonly priority?: number; readonly signal?: AbortSignal } = {},
): Promise<T | typeof NOT_STARTED> {
  const { signal } = options;
  if (signal?.aborted === true) return NOT_STARTED;
  const whileQueued = new AbortController();
  const onAbort = (): void => whileQueued.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let started = false;
  try {
    return await queue.add(
      () => {
        started = true;
        signal?.removeEventListener('abort', onAbort);
        return task();
      },
      { priority: options.priority ?? 0, signal: whileQueued.signal },
    );
  } catch (error) {
    if (!started && whileQueued.signal.aborted) return NOT_STARTED;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
