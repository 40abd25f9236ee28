import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionCache } from '../../src/cache/action-cache.ts';
import type { Sample } from '../../src/cache/types.ts';
import { asSha256, asShotKey, asVideoId } from '../../src/core/brand.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ac-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const key = asShotKey(hex('key'));
const sample = (n: number): Sample => ({
  output: asSha256(hex(`video ${n}`)),
  bytes: 1000 + n,
  videoId: asVideoId(`video_${n}`),
  provider: 'emulator',
  createdAt: 1_700_000_000_000 + n,
  expiresAt: null,
  costUsd: n === 1 ? null : 0.8,
  assets: n === 2 ? { thumbnail: asSha256(hex('thumb')) } : {},
});

describe('ActionCache', () => {
  it('stores samples per key in ac/<2 hex>/<key>.json, oldest first, readable by a fresh instance', async () => {
    const cache = ActionCache.open(dir);
    expect(cache.samples(key)).toEqual([]);
    await cache.addSample(key, sample(1));
    await cache.addSample(key, sample(2));
    expect(cache.samples(key)).toEqual([sample(1), sample(2)]);
    const path = join(dir, 'ac', key.slice(0, 2), `${key}.json`);
    expect(cache.pathFor(key)).toBe(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 1,
      key,
      samples: [sample(1), sample(2)],
    });
    expect(ActionCache.open(dir).samples(key)).toEqual([sample(1), sample(2)]);
  });

  it('lists every key with its samples for gc', async () => {
    const cache = ActionCache.open(dir);
    const other = asShotKey(hex('other'));
    await cache.addSample(key, sample(1));
    await cache.addSample(other, sample(2));
    const entries = await cache.entries();
    expect(entries).toEqual(
      [
        { key, samples: [sample(1)] },
        { key: other, samples: [sample(2)] },
      ].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  });

  it('does not add the same sample twice', async () => {
    const cache = ActionCache.open(dir);
    await cache.addSample(key, sample(1));
    expect(await cache.addSample(key, sample(1))).toEqual([sample(1)]);
  });

  it('records an asset added to a known sample later (else it is fetched again on every build)', async () => {
    const cache = ActionCache.open(dir);
    await cache.addSample(key, sample(1));
    await cache.addSample(key, sample(3));
    const sprite = asSha256(hex('sprite'));
    const withSprite = { ...sample(1), assets: { spritesheet: sprite } };
    expect(await cache.addSample(key, withSprite)).toEqual([withSprite, sample(3)]);
    expect(ActionCache.open(dir).samples(key)).toEqual([withSprite, sample(3)]);
  });

  it('keeps both samples when two instances (processes) add to one key at once', async () => {
    const a = ActionCache.open(dir);
    const b = ActionCache.open(dir);
    a.samples(key); // memoised empty read must not make a overwrite b's sample
    await Promise.all([a.addSample(key, sample(1)), b.addSample(key, sample(2))]);
    const fresh = ActionCache.open(dir).samples(key);
    expect(fresh.map((s) => s.videoId).sort()).toEqual(['video_1', 'video_2']);
  });

  it('never caches a failure: a sample without a verified output is a TypeError and nothing is written', async () => {
    const cache = ActionCache.open(dir);
    const failure = { ...sample(1), output: undefined } as unknown as Sample;
    await expect(cache.addSample(key, failure)).rejects.toThrow(
      'Expected `output` to be a sha256 digest in the sample (failures are never cached)',
    );
    expect(ActionCache.open(dir).samples(key)).toEqual([]);
  });

  it('writes only the known fields', async () => {
    const cache = ActionCache.open(dir);
    await cache.addSample(key, { ...sample(3), apiKey: 'sk-secret' } as Sample);
    expect(await readFile(cache.pathFor(key), 'utf8')).not.toContain('sk-secret');
  });

  it('treats an unreadable file as empty and rejects keys that are not digests', async () => {
    const cache = ActionCache.open(dir);
    await mkdir(dirname(cache.pathFor(key)), { recursive: true });
    await writeFile(cache.pathFor(key), '{"version":1,"key":"');
    expect(cache.samples(key)).toEqual([]);
    expect(() => cache.samples(asShotKey('../escape'))).toThrow(TypeError);
  });
});
