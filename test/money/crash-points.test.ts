/**
 * Crash points: the real CLI is SIGKILLed at its N-th durable write (the test-only switch in
 * src/core/test-faults.ts), for every N a build of a 4-shot storyboard with a remix chain makes, once before
 * the write (its side effects done, the write not) and once after it (the write done, nothing after). After
 * each crash the CLI is simply run again. In the end every shot is built, the service made exactly one video
 * per shot, every file in out/ and in the store matches its digest, and the lockfile parses.
 */
import { describe, expect, it, vi } from 'vitest';
import { moneyProject, storyboard } from '../support/money-project.ts';

vi.setConfig({ testTimeout: 300_000 });

const STORYBOARD = storyboard({ shots: 2, remixChain: 2 });
const PROMPTS = ['Shot s1.', 'Shot s2.', 'Remix r1.', 'Remix r2.'];

/** One crash at `fault`, then a plain rerun; what went wrong, or null. Undefined when nothing was killed. */
async function crashThenRestart(fault: string): Promise<string | null | undefined> {
  const project = await moneyProject({ storyboard: STORYBOARD });
  try {
    const crashed = await project.build([], { SORA_BUILD_TEST_FAULTS: fault });
    if (crashed.signal !== 'SIGKILL') {
      if (crashed.code !== 0)
        return `${fault}: the run with the switch failed (${crashed.code}): ${crashed.stdout}${crashed.stderr}`;
      return undefined;
    }
    const problems: string[] = [];
    const rerun = await project.build();
    if (rerun.code !== 0)
      problems.push(
        `restart exit ${rerun.code}: ${(rerun.stdout + rerun.stderr).trim().split('\n').slice(-4).join(' | ')}`,
      );
    const videos = await project.videosPerPrompt();
    const made = PROMPTS.map((p) => videos[p] ?? 0);
    if (made.some((n) => n !== 1)) problems.push(`videos made per shot ${made.join(',')}`);
    problems.push(
      ...(await project.integrityProblems()),
      ...(await project.secretLeaks()).map((l) => `key in ${l}`),
    );
    return problems.length === 0 ? null : `${fault}: ${problems.join('; ')}`;
  } finally {
    await project.close();
  }
}

describe('a kill -9 at any durable write', () => {
  for (const mode of ['crash-at-write', 'crash-after-write'] as const) {
    it(`${mode}: every N ends with each shot built once`, async () => {
      const failures: string[] = [];
      let n = 1;
      for (; ; n++) {
        const outcome = await crashThenRestart(`${mode}:${n}`);
        if (outcome === undefined) break;
        if (outcome !== null) failures.push(outcome);
      }
      console.log(`${mode}: ${n - 1} crash points, ${failures.length} failed\n${failures.join('\n')}`);
      expect(n).toBeGreaterThan(10); // the build really makes durable writes the switch sees
      expect(failures).toEqual([]);
    });
  }
});
