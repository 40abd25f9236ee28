/**
 * Every wait in sora-build goes through a Clock (design.md section 7), so tests and benchmarks run minutes
 * of quota and rendering in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, in this clock's time. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason if it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Clock milliseconds per real millisecond (a ScaledClock's speed). @default 1 */
  readonly speed?: number;
}

/**
 * Clock milliseconds per real millisecond: 1 unless the clock runs scaled. Durations on the wire (`retry-after`,
 * `openai-poll-after-ms`, …) are real time, as a real service's are: a sped-up emulator divides its waits by
 * this before sending them, and a sped-up client multiplies what it reads by it, so any client on any clock
 * waits the right amount. Timestamps (`created_at`, …) stay on the clock.
 */
export function clockSpeed(clock: Clock): number {
  return clock.speed ?? 1;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

/** Sleeps `realMs` of real time. */
function realSleep(realMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, realMs),
    );
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wall-clock time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: realSleep,
};

export interface ScaledClockOptions {
  /** How many clock milliseconds pass per real millisecond (e.g. 60: one minute per real second). */
  readonly speed: number;
  /**
   * The real moment (Unix ms) at which this clock shows real time; from then on it runs `speed` times faster.
   * @default Date.now()
   */
  readonly epoch?: number;
}

/**
 * Time that runs `speed` times faster than real time from `epoch` on. Two processes given the same `epoch`
 * and `speed` agree on the time, which is how a test shares one scaled clock between the CLI and the
 * emulator (see `clockFromSpec`).
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  readonly epoch: number;

  constructor(options: ScaledClockOptions) {
    if (!(options.speed > 0) || !Number.isFinite(options.speed)) {
      throw new TypeError(`Expected \`speed\` to be a positive finite number, got ${options.speed}`);
    }
    this.speed = options.speed;
    this.epoch = options.epoch ?? Date.now();
  }

  now(): number {
    return this.epoch + (Date.now() - this.epoch) * this.speed;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return realSleep(ms / this.speed, signal);
  }
}

/**
 * A clock that only moves when told to: `advance(ms)` runs every sleeper whose time has come, in order.
 * For pure unit tests of scheduling logic.
 */
export class FakeClock implements Clock {
  #now: number;
  #sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  #seq = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const sleeper = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => {} };
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(abortError(signal!));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Number of pending sleeps. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, waking sleepers in time order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#sleepers[0];
      if (next === undefined || next.at > target) break;
      this.#sleepers.shift();
      this.#now = next.at;
      next.resolve();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * The clock a process should use, from its environment: `SORA_BUILD_CLOCK=scaled:<speed>[:<epochMs>]` gives a
 * ScaledClock (tests and benchmarks start the CLI and the emulator with the same value); anything else, the
 * system clock. Read by the CLI only; core modules take the clock they are given.
 */
export function clockFromSpec(spec: string | undefined): Clock {
  if (spec === undefined || spec === '') return systemClock;
  const m = /^scaled:([0-9.]+)(?::([0-9]+))?$/.exec(spec);
  if (m === null)
    throw new TypeError(`Expected SORA_BUILD_CLOCK to look like scaled:<speed>[:<epochMs>], got ${spec}`);
  const speed = Number(m[1]);
  return m[2] === undefined ? new ScaledClock({ speed }) : new ScaledClock({ speed, epoch: Number(m[2]) });
}
