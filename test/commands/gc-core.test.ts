import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findProjectLockfiles, formatSize, gc, parseSize } from '../../src/cache/gc.ts';
import { withTempDir } from './cli-harness.ts';
import { objectPath, putActionCacheEntry, putObject, sha256 } from './store-fixture.ts';

const HOUR = 3_600_000;

describe('gc (store pruning)', () => {
  it('removes unreferenced objects, keeps referenced and pinned ones', async () => {
    await withTempDir(async (cacheDir) => {
      const now = Date.now();
      const pinned = await putObject(cacheDir, 'p', 100, 5 * HOUR, now);
      const thumb = await putObject(cacheDir, 't', 10, 5 * HOUR, now);
      const sampled = await putObject(cacheDir, 's', 200, 5 * HOUR, now);
      const orphan = await putObject(cacheDir, 'o', 300, 5 * HOUR, now);
      const young = await putObject(cacheDir, 'y', 400, 60_000, now);
      await putActionCacheEntry(cacheDir, sha256('k1'), [
        { output: pinned, assets: { thumbnail: thumb } },
        { output: sampled },
      ]);
      const r = await gc({ cacheDir, pinned: new Set([pinned]), now });
      expect(r.ok && r.value).toEqual({
        removed: [{ digest: orphan, bytes: 300, reason: 'unreferenced' }],
        bytesFreed: 300,
        keptObjects: 4,
        keptBytes: 710,
        pinnedBytes: 110,
        keptYoung: 1,
        dryRun: false,
      });
      expect(existsSync(objectPath(cacheDir, orphan))).toBe(false);
      for (const d of [pinned, thumb, sampled, young]) expect(existsSync(objectPath(cacheDir, d))).toBe(true);
    });
  });

  it('evicts least recently used beyond the size limit, never a pinned object (nor its thumbnail)', async () => {
    await withTempDir(async (cacheDir) => {
      const now = Date.now();
      const pinned = await putObject(cacheDir, 'p', 100, 9 * HOUR, now); // oldest of all
      const thumb = await putObject(cacheDir, 't', 10, 9 * HOUR, now);
      const old = await putObject(cacheDir, 'a', 200, 3 * HOUR, now);
      const recent = await putObject(cacheDir, 'b', 200, 2 * HOUR, now);
      await putActionCacheEntry(cacheDir, sha256('k1'), [
        { output: pinned, assets: { thumbnail: thumb } },
        { output: old },
        { output: recent },
      ]);
      const limited = await gc({ cacheDir, pinned: new Set([pinned]), now, maxSizeBytes: 350, dryRun: true });
      expect(limited.ok && limited.value.removed).toEqual([{ digest: old, bytes: 200, reason: 'over-size' }]);
      expect(existsSync(objectPath(cacheDir, old))).toBe(true); // dry run

      const zero = await gc({ cacheDir, pinned: new Set([pinned]), now, maxSizeBytes: 0 });
      expect(zero.ok && zero.value.removed.map((x) => x.digest)).toEqual([old, recent]);
      expect(zero.ok && zero.value.keptBytes).toBe(110);
      expect(existsSync(objectPath(cacheDir, pinned))).toBe(true);
      expect(existsSync(objectPath(cacheDir, thumb))).toBe(true);
      expect(existsSync(objectPath(cacheDir, recent))).toBe(false);
    });
  });

  it('refuses to remove anything when an action-cache entry is unreadable', async () => {
    await withTempDir(async (cacheDir) => {
      const now = Date.now();
      const orphan = await putObject(cacheDir, 'o', 300, 5 * HOUR, now);
      const bad = path.join(cacheDir, 'ac', 'ab', `ab${'0'.repeat(62)}.json`);
      await mkdir(path.dirname(bad), { recursive: true });
      await writeFile(bad, '{"version":1,');
      const r = await gc({ cacheDir, pinned: new Set(), now });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.map((f) => [f.reason, f.path])).toEqual([['unreadable-action-cache', bad]]);
      expect(existsSync(objectPath(cacheDir, orphan))).toBe(true);
    });
  });

  it('ignores files that are not store objects and an absent store', async () => {
    await withTempDir(async (cacheDir) => {
      expect(await gc({ cacheDir, pinned: new Set(), now: Date.now() })).toEqual({
        ok: true,
        value: {
          removed: [],
          bytesFreed: 0,
          keptObjects: 0,
          keptBytes: 0,
          pinnedBytes: 0,
          keptYoung: 0,
          dryRun: false,
        },
      });
      await mkdir(path.join(cacheDir, 'cas', 'sha256', 'tmp'), { recursive: true });
      await writeFile(path.join(cacheDir, 'cas', 'sha256', 'tmp', 'partial-123'), 'x');
      const r = await gc({ cacheDir, pinned: new Set(), now: Date.now() + 10 * HOUR, maxSizeBytes: 0 });
      expect(r.ok && r.value.removed).toEqual([]);
      expect(existsSync(path.join(cacheDir, 'cas', 'sha256', 'tmp', 'partial-123'))).toBe(true);
    });
  });
});

describe('findProjectLockfiles', () => {
  it('finds the lockfiles of manifests, skipping other .lock files and excluded folders', async () => {
    await withTempDir(async (root) => {
      const files = [
        'storyboard.yaml',
        'storyboard.lock',
        'yarn.lock',
        'campaigns/spring.yml',
        'campaigns/spring.lock',
        'campaigns/orphan.lock',
        'node_modules/pkg/x.yaml',
        'node_modules/pkg/x.lock',
        '.sora-build/a.yaml',
        '.sora-build/a.lock',
        'out/b.yaml',
        'out/b.lock',
        'deep/1/2/3/c.yaml',
        'deep/1/2/3/c.lock',
      ];
      for (const f of files) {
        await mkdir(path.dirname(path.join(root, f)), { recursive: true });
        await writeFile(path.join(root, f), '');
      }
      expect(await findProjectLockfiles({ root, exclude: [path.join(root, 'out')] })).toEqual(
        ['campaigns/spring.lock', 'deep/1/2/3/c.lock', 'storyboard.lock'].map((f) => path.join(root, f)),
      );
      expect(await findProjectLockfiles({ root, exclude: [path.join(root, 'out')], maxDepth: 2 })).toEqual(
        ['campaigns/spring.lock', 'storyboard.lock'].map((f) => path.join(root, f)),
      );
    });
  });
});

describe('sizes', () => {
  it.each([
    ['0', 0],
    ['123', 123],
    ['500MB', 500_000_000],
    ['1.5G', 1_500_000_000],
    ['2GiB', 2 * 1024 ** 3],
    ['800k', 800_000],
    ['10 kb', 10_000],
    ['12x', undefined],
    ['-1', undefined],
    ['', undefined],
  ])('parseSize(%j) = %j', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1_234_567, '1.2 MB'],
    [5e12, '5.0 TB'],
  ])('formatSize(%d) = %j', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
