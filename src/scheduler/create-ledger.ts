import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../cache/atomic-write.ts';
import { withFileLock } from '../cache/file-lock.ts';
import type { Clock } from '../core/clock.ts';
import { SlidingWindow } from './sliding-window.ts';

/**
 * The per-minute create ledger (design.md section 6), persisted at `<cacheDir>/quota/<provider>.json` and
 * SHARED by every sora-build process on the machine (two terminals, watch plus a one-off build): the
 * service's quota belongs to the API key, not to one process.
 *
 * - `acquireCreateSlot` takes the file lock (`<file>.lock`, see src/cache/file-lock.ts), reads the ledger,
 *   and if a slot is free *now* records it and writes the ledger back (atomic write) before releasing the
 *   lock, so two processes can never both take the last slot. Otherwise it releases the lock, sleeps on
 *   the clock until the computed free time, and tries again (another process may have taken it meanwhile).
 *   Only granted slots are recorded, so a process killed while waiting leaves nothing behind.
 * - Each slot is recorded when the create's response arrives (`settle`), never earlier than the service's
 *   own stamp, so "60 s after our record" is always more than 60 s after the service's: the window needs no
 *   safety margin: one would cost its length out of every minute of the quota (1 s is 1.7 %). `marginMs`
 *   remains for a service whose clock or counting is known to be looser.
 * - `penalise` (after a 429) blocks every process's window until `now + retryAfterMs`.
 * - Adaptive lowering: a 429 that follows the previous one within a window extends a *streak*; the
 *   effective limit is `limit - (streak - 1)`, floor 1 (a first, lone 429 only pauses: it may be a fluke such
 *   as another client on the same key). Every full window without a 429 shortens the streak by one, so the
 *   rate recovers one step per clean window.
 */
export interface CreateLedgerOptions {
  /** Absolute cache folder (`config.cacheDir`). */
  readonly cacheDir: string;
  /** Provider config name; one ledger per provider. */
  readonly provider: string;
  readonly clock: Clock;
  /**
   * Extra milliseconds each recorded create occupies beyond the window (see above).
   * @default 0
   */
  readonly marginMs?: number;
  /**
   * How long a 429 without `retry-after` blocks the window.
   * @default 10_000
   */
  readonly defaultPenaltyMs?: number;
  /**
   * Clock milliseconds between attempts to take the file lock.
   * @default 10
   */
  readonly lockRetryMs?: number;
}

export interface AcquireOptions {
  /** `creates_per_minute` from the provider config. A positive integer. */
  readonly limit: number;
  /**
   * @default 60_000
   */
  readonly windowMs?: number;
  /** Stops waiting; rejects with the signal's reason and records nothing. */
  readonly signal?: AbortSignal;
}

export interface CreateSlot {
  /** Clock time at which the slot was granted (and recorded). */
  readonly at: number;
  /** How long the caller waited for it (the reporter's "quota wait"). */
  readonly waitedMs: number;
  /** The limit in force when it was granted (lower than `limit` after repeated 429s). */
  readonly effectiveLimit: number;
}

export interface Penalty {
  /** Consecutive 429s, each within a window of the previous one. */
  readonly streak: number;
  /** Clock time of the last 429 (0 when none). */
  readonly lastAt: number;
}

export interface LedgerState {
  readonly version: 1;
  /** Granted creates (clock ms), oldest first, pruned to the window. */
  readonly events: readonly number[];
  /** No create before this clock time (after a 429). */
  readonly blockedUntil: number;
  readonly penalty: Penalty;
}

const EMPTY: LedgerState = { version: 1, events: [], blockedUntil: 0, penalty: { streak: 0, lastAt: 0 } };

/** The streak after the clean windows since the last 429 have each taken one off. Pure. */
export function decayedStreak(penalty: Penalty, now: number, windowMs: number): number {
  if (penalty.streak === 0) return 0;
  const cleanWindows = Math.max(0, Math.floor((now - penalty.lastAt) / windowMs));
  return Math.max(0, penalty.streak - cleanWindows);
}

/** The limit in force at `now`: `limit - (streak - 1)`, at least 1. Pure. */
export function effectiveLimit(limit: number, penalty: Penalty, now: number, windowMs: number): number {
  const streak = decayedStreak(penalty, now, windowMs);
  return Math.max(1, limit - Math.max(0, streak - 1));
}

