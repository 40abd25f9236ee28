/**
 * N variants from one job (issue 13): the engine downloads and verifies every variant's video, records them
 * all in one sample, pins them all in the lockfile (with the job's handle when `video_id` cannot stand for
 * it), places them as `out/<shot>/1.mp4 … N.mp4`, and a rebuild is a no-op. The provider here is a small
 * JobProvider over the real emulator (the official SDK on loopback) whose every job answers with two
 * variants: two Videos API jobs behind one handle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { asVideoId } from '../../src/core/brand.ts';
import type { JobHandle, JobProvider, JobState, OutputRef } from '../../src/provider/job-api.ts';
import { LegacyJobProvider } from '../../src/provider/legacy-job-provider.ts';
import type { VideoProvider } from '../../src/provider/types.ts';
import { engineProject, storyboard } from './engine-harness.ts';
import type { EngineProject } from './engine-harness.ts';

let project: EngineProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** Every job is two Videos API jobs; the handle keeps the second id in `extra`. */
function twoVariants(legacy: VideoProvider): JobProvider {
  const one = new LegacyJobProvider({ legacy, type: 'openai' });
  const secondId = (h: JobHandle): string => h.extra?.['second'] as string;
  const second = (h: JobHandle): JobHandle => ({ ...h, id: secondId(h), extra: {} });
  return {
    name: one.name,
    type: 'openai',
    family: one.family,
    async submit(request, options) {
      const a = await one.submit(request, options);
      const b = await one.submit(request, options);
      return { handle: { ...a.handle, extra: { second: b.handle.id } }, state: a.state };
    },
    async poll(handle, signal): Promise<JobState> {
      const [a, b] = [
        await one.poll({ ...handle, extra: {} }, signal),
        await one.poll(second(handle), signal),
      ];
      if (a.state !== 'succeeded' || b.state !== 'succeeded') return a.state === 'succeeded' ? b : a;
      const ref = (index: number, asset: OutputRef['asset']): OutputRef => ({
        kind: 'content',
        handle,
        index,
        asset,
        expiresAt: a.expiresAt,
      });
      return {
        ...a,
        outputs: [0, 1].map((index) => ({
          index,
          video: ref(index, 'video'),
          thumbnail: ref(index, 'thumbnail'),
        })),
      };
    },
    fetch(output, signal) {
      if (output.kind !== 'content') throw new Error('content only');
      const id = output.index === 0 ? output.handle.id : secondId(output.handle);
      return legacy.download(asVideoId(id), output.asset, signal);
    },
    close: () => legacy.close(),
  };
}

describe('variants', () => {
  it('downloads, verifies, records, pins and places every variant; a rebuild is a no-op; a pruned store is restored', async () => {
    project = await engineProject();
    const p = project;
    await p.write(
      'storyboard.yaml',
      storyboard(['harbor']).replace(
        '    prompt: A quiet',
        '    assets: [video, thumbnail]\n    prompt: A quiet',
      ),
    );
    const wire = {
      wire: (o: Parameters<NonNullable<Parameters<EngineProject['buildOnce']>[0]>['wire'] & object>[0]) => ({
        ...o,
        provider: async () => twoVariants((await o.provider()) as VideoProvider),
      }),
    };
    const first = await p.buildOnce(wire);
    expect(first.outcome.built).toEqual(['harbor']);
    expect(p.creates()).toBe(2);
    const downloads = first.events.filter((e) => e.type === 'download-finished');
    expect(downloads.map((e) => e.type === 'download-finished' && e.variant)).toEqual([
      'video',
      'thumbnail',
      'video',
      'thumbnail',
    ]);
    for (const f of [
      'out/harbor/1.mp4',
      'out/harbor/2.mp4',
      'out/harbor/1.thumbnail.webp',
      'out/harbor/2.thumbnail.webp',
    ])
      expect(existsSync(path.join(p.dir, f)), f).toBe(true);
    const lock = await p.read('storyboard.lock');
    expect(lock).toMatch(/\n {4}variants:\n {6}- \{ output: "[0-9a-f]{64}", bytes: \d+ \}\n {6}- \{ output/);
    expect(lock).toMatch(/\n {4}handle: \{"createdAt":\d+,"extra":\{"second":"video_[^"]+"\},"id":"video_/);

    const again = await p.buildOnce(wire);
    expect(again.outcome.fresh).toEqual(['harbor']);
    expect(p.creates()).toBe(2);
    expect(await p.read('storyboard.lock')).toBe(lock);

    // A fresh clone: no store, no action cache. Both pinned videos come back by the handle, nothing is paid.
    await rm(p.cacheDir, { recursive: true, force: true });
    await rm(path.join(p.dir, 'out'), { recursive: true, force: true });
    const restored = await p.buildOnce(wire);
    expect(restored.outcome.fresh).toEqual(['harbor']);
    expect(p.creates()).toBe(2);
    expect(existsSync(path.join(p.dir, 'out/harbor/2.mp4'))).toBe(true);
    expect(existsSync(path.join(p.dir, 'out/harbor/2.thumbnail.webp'))).toBe(true);
    expect(await p.read('storyboard.lock')).toBe(lock);
  });
});
