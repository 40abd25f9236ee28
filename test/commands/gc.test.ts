import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, withTempDir } from './cli-harness.ts';
import {
  EMULATOR_CONFIG,
  lockEntry,
  objectPath,
  putActionCacheEntry,
  putObject,
  sha256,
  writeLock,
} from './store-fixture.ts';

const HOUR = 3_600_000;

/** A project with a pinned object (storyboard.lock), a second manifest's pinned object, two cached takes
 * and an orphan; the storyboard itself is broken, which gc must not care about. */
async function project(dir: string) {
  await writeFile(path.join(dir, 'sora.config.yaml'), EMULATOR_CONFIG);
  await writeFile(path.join(dir, 'storyboard.yaml'), 'version: 1\nshots:\n  harbor: {prompt: [\n');
  const cacheDir = path.join(dir, '.sora-build');
  const pinned = await putObject(cacheDir, 'pinned', 1000, 8 * HOUR);
  const pinnedElsewhere = await putObject(cacheDir, 'spring', 500, 7 * HOUR);
  const takeOld = await putObject(cacheDir, 'take-old', 2000, 5 * HOUR);
  const takeNew = await putObject(cacheDir, 'take-new', 3000, 4 * HOUR);
  const orphan = await putObject(cacheDir, 'orphan', 4000, 3 * HOUR);
  await putActionCacheEntry(cacheDir, sha256('key of harbor'), [
    { output: takeOld },
    { output: pinned },
    { output: takeNew },
  ]);
  await writeLock(path.join(dir, 'storyboard.lock'), [lockEntry('harbor', pinned, 'video_1')]);
  await writeFile(path.join(dir, 'campaigns-spring.yaml'), '');
  await writeLock(path.join(dir, 'campaigns', 'spring.lock'), [
    lockEntry('teaser', pinnedElsewhere, 'video_2'),
  ]);
  await writeFile(path.join(dir, 'campaigns', 'spring.yaml'), 'version: 1\n');
  return { cacheDir, pinned, pinnedElsewhere, takeOld, takeNew, orphan };
}

describe('sora-build gc', () => {
  it('removes only unreferenced objects without --max-size', async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const r = await runCli(['gc'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        `removed ${p.orphan.slice(0, 12)}    4.0 kB  unreferenced\n` +
          'Freed 4.0 kB (1 object); the store keeps 6.5 kB in 4 objects, 1.5 kB pinned by campaigns/spring.lock, storyboard.lock\n',
      );
      expect(existsSync(objectPath(p.cacheDir, p.orphan))).toBe(false);
      expect(existsSync(objectPath(p.cacheDir, p.takeOld))).toBe(true);
    });
  });

  it('--max-size 0 removes every take but never a pinned object', async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const dry = await runCli(['gc', '--max-size', '0', '--dry-run'], { cwd: dir });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would remove ${p.takeOld.slice(0, 12)}    2.0 kB  over-size\n`);
      expect(dry.stdout).toContain('Would free 9.0 kB (3 objects)');
      for (const d of Object.values(p).slice(1)) expect(existsSync(objectPath(p.cacheDir, d))).toBe(true);

      // The pinned shot's prompt text, stored under its digest (what `why` shows as the old prompt).
      const prompt = objectPath(p.cacheDir, sha256('prompt of harbor'));
      await mkdir(path.dirname(prompt), { recursive: true });
      await writeFile(prompt, 'prompt of harbor');
      const old = new Date(Date.now() - 9 * HOUR);
      await utimes(prompt, old, old);
      const r = await runCli(['gc', '--max-size', '0'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(existsSync(prompt)).toBe(true);
      expect(r.stdout.split('\n').slice(0, 3)).toEqual([
        `removed ${p.orphan.slice(0, 12)}    4.0 kB  unreferenced`,
        `removed ${p.takeOld.slice(0, 12)}    2.0 kB  over-size`,
        `removed ${p.takeNew.slice(0, 12)}    3.0 kB  over-size`,
      ]);
      expect(r.stdout).toContain('The store stays above --max-size 0 B: pinned objects are never removed\n');
      expect(existsSync(objectPath(p.cacheDir, p.pinned))).toBe(true);
      expect(existsSync(objectPath(p.cacheDir, p.pinnedElsewhere))).toBe(true);
      expect(existsSync(objectPath(p.cacheDir, p.takeNew))).toBe(false);
    });
  });

  it('evicts the least recently used first under a limit', async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const r = await runCli(['gc', '--max-size', '5kB'], { cwd: dir });
      expect(r.code).toBe(0);
      // 10.5 kB -> orphan (4 kB) unreferenced -> 6.5 kB; the older take (2 kB) goes -> 4.5 kB fits.
      expect(existsSync(objectPath(p.cacheDir, p.takeOld))).toBe(false);
      expect(existsSync(objectPath(p.cacheDir, p.takeNew))).toBe(true);
      expect(r.stdout).toContain('the store keeps 4.5 kB in 3 objects');
    });
  });

  it('refuses to remove anything when a lockfile is unreadable', async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      await writeFile(path.join(dir, 'storyboard.lock'), '<<<<<<< HEAD\nversion: 1\n');
      const r = await runCli(['gc', '--max-size', '0'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('storyboard.lock:1:');
      expect(r.stderr).toContain('sora-build gc: a lockfile could not be read; nothing was removed\n');
      expect(existsSync(objectPath(p.cacheDir, p.orphan))).toBe(true);
    });
  });

  it('rejects a size it cannot read, and stray arguments', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'sora.config.yaml'), EMULATOR_CONFIG);
      const r = await runCli(['gc', '--max-size', 'lots'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        "sora-build gc: expected --max-size to be a size like 500MB, 2GiB or 0, got 'lots'\n",
      );
      expect((await runCli(['gc', 'now'], { cwd: dir })).code).toBe(2);
    });
  });

  it('works on a project that never built', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'sora.config.yaml'), EMULATOR_CONFIG);
      const r = await runCli(['gc'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        'Freed 0 B (0 objects); the store keeps 0 B in 0 objects, 0 B pinned by no lockfile\n',
      );
    });
  });
});