/** The penalty after one more 429 at `now`. Pure. */
export function addStrike(penalty: Penalty, now: number, windowMs: number): Penalty {
  return { streak: decayedStreak(penalty, now, windowMs) + 1, lastAt: now };
}

/** How far ahead of this process's clock a recorded create may be (another process's clock skew). */
const FUTURE_TOLERANCE_MS = 5_000;
/** The longest pause a 429 can have asked for (retry-policy caps server hints at 10 minutes). */
const MAX_BLOCK_MS = 600_000;

export class CreateLedger {
  readonly path: string;
  readonly #options: Required<Omit<CreateLedgerOptions, 'cacheDir' | 'provider'>>;

  private constructor(path: string, options: Required<Omit<CreateLedgerOptions, 'cacheDir' | 'provider'>>) {
    this.path = path;
    this.#options = options;
  }

  static open(options: CreateLedgerOptions): CreateLedger {
    if (typeof options.cacheDir !== 'string' || options.cacheDir === '') {
      throw new TypeError(
        `Expected \`cacheDir\` to be a non-empty path, got ${JSON.stringify(options.cacheDir)}`,
      );
    }
    if (typeof options.provider !== 'string' || options.provider === '') {
      throw new TypeError(
        `Expected \`provider\` to be a non-empty name, got ${JSON.stringify(options.provider)}`,
      );
    }
    const marginMs = options.marginMs ?? 0;
    const defaultPenaltyMs = options.defaultPenaltyMs ?? 10_000;
    const lockRetryMs = options.lockRetryMs ?? 10;
    for (const [name, value] of [
      ['marginMs', marginMs],
      ['defaultPenaltyMs', defaultPenaltyMs],
      ['lockRetryMs', lockRetryMs],
    ] as const) {
      if (!(value >= 0) || !Number.isFinite(value)) {
        throw new TypeError(`Expected \`${name}\` to be a finite number >= 0, got ${String(value)}`);
      }
    }
    // Provider names come from YAML keys: encode them so no name can leave the quota folder.
    const file = `${encodeURIComponent(options.provider).replace(/^\.+/, (dots) => '%2E'.repeat(dots.length))}.json`;
    return new CreateLedger(join(options.cacheDir, 'quota', file), {
      clock: options.clock,
      marginMs,
      defaultPenaltyMs,
      lockRetryMs,
    });
  }

