/**
 * Crash points: the real CLI is SIGKILLed at its N-th durable write (the test-only switch in
 * src/core/test-faults.ts) during a build of a 4-shot storyboard with a remix chain, then simply run again.
 * In the end every shot is built, the service made exactly one video per shot, every file in out/ and in
 * the store matches its digest, the lockfile parses, and the API key is in no file and no output.
 *
 * `crash-at-write:N` (the write's side effects done, the write not: where a paid result could be lost or
 * paid twice) is swept for every N the build makes. `crash-after-write:N` (the write done, nothing after
 * it) is mostly the same state as `crash-at-write:N+1` minus the work between two writes, so it is sampled
 * every CRASH_AFTER_STRIDE-th N to keep `npm test` short; `npm run soak` kills at random points instead.
 */
import { describe, expect, it, vi } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { moneyProject, storyboard } from '../support/money-project.ts';

vi.setConfig({ testTimeout: 300_000 });

const STORYBOARD = storyboard({ shots: 2, remixChain: 2 });
const PROMPTS = ['Shot s1.', 'Shot s2.', 'Remix r1.', 'Remix r2.'];
/** Scenarios run at once (each is two CLI processes in sequence). */
const PARALLEL = 2;
const CRASH_AFTER_STRIDE = 5;

/**
 * One crash at `fault`, then a plain rerun: what went wrong (empty when all is well), or undefined when the
 * build finished before the N-th write (N is past the end).
 */
async function crashThenRestart(fault: string): Promise<string[] | undefined> {
  const project = await moneyProject({ storyboard: STORYBOARD });
  try {
    const crashed = await project.build([], { env: { SORA_BUILD_TEST_FAULTS: fault } });
    if (crashed.signal !== 'SIGKILL') {
      return crashed.code === 0 ? undefined : [`the run with the switch failed (${crashed.code})`];
    }
    const problems: string[] = [];
    const rerun = await project.build([], { timeoutMs: 90_000 });
    if (rerun.code !== 0) {
      const tail = (rerun.stdout + rerun.stderr).trim().split('\n').slice(-8).join(' | ');
      problems.push(`restart exit ${rerun.code}: ${tail}`);
    }
    const videos = await project.videosPerPrompt();
    const made = PROMPTS.map((p) => videos[p] ?? 0);
    if (made.some((n) => n !== 1)) problems.push(`videos made per shot ${made.join(',')}`);
    problems.push(...(await project.integrityProblems()));
    problems.push(...(await project.secretLeaks()).map((l) => `API key in ${l}`));
    return problems;
  } finally {
    await project.close();
  }
}

/** Runs `crashThenRestart` for N = first, first + stride, … (PARALLEL at a time) until N is past the end. */
async function sweep(mode: string, stride: number): Promise<{ points: number; failures: string[] }> {
  const failures: string[] = [];
  let points = 0;
  for (let n = 1; ; n += stride * PARALLEL) {
    const batch = Array.from({ length: PARALLEL }, (_, i) => n + i * stride);
    const outcomes = await Promise.all(batch.map((k) => crashThenRestart(`${mode}:${k}`)));
    let done = false;
    outcomes.forEach((outcome, i) => {
      if (outcome === undefined) done = true;
      else {
        points++;
        if (outcome.length > 0) failures.push(`${mode}:${batch[i]}: ${outcome.join('; ')}`);
      }
    });
    if (done) return { points, failures };
  }
}

describe('a kill -9 at a durable write, then a restart', () => {
  it('crash-at-write: every N ends with each shot built once', async () => {
    const { points, failures } = await sweep('crash-at-write', 1);
    expect(points).toBeGreaterThan(20); // the switch really sees the build's writes
    expect(failures).toEqual([]);
  });

  it(`crash-after-write: every ${CRASH_AFTER_STRIDE}th N ends with each shot built once`, async () => {
    const { points, failures } = await sweep('crash-after-write', CRASH_AFTER_STRIDE);
    expect(points).toBeGreaterThan(5);
    expect(failures).toEqual([]);
  });

  // A claim used to be created with open('wx') and then written, so a kill -9 between the two left an empty
  // claim file that the next build waited on for `staleMs` (60 s). Claims are now linked into place whole,
  // and an unreadable claim is taken over at once.
  it('a claim file a kill left empty does not stall the next build', async () => {
    const project = await moneyProject({ storyboard: storyboard({ shots: 1 }) });
    try {
      const plan = await project.run(['plan', '--json']);
      const key = /"key":\s*"([0-9a-f]{64})"/.exec(plan.stdout)?.[1];
      expect(key).toBeDefined();
      await mkdir(join(project.dir, '.sora-build', 'claims'), { recursive: true });
      await writeFile(join(project.dir, '.sora-build', 'claims', `${key}.json`), '');
      const build = await project.build([], { timeoutMs: 20_000 });
      expect(build.code, build.stdout + build.stderr).toBe(0);
      expect(await project.videosPerPrompt()).toEqual({ 'Shot s1.': 1 });
    } finally {
      await project.close();
    }
  });
});
