/**
 * Single flight per shot key: two engines on one project (what two `sora-build build` processes, or watch
 * plus build, hold) make each shot once, and both end green.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';
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

  it('waits (and says so) while a live process holds the key, and takes the key over once that process dies', async () => {
    project = await engineProject();
    await project.write('storyboard.yaml', storyboard(['harbor']));
    const loaded = await loadProject({ cwd: project.dir, env: {} });
    if (!loaded.ok) throw new Error('manifest');
    const planned = await computePlan({ config: loaded.config, manifest: loaded.manifest, shotIds: [] });
    if (!planned.ok) throw new Error('plan');
    const key = planned.value.plan.shots[0]!.key!;
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      const claims = path.join(project.cacheDir, 'claims');
      await mkdir(claims, { recursive: true });
      await writeFile(
        path.join(claims, `${key}.json`),
        JSON.stringify({ pid: other.pid, host: hostname(), nonce: 'other' }),
      );
      const { engine, events } = await project.engine();
      try {
        const building = project.build(engine, events);
        while (!events.some((e) => e.type === 'quota-wait' && e.reason === 'another-process')) {
          await new Promise((r) => setTimeout(r, 5));
        }
        expect(project.creates()).toBe(0);
        other.kill('SIGKILL');
        const run = await building;
        expect(run.outcome.built).toEqual(['harbor']);
        expect(project.creates()).toBe(1);
      } finally {
        await engine.close({ abandon: false });
      }
    } finally {
      other.kill('SIGKILL');
    }
  });
});
