/**
 * How long to wait before polling a render job again. A PURE function of what we know: the time since the
 * create, the progress figures seen so far, and a learned estimate of the total render time for this
 * (model, size, seconds) (see duration-estimates.ts).
 *
 * Two aims, both checked by test/scheduler/poll-policy.test.ts on simulated renders:
 * - few polls: once a duration has been learned (within 0.7x-1.5x of the truth), a 2-minute render is
 *   polled about 5 times and never more than 6; the very first render of its kind, with no estimate, needs
 *   dense polls until two progress figures give a rate: about 9 polls, up to 12 behind a long queue;
 * - prompt notice: completion is seen within `max(5 s, 5 % of the render time)`, and near a predicted
 *   completion (where nearly every job is seen to finish) within 60 % of that: the rest is a reserve for
 *   acting on the answer (the poll's round trip, the download request, a busy event loop), so the download
 *   *starts* within the allowance.
 *
 * The schedule that gets both: sleep until just before the *predicted* completion, keeping a safety margin
 * that shrinks as the prediction gets better, then poll densely. Concretely, with `t` the time since the
 * create:
 *
 *   lateBound(t) = max(lateFloorMs, lateFraction * t)       the allowed lateness if completion were now
 *   dense(t)     = lateBound(t) / (1 + jitterFraction)      so that even a +10 % jittered sleep stays within it
 *   remaining    = predicted time to completion (below), or unknown
 *   near(t)      = (1 - reserveFraction) * dense(t)          the dense step once a completion is predicted
 *   margin       = max(near, c * remaining), c = 0.1 with a rate from two progress figures, else 0.4
 *                  (the learned estimate, alone or capped by one progress figure)
 *   delay        = (remaining - margin) / (1 + jitterFraction)   when that exceeds near, else near;
 *                  dense when nothing is predicted
 *
 * Why the dense phase bounds the lateness: a poll at `t` that still sees the job running means the render
 * time R > t, so the next poll at most `lateBound(t) <= lateBound(R)` later (`0.6 lateBound(t)` near a
 * prediction) is on time. Why the long sleeps do not overshoot: `remaining` is a *lower* bound on linear
 * progress (progress figures are integers, so each could be up to 1 below the truth; the rate is taken from
 * the pessimistic ends), and the jittered sleep still ends `margin` before it. Only the learned estimate alone can overshoot, when it is more than
 * ~1.6x the real time; the first poll then returns progress and the prediction switches to it.
 *
 * Then: the server's `openai-poll-after-ms` is a floor (it asked us not to come sooner), and the result is
 * clamped to `[minMs, maxMs]`.
 */
export interface PollObservation {
  /** Milliseconds since the create when this poll's answer arrived. */
  readonly elapsedMs: number;
  /** The job's progress then (0-100), or null when the API has none or the job was still queued. */
  readonly progress: number | null;
}

export interface PollDelayInput {
  /** Milliseconds since the create, now. */
  readonly elapsedMs: number;
  /** Polls so far, oldest first. */
  readonly observations: readonly PollObservation[];
  /** Learned total render time (create to completion) for this kind of job, or null. */
  readonly estimateMs: number | null;
  /** The last response's `openai-poll-after-ms`, if any. */
  readonly pollAfterMs?: number | null;
  /**
   * A random number in [0, 1) for the ±jitter.
   * @default Math.random
   */
  readonly jitter?: () => number;
}

export interface PollPolicyOptions {
  /** @default 1000 */
  readonly minMs?: number;
  /** @default 120_000 */
  readonly maxMs?: number;
  /** Lateness always allowed, however short the render. @default 5000 */
  readonly lateFloorMs?: number;
  /** Lateness allowed as a fraction of the render time. @default 0.05 */
  readonly lateFraction?: number;
  /** Each delay is multiplied by a random factor in [1 - f, 1 + f], so jobs created together spread out. @default 0.1 */
  readonly jitterFraction?: number;
  /**
   * The part of the allowed lateness the schedule does not plan to use: it is kept for acting on the answer
   * (the poll's own round trip, the download request, a busy event loop), so completion is *acted on*
   * within the allowance, not merely seen. @default 0.4
   */
  readonly reserveFraction?: number;
}

/** The prediction behind a delay, exposed for the reporter's ETA and for tests. */
export interface Prediction {
  /** Milliseconds from now to the predicted completion (a low estimate), or null when too little is known. */
  readonly remainingMs: number | null;
  /**
   * What it rests on: `rate` (two progress figures), `point` (one figure, capped by the estimate; null
   * without one: a queue before rendering makes one figure say little), `estimate` (learned only), `none`.
   */
  readonly basis: 'rate' | 'point' | 'estimate' | 'none';
}

