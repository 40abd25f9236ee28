/**
 * A pure sliding-window rate limiter: at most `limit` events in any window of `windowMs`. It holds only
 * timestamps and never reads a clock; callers pass `now` (from their Clock), which keeps it trivially
 * testable and lets the create ledger persist and share its state between processes.
 *
 * Semantics: an event recorded at `t` occupies a slot during `[t, t + windowMs)`. A new event may happen at
 * `now` when fewer than `limit` recorded events satisfy `t > now - windowMs`. That is the service's rule
 * ("N creates per rolling minute"), so a schedule this accepts is one the service accepts, given the
 * requests arrive in the order and at the times recorded.
 */
export interface SlidingWindowOptions {
  /** Events allowed in any window. A positive integer. */
  readonly limit: number;
  /** Window length in milliseconds. A positive number. */
  readonly windowMs: number;
  /** Events already recorded (e.g. loaded from the ledger file); any order. @default [] */
  readonly events?: readonly number[];
}

export class SlidingWindow {
  readonly limit: number;
  readonly windowMs: number;
  #events: number[];

  constructor(options: SlidingWindowOptions) {
    assertLimit(options.limit);
    assertWindow(options.windowMs);
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#events = [...(options.events ?? [])].sort((a, b) => a - b);
    for (const t of this.#events) {
      if (!Number.isFinite(t))
        throw new TypeError(`Expected \`events\` to hold finite numbers, got ${String(t)}`);
    }
  }

  /** Recorded events still inside the window at `now`, oldest first. */
  eventsAt(now: number): readonly number[] {
    return this.#events.filter((t) => t > now - this.windowMs);
  }

  /**
   * The earliest time >= `now` at which one more event fits: `now` when fewer than `limit` events are in the
   * window, else the moment the oldest event that must leave does so. Events recorded in the future (a
   * reservation) count too.
   */
  nextSlotAt(now: number, limit: number = this.limit): number {
    assertLimit(limit);
    const W = this.windowMs;
    let candidate = now;
    // An event at `candidate` is allowed when no window of length W holding it would hold `limit` recorded
    // events too. Future reservations count, so check groups of `limit` consecutive events around the
    // candidate: the group e[i..i+limit-1] shares a window with the candidate iff
    // max(last, candidate) - min(first, candidate) < W. If one does, the candidate moves to first + W and the
    // check repeats; it only moves forward, so this ends.
    for (;;) {
      const near = this.#events.filter((t) => t > candidate - W && t < candidate + W);
      let moved = false;
      for (let i = 0; i + limit - 1 < near.length; i++) {
        const first = near[i]!;
        const last = near[i + limit - 1]!;
        if (Math.max(last, candidate) - Math.min(first, candidate) < W) {
          candidate = first + W;
          moved = true;
          break;
        }
      }
      if (!moved) return candidate;
    }
  }

  /** Records an event at `at`. */
  record(at: number): void {
    if (!Number.isFinite(at)) throw new TypeError(`Expected \`at\` to be a finite number, got ${String(at)}`);
    // Keep sorted; events normally arrive in order, so this is an append.
    let i = this.#events.length;
    while (i > 0 && this.#events[i - 1]! > at) i--;
    this.#events.splice(i, 0, at);
  }

  /** Drops events that can no longer affect any decision at or after `now`. */
  prune(now: number): void {
    this.#events = this.eventsAt(now) as number[];
  }

  /** All recorded events, oldest first (for persisting). */
  toJSON(): number[] {
    return [...this.#events];
  }
}

function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError(`Expected \`limit\` to be an integer >= 1, got ${String(limit)}`);
  }
}

function assertWindow(windowMs: number): void {
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
    throw new TypeError(`Expected \`windowMs\` to be a positive finite number, got ${String(windowMs)}`);
  }
}