  /**
   * Waits (on the clock) until a create is allowed by every process's records, then records it. Call it
   * right before each create, remix or extend request.
   */
  async acquireCreateSlot(options: AcquireOptions): Promise<CreateSlot> {
    const { limit, signal } = options;
    const windowMs = options.windowMs ?? 60_000;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError(`Expected \`limit\` to be an integer >= 1, got ${String(limit)}`);
    }
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new TypeError(`Expected \`windowMs\` to be a positive finite number, got ${String(windowMs)}`);
    }
    const { clock } = this.#options;
    const started = clock.now();
    for (;;) {
      signal?.throwIfAborted();
      const outcome = await this.#locked<{ slot: CreateSlot } | { waitMs: number }>(signal, (state) => {
        const now = clock.now();
        const effective = effectiveLimit(limit, state.penalty, now, windowMs);
        const window = new SlidingWindow({
          limit: effective,
          windowMs: windowMs + this.#options.marginMs,
          events: state.events,
        });
        window.prune(now);
        const freeAt = Math.max(window.nextSlotAt(now), state.blockedUntil);
        if (freeAt > now) return Promise.resolve({ state: undefined, result: { waitMs: freeAt - now } });
        window.record(now);
        const slot: CreateSlot = { at: now, waitedMs: now - started, effectiveLimit: effective };
        return Promise.resolve({ state: { ...state, events: window.toJSON() }, result: { slot } });
      });
      if ('slot' in outcome) return outcome.slot;
      await clock.sleep(outcome.waitMs, signal);
    }
  }

  /**
   * Records a 429: no process creates before `now + retryAfterMs`, and a streak of 429s lowers the rate
   * (see above). Returns the state afterwards.
   */
  async penalise(
    options: { readonly retryAfterMs?: number | undefined; readonly windowMs?: number } = {},
  ): Promise<{
    readonly blockedUntil: number;
    readonly penalty: Penalty;
  }> {
    const windowMs = options.windowMs ?? 60_000;
    const retryAfterMs = options.retryAfterMs ?? this.#options.defaultPenaltyMs;
    if (!(retryAfterMs >= 0) || !Number.isFinite(retryAfterMs)) {
      throw new TypeError(
        `Expected \`retryAfterMs\` to be a finite number >= 0, got ${String(retryAfterMs)}`,
      );
    }
    return this.#locked(undefined, (state) => {
      const now = this.#options.clock.now();
      const next: LedgerState = {
        ...state,
        blockedUntil: Math.max(state.blockedUntil, now + retryAfterMs),
        penalty: addStrike(state.penalty, now, windowMs),
      };
      return Promise.resolve({
        state: next,
        result: { blockedUntil: next.blockedUntil, penalty: next.penalty },
      });
    });
  }

  /**
   * When the next create would be allowed, without taking it (for the reporter's "quota wait" and ETA).
   * The same rule as `acquireCreateSlot`: the sliding window under the effective limit, then any 429 block.
   */
  async nextFreeAt(options: Omit<AcquireOptions, 'signal'>): Promise<number> {
    const windowMs = options.windowMs ?? 60_000;
    const state = await this.snapshot();
    const now = this.#options.clock.now();
    const window = new SlidingWindow({
      limit: effectiveLimit(options.limit, state.penalty, now, windowMs),
      windowMs: windowMs + this.#options.marginMs,
      events: state.events,
    });
    return Math.max(window.nextSlotAt(now), state.blockedUntil);
  }

  /**
   * Moves a create recorded at `slotAt` (by `acquireCreateSlot`) to `answeredAt`, when its response came
   * back. The service stamps a create when it has received the whole request, which for an upload of a
   * reference image can be seconds after the slot was taken; the response time is never earlier than the
   * service's stamp, so the window measured from it never runs ahead of the service's.
   */
  async settle(slotAt: number, answeredAt: number): Promise<void> {
    await this.#locked(undefined, (state) => {
      const i = state.events.lastIndexOf(slotAt);
      if (i < 0 || answeredAt <= slotAt) return Promise.resolve({ state: undefined, result: undefined });
      const events = [...state.events];
      events[i] = answeredAt;
      events.sort((a, b) => a - b);
      return Promise.resolve({ state: { ...state, events }, result: undefined });
    });
  }

  /** The ledger as it is now (for status output and tests). */
  async snapshot(): Promise<LedgerState> {
    return this.#locked(undefined, (state) => Promise.resolve({ state: undefined, result: state }));
  }

  async #locked<T>(
    signal: AbortSignal | undefined,
    fn: (state: LedgerState) => Promise<{ state: LedgerState | undefined; result: T }>,
  ): Promise<T> {
    return withFileLock(
      `${this.path}.lock`,
      async () => {
        const { state, result } = await fn(await this.#read());
        if (state !== undefined)
          await atomicWrite(this.path, `${JSON.stringify(state)}\n`, { kind: 'ledger' });
        return result;
      },
      { clock: this.#options.clock, retryMs: this.#options.lockRetryMs, ...(signal ? { signal } : {}) },
    );
  }

  async #read(): Promise<LedgerState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return EMPTY;
    }
    try {
      const raw = JSON.parse(text) as Partial<LedgerState>;
      // Times far in the future were written under another clock (a run on a scaled test clock): no real
      // create can be in the future, and honouring them would stall this process until real time caught up.
      const now = this.#options.clock.now();
      const events = Array.isArray(raw.events)
        ? raw.events.filter((t) => Number.isFinite(t) && t <= now + FUTURE_TOLERANCE_MS)
        : [];
      const blockedUntil = Number.isFinite(raw.blockedUntil) ? (raw.blockedUntil as number) : 0;
      const penalty = raw.penalty;
      return {
        version: 1,
        events,
        blockedUntil: blockedUntil <= now + MAX_BLOCK_MS ? blockedUntil : 0,
        penalty:
          penalty && Number.isInteger(penalty.streak) && Number.isFinite(penalty.lastAt)
            ? { streak: penalty.streak, lastAt: penalty.lastAt }
            : EMPTY.penalty,
      };
    } catch {
      // A ledger we cannot read is rebuilt from scratch; the server's 429s remain the backstop.
      return EMPTY;
    }
  }
}
