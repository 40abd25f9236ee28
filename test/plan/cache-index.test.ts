import { Readable } from 'node:stream';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../commands/cli-harness.ts';
import { listActionCache, listStoreObjects, openCacheIndex } from '../../src/cache/cache-index.ts';
import { Store } from '../../src/cache/store.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import { asShotId, asShotKey } from '../../src/core/brand.ts';
import type { Sha256 } from '../../src/core/brand.ts';
import { digestOf, sampleOf } from './builders.ts';
import { lockEntryFor } from '../../src/plan/lock-entry-for.ts';
import { shotKeyData } from '../../src/plan/shot-key.ts';

describe('openCacheIndex', () => {
  it('answers from the lockfile, the real store and the real action cache, stat-ing each object once', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const store = Store.open(cacheDir);
      const ingested = await store.ingest(Readable.from([Buffer.from('a video')]));
      if (!ingested.ok) throw new Error('ingest failed');
      const output = ingested.value.digest;
      const key = asShotKey(digestOf('key'));
      await ActionCache.open(cacheDir).addSample(key, sampleOf(output));
      const data = shotKeyData({
        shot: { model: 'sora-2', prompt: 'p', size: '1280x720', seconds: 8 },
        family: 'emulator',
        referenceDigest: null,
        parent: null,
      });
      const entry = lockEntryFor(asShotId('a'), data, sampleOf(output));
      let stats = 0;
      const index = openCacheIndex({
        lockfile: { version: 1, shots: new Map([[entry.shot, entry]]) },
        store: {
          hasObject: (d: Sha256) => {
            stats++;
            return store.hasObject(d);
          },
        },
        actionCache: ActionCache.open(cacheDir),
      });
      expect(index.lockEntry(asShotId('a'))).toBe(entry);
      expect(index.lockEntry(asShotId('b'))).toBeUndefined();
      expect([index.hasObject(output), index.hasObject(output), index.hasObject(digestOf('other'))]).toEqual([
        true,
        true,
        false,
      ]);
      expect(stats).toBe(2);
      expect(index.samples(key).map((s) => s.output)).toEqual([output]);
      expect(index.samples(asShotKey(digestOf('no such key')))).toEqual([]);
    });
  });

  it('lists the store once for big lockfiles, agreeing with Store.hasObject', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      expect(listStoreObjects(cacheDir).hasObject(digestOf('x'))).toBe(false); // no store yet
      const store = Store.open(cacheDir);
      const digests: Sha256[] = [];
      for (const text of ['one', 'two', 'three']) {
        const r = await store.ingest(Readable.from([Buffer.from(text)]));
        if (!r.ok) throw new Error('ingest failed');
        digests.push(r.value.digest);
      }
      const listed = listStoreObjects(cacheDir);
      for (const d of [...digests, digestOf('absent')]) expect(listed.hasObject(d)).toBe(store.hasObject(d));
      expect(digests.map((d) => listed.hasObject(d))).toEqual([true, true, true]);
    });
  });

  it('answers samples from one listing per action-cache folder, reading only files that exist', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const actionCache = ActionCache.open(cacheDir);
      const key = asShotKey(digestOf('built'));
      const output = digestOf('its video');
      await actionCache.addSample(key, sampleOf(output));
      const asked: string[] = [];
      const listed = listActionCache({
        cacheDir,
        samples: (k) => {
          asked.push(k);
          return actionCache.samples(k);
        },
      });
      const absent = Array.from({ length: 50 }, (_, i) => asShotKey(digestOf(`never built ${i}`)));
      for (const k of absent) expect(listed.samples(k)).toEqual([]);
      expect(listed.samples(key).map((s) => s.output)).toEqual([output]);
      // Only the key with a file was read; the 50 others were answered by the folder listings.
      expect(asked).toEqual([key]);
    });
  });
});
