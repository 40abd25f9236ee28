import { describe, expect, it } from 'vitest';
import { nextPollDelay, predictRemaining } from '../../src/scheduler/poll-policy.ts';
import type { PollObservation } from '../../src/scheduler/poll-policy.ts';

/** A small deterministic PRNG (mulberry32) so the simulation is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Render {
  /** Total render time (create to completed). */
  renderMs: number;
  /** Part of it spent queued (progress 0). */
  queueMs: number;
  /** The learned estimate handed to the policy (null: none yet). */
  estimateMs: number | null;
}

/** Polls a simulated job the way the scheduler does; returns the poll count and how late completion was seen. */
function simulate(render: Render, jitter: () => number): { polls: number; lateMs: number } {
  const observations: PollObservation[] = [];
  let t = 0;
  for (let polls = 1; polls < 1000; polls++) {
    t += nextPollDelay({ elapsedMs: t, observations, estimateMs: render.estimateMs, jitter });
    if (t >= render.renderMs) return { polls, lateMs: t - render.renderMs };
    // Progress is linear while rendering and reported as an integer, like the API.
    const progress =
      t < render.queueMs ? 0 : Math.floor((100 * (t - render.queueMs)) / (render.renderMs - render.queueMs));
    observations.push({ elapsedMs: t, progress });
  }
  throw new Error('never finished');
}

const allowedLateness = (renderMs: number) => Math.max(5000, 0.05 * renderMs);
/** The share of the allowance the schedule plans to use near a predicted completion (reserveFraction 0.4). */
const PLANNED = 0.6;

describe('nextPollDelay on simulated renders', () => {
  const renders: Render[] = [];
  for (const renderMs of [8_000, 20_000, 45_000, 120_000, 300_000, 900_000]) {
    for (const queueFraction of [0, 0.1, 0.3]) {
      for (const estimateFactor of [null, 0.7, 1, 1.25, 1.5]) {
        renders.push({
          renderMs,
          queueMs: renderMs * queueFraction,
          estimateMs: estimateFactor === null ? null : renderMs * estimateFactor,
        });
      }
    }
  }

  it('notices every completion within max(5 s, 5 % of the render time), within 60 % of it once learned', () => {
    const random = prng(42);
    const misses: string[] = [];
    for (const render of renders) {
      // A learned estimate puts the job in the predicted phase, where 40 % of the allowance is kept in
      // reserve for acting on the answer; a first render of its kind may end during the dense cold polls.
      const allowed = allowedLateness(render.renderMs) * (render.estimateMs === null ? 1 : PLANNED);
      for (let run = 0; run < 20; run++) {
        const { lateMs } = simulate(render, random);
        if (lateMs > allowed) misses.push(`${JSON.stringify(render)} late by ${lateMs} ms`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('polls a 2-minute render at most 6 times once a duration has been learned (about 5), 12 cold', () => {
    const random = prng(7);
    const learned: number[] = [];
    const cold: number[] = [];
    for (const render of renders.filter((r) => r.renderMs === 120_000)) {
      for (let run = 0; run < 20; run++) {
        const { polls } = simulate(render, random);
        (render.estimateMs === null ? cold : learned).push(polls);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // learned estimate anywhere from 0.7x to 1.5x the truth, with or without a queue
    expect(Math.max(...learned)).toBeLessThanOrEqual(6);
    expect(mean(learned)).toBeLessThanOrEqual(5.5);
    // first render of its kind: dense polls until two progress figures give a rate (and through a queue)
    expect(Math.max(...cold)).toBeLessThanOrEqual(12);
  });
});

describe('nextPollDelay rules', () => {
  const mid = () => 0.5; // no jitter
  it('polls densely (max(5 s, 5 %) / 1.1) when nothing is known', () => {
    expect(nextPollDelay({ elapsedMs: 0, observations: [], estimateMs: null, jitter: mid })).toBe(4545);
    expect(nextPollDelay({ elapsedMs: 200_000, observations: [], estimateMs: null, jitter: mid })).toBe(9091);
  });

  it('sleeps until shortly before the predicted end', () => {
    // learned 120 s: margin 40 % -> (120 - 48) / 1.1
    expect(nextPollDelay({ elapsedMs: 0, observations: [], estimateMs: 120_000, jitter: mid })).toBe(65_455);
    // two progress figures: 30 s left by the fastest rate the figures allow; margin max(0.6 * dense, 10 %) =
    // max(2727, 3000) -> (30 - 3) / 1.1
    const observations = [
      { elapsedMs: 60_000, progress: 40 },
      { elapsedMs: 90_000, progress: 69 },
    ];
    expect(predictRemaining({ elapsedMs: 90_000, observations, estimateMs: null })).toEqual({
      remainingMs: 30_000,
      basis: 'rate',
    });
    expect(nextPollDelay({ elapsedMs: 90_000, observations, estimateMs: null, jitter: mid })).toBe(24_545);
  });

  it('jitters by ±10 %, honours openai-poll-after-ms as a floor, and clamps to [minMs, maxMs]', () => {
    const base = { elapsedMs: 0, observations: [], estimateMs: 120_000 };
    expect(nextPollDelay({ ...base, jitter: () => 0 })).toBe(58_909);
    expect(nextPollDelay({ ...base, jitter: () => 0.9999999 })).toBe(72_000);
    expect(nextPollDelay({ ...base, estimateMs: null, pollAfterMs: 20_000, jitter: mid })).toBe(20_000);
    expect(nextPollDelay({ ...base, estimateMs: 3_600_000, jitter: mid })).toBe(120_000);
    expect(nextPollDelay({ ...base, estimateMs: null, jitter: mid }, { minMs: 6000 })).toBe(6000);
  });

  it('rejects bad input with precise TypeErrors', () => {
    const base = { elapsedMs: 0, observations: [], estimateMs: null };
    expect(() => nextPollDelay({ ...base, elapsedMs: -1 })).toThrow(
      'Expected `elapsedMs` to be a finite number >= 0, got -1',
    );
    expect(() => nextPollDelay(base, { minMs: 10, maxMs: 5 })).toThrow(
      'Expected `maxMs` (5) to be >= `minMs` (10)',
    );
    expect(() => nextPollDelay(base, { jitterFraction: 1 })).toThrow(TypeError);
    expect(() => nextPollDelay(base, { reserveFraction: 1 })).toThrow(
      'Expected `reserveFraction` to be in [0, 1), got 1',
    );
    expect(() => nextPollDelay({ ...base, estimateMs: 0 })).toThrow(TypeError);
  });
});
