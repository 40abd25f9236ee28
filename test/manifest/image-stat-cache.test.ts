import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageStatCache } from '../../src/manifest/image-stat-cache.ts';
import { ReferenceImageChecker } from '../../src/manifest/reference-images.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stat-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const png = (background: string): Promise<Buffer> =>
  sharp({ create: { width: 64, height: 32, channels: 3, background } })
    .png()
    .toBuffer();

/** One "run": open the cache, check the image, save; returns the check and how many files were read. */
async function run(image: string): Promise<{ check: unknown; filesRead: number }> {
  const statCache = await ImageStatCache.open(path.join(dir, 'cache', 'stat-cache.json'));
  const checker = new ReferenceImageChecker({ root: dir, rootDescription: 'the project', statCache });
  const check = await checker.check(image);
  await statCache.save();
  return { check, filesRead: checker.filesRead };
}

describe('ImageStatCache with ReferenceImageChecker', () => {
  it('reads an unchanged image once, then answers from its stat data with the same facts', async () => {
    const image = path.join(dir, 'a.png');
    await writeFile(image, await png('#112233'));
    const past = new Date(Date.now() - 10_000);
    await utimes(image, past, past);
    const first = await run(image);
    expect(first.filesRead).toBe(1);
    const second = await run(image);
    expect(second.filesRead).toBe(0);
    expect(second.check).toEqual(first.check);
    expect(second.check).toMatchObject({ ok: true, width: 64, height: 32, mime: 'image/png' });
  });

  it('re-reads an image whose bytes changed (same size, other mtime) and reports the new digest', async () => {
    const image = path.join(dir, 'a.png');
    await writeFile(image, await png('#112233'));
    await utimes(image, new Date(Date.now() - 20_000), new Date(Date.now() - 20_000));
    const first = await run(image);
    await writeFile(image, await png('#332211'));
    await utimes(image, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    const second = await run(image);
    expect(second.filesRead).toBe(1);
    expect((second.check as { digest: string }).digest).not.toBe((first.check as { digest: string }).digest);
  });

  it('does not trust an entry whose mtime is not older than the cache file (racily clean)', async () => {
    const image = path.join(dir, 'a.png');
    await writeFile(image, await png('#112233'));
    const future = new Date(Date.now() + 60_000);
    await utimes(image, future, future);
    await run(image);
    expect((await run(image)).filesRead).toBe(1);
  });

  it('treats a corrupt cache file as empty', async () => {
    const image = path.join(dir, 'a.png');
    await writeFile(image, await png('#112233'));
    await writeFile(path.join(dir, 'cache-file.json'), '{not json');
    const cache = await ImageStatCache.open(path.join(dir, 'cache-file.json'));
    const checker = new ReferenceImageChecker({ root: dir, rootDescription: 'x', statCache: cache });
    expect(await checker.check(image)).toMatchObject({ ok: true });
    expect(checker.filesRead).toBe(1);
  });
});