export function predictRemaining(input: Omit<PollDelayInput, 'jitter' | 'pollAfterMs'>): Prediction {
  const now = input.elapsedMs;
  const withProgress = input.observations.filter(
    (o): o is { elapsedMs: number; progress: number } =>
      o.progress !== null && o.progress > 0 && o.progress < 100,
  );
  const last = withProgress.at(-1);
  if (last !== undefined) {
    // The earliest earlier figure that is lower gives the longest, steadiest baseline.
    const first = withProgress.find((o) => o.progress < last.progress && o.elapsedMs < last.elapsedMs);
    if (first !== undefined) {
      // True progress is in [p, p + 1): the fastest rate consistent with both figures.
      const rate = (last.progress + 1 - first.progress) / (last.elapsedMs - first.elapsedMs);
      const fromLast = Math.max(0, 99 - last.progress) / rate;
      return { remainingMs: Math.max(0, fromLast - (now - last.elapsedMs)), basis: 'rate' };
    }
    // One figure: the rendering started at some unknown moment after the last poll that saw no progress
    // (a queue), so one figure bounds the remaining time only from above. With a learned estimate, trust
    // the smaller of the two; without one, poll densely once more to get a rate.
    const zeros = input.observations.filter((o) => o.progress === 0 && o.elapsedMs < last.elapsedMs);
    const baseline = zeros.at(-1)?.elapsedMs ?? 0;
    const upper =
      ((100 - last.progress) / last.progress) * (last.elapsedMs - baseline) - (now - last.elapsedMs);
    if (input.estimateMs === null) return { remainingMs: null, basis: 'point' };
    return { remainingMs: Math.max(0, Math.min(upper, input.estimateMs - now)), basis: 'point' };
  }
  if (input.estimateMs !== null)
    return { remainingMs: Math.max(0, input.estimateMs - now), basis: 'estimate' };
  return { remainingMs: null, basis: 'none' };
}

const queuedBackoff = 0.5;

const MARGIN: Record<Prediction['basis'], number> = { rate: 0.1, point: 0.4, estimate: 0.4, none: 1 };

/** Milliseconds to wait before the next poll (see the schedule above). */
export function nextPollDelay(input: PollDelayInput, options: PollPolicyOptions = {}): number {
  const minMs = options.minMs ?? 1000;
  const maxMs = options.maxMs ?? 120_000;
  const lateFloorMs = options.lateFloorMs ?? 5000;
  const lateFraction = options.lateFraction ?? 0.05;
  const jitterFraction = options.jitterFraction ?? 0.1;
  const reserveFraction = options.reserveFraction ?? 0.4;
  for (const [name, value] of [
    ['minMs', minMs],
    ['maxMs', maxMs],
    ['lateFloorMs', lateFloorMs],
    ['elapsedMs', input.elapsedMs],
  ] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`Expected \`${name}\` to be a finite number >= 0, got ${String(value)}`);
    }
  }
  if (maxMs < minMs) throw new TypeError(`Expected \`maxMs\` (${maxMs}) to be >= \`minMs\` (${minMs})`);
  if (!(lateFraction >= 0 && lateFraction < 1)) {
    throw new TypeError(`Expected \`lateFraction\` to be in [0, 1), got ${String(lateFraction)}`);
  }
  if (!(jitterFraction >= 0 && jitterFraction < 1)) {
    throw new TypeError(`Expected \`jitterFraction\` to be in [0, 1), got ${String(jitterFraction)}`);
  }
  if (!(reserveFraction >= 0 && reserveFraction < 1)) {
    throw new TypeError(`Expected \`reserveFraction\` to be in [0, 1), got ${String(reserveFraction)}`);
  }
  if (input.estimateMs !== null && !(input.estimateMs > 0)) {
    throw new TypeError(
      `Expected \`estimateMs\` to be a positive number or null, got ${String(input.estimateMs)}`,
    );
  }
  const r = (input.jitter ?? Math.random)();
  if (!(r >= 0 && r < 1))
    throw new TypeError(`Expected \`jitter()\` to return a number in [0, 1), got ${String(r)}`);

  const lateBound = Math.max(lateFloorMs, lateFraction * input.elapsedMs);
  const dense = lateBound / (1 + jitterFraction);
  const prediction = predictRemaining(input);
  let base = dense;
  const sawProgress = input.observations.some((o) => o.progress !== null && o.progress > 0);
  if (prediction.basis === 'none' && input.observations.length > 0 && !sawProgress) {
    // Still queued (or an API without progress) and no learned estimate: back off with the elapsed time
    // rather than poll a long queue every few seconds. A job still queued at `t` rarely renders in less
    // than half of `t`, and the first progress figure switches back to the schedule above.
    base = Math.max(dense, queuedBackoff * input.elapsedMs);
  }
  if (prediction.remainingMs !== null) {
    // Near a predicted completion, where nearly every job is finally seen, the reserve is kept back.
    const near = (1 - reserveFraction) * dense;
    const margin = Math.max(near, MARGIN[prediction.basis] * prediction.remainingMs);
    const sleep = (prediction.remainingMs - margin) / (1 + jitterFraction);
    base = sleep > near ? sleep : near;
  }
  let delay = base * (1 + jitterFraction * (2 * r - 1));
  if (input.pollAfterMs !== null && input.pollAfterMs !== undefined && input.pollAfterMs > 0) {
    delay = Math.max(delay, input.pollAfterMs);
  }
  return Math.round(Math.min(maxMs, Math.max(minMs, delay)));
}
