/**
 * The per-minute create quota: a sliding window over the last 60 s of emulator time. Create, remix and
 * extend requests that make a job count; reads never do. (Some third-party pages claim the service also
 * counts rejected requests; the emulator counts only accepted ones, so validation tests do not eat quota.)
 */
const WINDOW_MS = 60_000;

export interface QuotaState {
  readonly limit: number;
  /** Slots free right now. */
  readonly remaining: number;
  /** Emulator milliseconds until the window is empty again (0 when it is). */
  readonly resetMs: number;
  /** Emulator milliseconds until one slot frees up (0 when one is free now, else at least 1). */
  readonly retryAfterMs: number;
}

export class CreateQuota {
  readonly #limit: number;
  #stamps: number[] = [];

  /** `limit` creates per minute; `Infinity` for none. */
  constructor(limit: number) {
    if (!(limit > 0))
      throw new TypeError(`Expected \`createsPerMinute\` to be a positive number, got ${limit}`);
    this.#limit = limit;
  }

  /** The window as seen at `now`. */
  state(now: number): QuotaState {
    while (this.#stamps.length > 0 && this.#stamps[0]! <= now - WINDOW_MS) this.#stamps.shift();
    const used = this.#stamps.length;
    const limit = Number.isFinite(this.#limit) ? this.#limit : Number.MAX_SAFE_INTEGER;
    const oldest = this.#stamps[0];
    const newest = this.#stamps[used - 1];
    return {
      limit,
      remaining: Math.max(0, limit - used),
      resetMs: newest === undefined ? 0 : Math.max(1, newest + WINDOW_MS - now),
      retryAfterMs: used < limit || oldest === undefined ? 0 : Math.max(1, oldest + WINDOW_MS - now),
    };
  }

  /** Takes one slot at `now` (after `state(now).remaining` was positive). */
  take(now: number): void {
    this.#stamps.push(now);
  }
}

/** OpenAI's reset-duration format: `850ms`, `12s`, `1m30s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const totalSeconds = Math.ceil(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${seconds > 0 ? `${seconds}s` : ''}` : `${seconds}s`;
}
