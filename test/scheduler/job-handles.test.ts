/**
 * Handles in the journal and the action cache (issue 13): written whole, read back unchanged, and records
 * from before handles existed still read (the engine rebuilds their handle from the video id).
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionCache } from '../../src/cache/action-cache.ts';
import type { Sample } from '../../src/cache/types.ts';
import { asSha256, asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { JobHandle } from '../../src/provider/job-api.ts';
import { Journal, promptSha256 } from '../../src/scheduler/journal.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handles-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const OP = 'projects/p/locations/us-central1/publishers/google/models/veo-3.1-generate-001/operations/7';
const handle: JobHandle = {
  type: 'openai',
  provider: 'veo',
  id: OP,
  model: 'veo-3.1-generate-001',
  createdAt: 1_700_000_000_000,
  extra: { location: 'us-central1', nested: { list: [1, 'two', null] } },
};

describe('the journal keeps the handle', () => {
  it('writes the handle with the submitted record and reads it back; an old record has none', async () => {
    const journal = Journal.open({ cacheDir: dir, clock: new FakeClock() });
    const base = {
      key: asShotKey('b'.repeat(64)),
      provider: 'veo',
      at: 1,
      request: {
        operation: 'create' as const,
        model: 'veo-3.1-generate-001',
        size: '1280x720',
        seconds: 8,
        promptSha256: promptSha256('p'),
        parentVideoId: null,
      },
    };
    const veo = await journal.recordIntent({ ...base, shot: asShotId('veo') });
    const old = await journal.recordIntent({ ...base, shot: asShotId('old'), at: 2 });
    await journal.recordSubmitted(veo.id, asVideoId(OP), handle.createdAt, handle);
    // What a version before issue 13 wrote: the video id only.
    await appendFile(
      journal.path,
      `${JSON.stringify({ type: 'submitted', id: old.id, videoId: 'video_old', createdAt: 5 })}\n`,
    );
    const pending = await Journal.open({ cacheDir: dir, clock: new FakeClock() }).pending();
    expect(pending.map((p) => [p.intent.shot, p.videoId, p.handle])).toEqual([
      ['veo', OP, handle],
      ['old', 'video_old', undefined],
    ]);
    await expect(
      journal.recordSubmitted(old.id, asVideoId('video_other'), 1, { ...handle, id: 'not-the-video' }),
    ).rejects.toThrow(TypeError);
  });
});

describe('the action cache keeps the handle and every variant', () => {
  const key = asShotKey(hex('key'));
  const variants = [0, 1, 2].map((i) => ({
    output: asSha256(hex(`v${i}`)),
    bytes: 10 + i,
    assets: i === 1 ? { thumbnail: asSha256(hex('t1')) } : {},
  }));
  const sample: Sample = {
    output: variants[0]!.output,
    bytes: 10,
    videoId: asVideoId(OP),
    provider: 'veo',
    createdAt: 1,
    expiresAt: null,
    costUsd: null,
    assets: {},
    handle,
    variants,
  };

  it('round-trips a sample with a handle and three variants', async () => {
    await ActionCache.open(dir).addSample(key, sample);
    expect(ActionCache.open(dir).samples(key)).toEqual([sample]);
  });

  it('reads a record written before issue 13 unchanged, and ignores one whose variants do not start at its output', async () => {
    const cache = ActionCache.open(dir);
    const path = cache.pathFor(key);
    await mkdir(dirname(path), { recursive: true });
    const old = {
      output: hex('old'),
      bytes: 3,
      videoId: 'video_old',
      provider: 'emulator',
      createdAt: 2,
      expiresAt: null,
      costUsd: 0.4,
      assets: {},
    };
    const bad = { ...sample, variants: [...variants].reverse() };
    await writeFile(path, JSON.stringify({ version: 1, key, samples: [old, bad] }));
    expect(cache.samples(key)).toEqual([old]);
    expect((JSON.parse(await readFile(path, 'utf8')) as { samples: unknown[] }).samples).toHaveLength(2);
  });
});
