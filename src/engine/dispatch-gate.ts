/**
 * The create lane's front door. Creates are decided one at a time, highest priority first (the longest
 * remaining chain of dependants, design.md section 6), and each holds one of `maxInFlight` permits from the
 * moment it is dispatched until its job is queued-or-rendering no more.
 *
 * Deciding one at a time matters: if every ready shot waited on the per-minute window by itself, the window
 * would hand slots out in whatever order the timers fired, not in critical-path order.
 */
export interface DispatchGateOptions {
  /** Jobs that may be queued or in progress at once (`max_in_flight`). */
  readonly maxInFlight: number;
}

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly resolve: (release: () => void) => void;
  readonly reject: (reason: unknown) => void;
}

export class DispatchGate {
  readonly #maxInFlight: number;
  #inFlight = 0;
  #turnTaken = false;
  #waiters: Waiter[] = [];
  #permitWaiters: (() => void)[] = [];
  #seq = 0;

  constructor(options: DispatchGateOptions) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new TypeError(
        `Expected \`maxInFlight\` to be an integer >= 1, got ${String(options.maxInFlight)}`,
      );
    }
    this.#maxInFlight = options.maxInFlight;
  }

  /** The configured `max_in_flight`. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Jobs holding a permit. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Shots waiting for their turn. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for this caller's turn (highest priority first, FIFO among equals). The returned `endTurn` must be
   * called once the create request has been answered, so the next caller may start.
   */
  turn(priority: number, signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason as Error);
      };
      const waiter: Waiter = {
        priority,
        seq: this.#seq++,
        resolve: (endTurn) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(endTurn);
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#waiters.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      this.#next();
    });
  }

  /**
   * Called during one's turn: waits until fewer than `maxInFlight` jobs hold a permit, then takes one.
   * Resumed jobs take permits with `takePermit` directly.
   */
  async acquirePermit(signal?: AbortSignal): Promise<void> {
    while (this.#inFlight >= this.#maxInFlight) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal!.reason as Error);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#permitWaiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#inFlight++;
  }

  /** Takes a permit without waiting (a job resumed from the journal is already on the service). */
  takePermit(): void {
    this.#inFlight++;
  }

  releasePermit(): void {
    if (this.#inFlight === 0) throw new Error('internal error: permit released twice');
    this.#inFlight--;
    const wake = this.#permitWaiters.splice(0);
    for (const w of wake) w();
  }

  #next(): void {
    if (this.#turnTaken) return;
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return;
    this.#turnTaken = true;
    let ended = false;
    waiter.resolve(() => {
      if (ended) return;
      ended = true;
      this.#turnTaken = false;
      this.#next();
    });
  }
}
