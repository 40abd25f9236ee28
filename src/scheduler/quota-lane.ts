/**
 * A concurrency lane with priorities: at most `concurrency` tasks run at once; waiting tasks start in
 * priority order (higher first: the engine passes the critical-path length, so the longest remaining chain
 * starts first), first-in first-out among equal priorities. One lane per kind of work (create, poll,
 * download). Our own instead of p-queue: the few rules the scheduler needs (priority, abort while waiting,
 * `onIdle`, `clear` for --fail-fast, a concurrency change after repeated 429s) fit in this file and are
 * tested directly.
 */
export interface QuotaLaneOptions {
  /** Tasks running at once. A positive integer or Infinity. */
  readonly concurrency: number;
}

export interface AddOptions {
  /**
   * Higher starts first.
   * @default 0
   */
  readonly priority?: number;
  /**
   * While the task waits, aborting removes it and rejects with the signal's reason. Once started, the task
   * gets the same signal and decides itself.
   */
  readonly signal?: AbortSignal;
}

interface Waiting {
  readonly priority: number;
  readonly seq: number;
  readonly start: () => void;
  readonly reject: (reason: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export class QuotaLane {
  #concurrency: number;
  #running = 0;
  #seq = 0;
  #waiting: Waiting[] = [];
  #idleWaiters: (() => void)[] = [];

  constructor(options: QuotaLaneOptions) {
    this.#concurrency = checkConcurrency(options.concurrency);
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  /** Changes the limit; raising it starts waiting tasks at once, lowering it lets running tasks finish. */
  set concurrency(value: number) {
    this.#concurrency = checkConcurrency(value);
    this.#pump();
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting to start. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a place is free and resolves with its result. */
  add<T>(task: (signal: AbortSignal | undefined) => Promise<T>, options: AddOptions = {}): Promise<T> {
    const priority = options.priority ?? 0;
    if (typeof priority !== 'number' || Number.isNaN(priority)) {
      throw new TypeError(`Expected \`priority\` to be a number, got ${String(priority)}`);
    }
    const { signal } = options;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const waiting: Waiting = {
        priority,
        seq: this.#seq++,
        signal,
        reject,
        start: () => {
          this.#running++;
          void (async () => {
            try {
              resolve(await task(signal));
            } catch (error) {
              // Forwarded as is: the caller sees exactly what its task threw (a ProviderError, …).
              // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
              reject(error);
            } finally {
              this.#running--;
              this.#pump();
            }
          })();
        },
        onAbort: () => {
          this.#waiting = this.#waiting.filter((w) => w !== waiting);
          reject(abortReason(signal!));
          this.#checkIdle();
        },
      };
      signal?.addEventListener('abort', waiting.onAbort, { once: true });
      // Keep the queue sorted: after every entry of higher or equal priority (FIFO among equals).
      let i = this.#waiting.length;
      while (i > 0 && this.#waiting[i - 1]!.priority < priority) i--;
      this.#waiting.splice(i, 0, waiting);
      this.#pump();
    });
  }

  /** Resolves when nothing runs and nothing waits. */
  onIdle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Rejects every waiting task with `reason` (--fail-fast, Ctrl-C); running tasks are left to finish. */
  clear(reason: Error = new Error('The lane was cleared')): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) {
      w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(reason);
    }
    this.#checkIdle();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      next.signal?.removeEventListener('abort', next.onAbort);
      next.start();
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#running === 0 && this.#waiting.length === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/** The name in the brief; the same class. */
export { QuotaLane as Lane };

/** The signal's reason when it is an Error (as AbortSignal.abort(reason) callers pass), else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

function checkConcurrency(value: number): number {
  if (!(value === Infinity || (Number.isInteger(value) && value >= 1))) {
    throw new TypeError(`Expected \`concurrency\` to be an integer >= 1 or Infinity, got ${String(value)}`);
  }
  return value;
}
