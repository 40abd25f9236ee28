/**
 * Single flight per shot key: two engines on one project (what two `sora-build build` processes, or watch
 * plus build, hold) make each shot once, and both end green.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { engineProject, storyboard } from './engine-harness.ts';
import type { EngineProject } from './engine-harness.ts';

let project: EngineProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

describe('two engines on one project', () => {
  it('make each shot once, and both end with every shot in place', async () => {
    project = await engineProject();
    const shots = ['harbor', 'mug', 'teaser', 'street'];
    await project.write('storyboard.yaml', storyboard(shots));
    const a = await project.engine();
    const b = await project.engine();
    try {
      const [ra, rb] = await Promise.all([
        project.build(a.engine, a.events),
        project.build(b.engine, b.events),
      ]);
      expect(project.creates()).toBe(4);
      for (const run of [ra, rb]) {
        expect(run.outcome.failed).toEqual([]);
        expect([...run.outcome.built, ...run.outcome.fresh, ...run.outcome.cached].sort()).toEqual(
          [...shots].sort(),
        );
      }
      // Between them every shot was generated exactly once.
      expect([...ra.outcome.built, ...rb.outcome.built].sort()).toEqual([...shots].sort());
    } finally {
      await Promise.all([a.engine.close({ abandon: false }), b.engine.close({ abandon: false })]);
    }
    const rerun = await project.buildOnce();
    expect(rerun.outcome.fresh).toHaveLength(4);
    expect(project.creates()).toBe(4);
  });

  it('a process that waited on a key takes over a failure the service gave the other, and pays nothing', async () => {
    project = await engineProject({ emulator: { faults: { moderationWords: ['forbidden'] } } });
    await project.write(
      'storyboard.yaml',
      [
        'version: 1',
        'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
        'shots:',
        '  bad:',
        '    prompt: A forbidden shot.',
        '',
      ].join('\n'),
    );
    const a = await project.engine();
    const b = await project.engine();
    try {
      const [ra, rb] = await Promise.all([
        project.build(a.engine, a.events),
        project.build(b.engine, b.events),
      ]);
      expect(project.creates()).toBe(1);
      expect(ra.outcome.failed.map((f) => f.reason)).toEqual(['moderation-blocked']);
      expect(rb.outcome.failed.map((f) => f.reason)).toEqual(['moderation-blocked']);
    } finally {
      await Promise.all([a.engine.close({ abandon: false }), b.engine.close({ abandon: false })]);
    }
  });
});
