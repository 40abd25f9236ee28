/**
 * `--shard K/N` through the real CLI: plan shows what each shard holds, the shards partition the storyboard
 * with every remix/extend chain whole, a shard builds only its shots, and after every shard has built, the
 * whole storyboard is fresh.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRequests, makeProject } from './harness.ts';
import type { Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

let project: Project | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const STORYBOARD = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn.
  harbor-teal:
    remix_of: harbor
    prompt: Shift the palette to teal.
  harbor-more:
    extend_of: harbor-teal
    prompt: The fog lifts over the water.
  mug:
    prompt: Slow dolly-in on a mug, steam rising.
  pier:
    prompt: A wooden pier at dusk.
  teaser:
    prompt: A mug spinning slowly on a turntable.
`;

interface PlanDoc {
  shard: { index: number; count: number; shots: string[]; chains: number; total_shots: number };
  shots: { id: string }[];
}

describe('sora-build build --shard K/N', () => {
  it('partitions the storyboard with chains whole; each shard builds only its shots; together they build it all', async () => {
    project = await makeProject({
      quota: { createsPerMinute: 30, maxInFlight: 8 },
      emulator: { createsPerMinute: 30 },
    });
    await project.write('storyboard.yaml', STORYBOARD);
    const plans: PlanDoc[] = [];
    for (const k of [1, 2]) {
      const r = await project.run(['plan', '--shard', `${k}/2`, '--json']);
      expect(r.code).toBe(0);
      plans.push(JSON.parse(r.stdout) as PlanDoc);
    }
    const [one, two] = plans as [PlanDoc, PlanDoc];
    expect([...one.shard.shots, ...two.shard.shots].sort()).toEqual([
      'harbor',
      'harbor-more',
      'harbor-teal',
      'mug',
      'pier',
      'teaser',
    ]);
    // The chain (3 shots, 3 weights) alone outweighs the three single shots: one shard each way.
    expect(one.shard).toEqual({
      index: 1,
      count: 2,
      shots: ['harbor', 'harbor-more', 'harbor-teal'],
      chains: 1,
      total_shots: 6,
    });
    expect(two.shard.chains).toBe(3);
    expect(one.shots.map((s) => s.id).sort()).toEqual(one.shard.shots);

    const first = await project.run(['build', '--shard', '2/2', '--reporter', 'plain']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe(
      'Shard 2/2: 3 of 6 shots in 3 chains (a remix or extension stays with its parent); about 4m 00s of rendering, the heaviest shard 4m 00s\n',
    );
    expect(first.stdout).toMatch(/built 3 · fresh 0 · cached 0 · failed 0 · blocked 0/);
    expect(createRequests(project.emulator)).toHaveLength(3);

    const status = await project.run(['status', '--shard', '1/2']);
    expect(status.stdout).toMatch(/^harbor +missing/m);
    expect(status.stdout).not.toMatch(/^mug/m);
    expect(status.stdout).toContain('3 shots: 1 missing, 2 blocked');

    const second = await project.run(['build', '--shard', '1/2', '--reporter', 'plain']);
    expect(second.code).toBe(0);
    expect(createRequests(project.emulator)).toHaveLength(6);

    project.emulator.clearLog();
    const whole = await project.run(['build', '--reporter', 'plain']);
    expect(whole.code).toBe(0);
    expect(whole.stdout).toContain('nothing to generate, 6 fresh');
    expect(project.emulator.requestLog()).toEqual([]);
  });

  it('refuses a malformed --shard before reading anything (exit 2)', async () => {
    project = await makeProject();
    const r = await project.run(['build', '--shard', '3/2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^sora-build build: expected --shard to be K\/N with 1 <= K <= N <= 1000 \(e\.g\. 2\/4\), but got '3\/2'\n/,
    );
  });
});
