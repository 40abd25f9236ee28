import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../commands/cli-harness.ts';
import { asSha256 } from '../../src/core/brand.ts';
import type { ImageMime, ReferenceImage } from '../../src/manifest/types.ts';
import { prepareReference } from '../../src/plan/prepare-reference.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A real image file (a gradient, so a crop and a letterbox give different pixels) and its ReferenceImage. */
async function image(
  dir: string,
  width: number,
  height: number,
  fit: ReferenceImage['fit'],
  mime: ImageMime = 'image/png',
): Promise<ReferenceImage> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    raw[i * 3] = (i % width) % 256;
    raw[i * 3 + 1] = Math.floor(i / width) % 256;
    raw[i * 3 + 2] = 128;
  }
  const base = sharp(raw, { raw: { width, height, channels: 3 } });
  const bytes = await (
    mime === 'image/jpeg' ? base.jpeg() : mime === 'image/webp' ? base.webp() : base.png()
  ).toBuffer();
  const file = path.join(dir, `ref-${width}x${height}.${mime.slice(6)}`);
  await writeFile(file, bytes);
  const contents = 'input_reference: x';
  return {
    path: file,
    displayPath: path.basename(file),
    fit,
    mime,
    width,
    height,
    sourceDigest: asSha256(sha(bytes)),
    location: {
      file: { path: path.join(dir, 'storyboard.yaml'), contents },
      range: { offset: 17, length: 1 },
    },
  };
}

describe('prepareReference', () => {
  it('uploads the file itself with fit none, or when the size already matches', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const ref = await image(dir, 64, 36, 'none');
      expect(await prepareReference({ reference: ref, width: 64, height: 36, cacheDir })).toEqual({
        ok: true,
        value: { digest: ref.sourceDigest, path: ref.path, mime: 'image/png' },
      });
      const exact = { ...ref, fit: 'cover' as const };
      const r = await prepareReference({ reference: exact, width: 64, height: 36, cacheDir });
      expect(r.ok && r.value.path).toBe(ref.path);
      await expect(readdir(cacheDir)).rejects.toThrow(/ENOENT/);
    });
  });

  it.each([
    ['cover', 'image/png'],
    ['contain', 'image/png'],
    ['cover', 'image/jpeg'],
    ['contain', 'image/webp'],
  ] as const)(
    'resizes with fit %s (%s) to exactly WxH, caches it under refs/, and is deterministic',
    async (fit, mime) => {
      await withTempDir(async (dir) => {
        const ref = await image(dir, 50, 50, fit, mime);
        const one = await prepareReference({
          reference: ref,
          width: 64,
          height: 36,
          cacheDir: path.join(dir, 'a'),
        });
        const two = await prepareReference({
          reference: ref,
          width: 64,
          height: 36,
          cacheDir: path.join(dir, 'b'),
        });
        if (!one.ok || !two.ok) throw new Error('prepare failed');
        const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[mime];
        expect(one.value.path).toBe(path.join(dir, 'a', 'refs', `${ref.sourceDigest}-64x36-${fit}.${ext}`));
        expect(one.value.mime).toBe(mime);
        const bytes = await readFile(one.value.path);
        expect(one.value.digest).toBe(sha(bytes));
        expect(one.value.digest).not.toBe(ref.sourceDigest);
        // Two machines (two empty caches) with the same sharp produce the same bytes, hence the same key.
        expect(two.value.digest).toBe(one.value.digest);
        const meta = await sharp(bytes).metadata();
        expect([meta.width, meta.height, meta.format]).toEqual([
          64,
          36,
          mime === 'image/jpeg' ? 'jpeg' : ext,
        ]);
      });
    },
  );

  it('gives cover and contain different digests', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const cover = await prepareReference({
        reference: await image(dir, 50, 50, 'cover'),
        width: 64,
        height: 36,
        cacheDir,
      });
      const contain = await prepareReference({
        reference: await image(dir, 50, 50, 'contain'),
        width: 64,
        height: 36,
        cacheDir,
      });
      expect(cover.ok && contain.ok && cover.value.digest !== contain.value.digest).toBe(true);
    });
  });

  it('never re-encodes: a replan reads the cached file', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const ref = await image(dir, 50, 50, 'cover');
      const first = await prepareReference({ reference: ref, width: 64, height: 36, cacheDir });
      if (!first.ok) throw new Error('prepare failed');
      // Whatever the cached file holds is what is uploaded and keyed: proof that it was not recomputed.
      await writeFile(first.value.path, 'stand-in bytes');
      const again = await prepareReference({ reference: ref, width: 64, height: 36, cacheDir });
      expect(again.ok && again.value.digest).toBe(sha(Buffer.from('stand-in bytes')));
    });
  });

  it('reports an image that cannot be decoded, or that changed since it was checked, at input_reference', async () => {
    await withTempDir(async (dir) => {
      const cacheDir = path.join(dir, '.sora-build');
      const ref = await image(dir, 50, 50, 'cover');
      await writeFile(ref.path, 'not a png any more');
      const changed = await prepareReference({ reference: ref, width: 64, height: 36, cacheDir });
      expect(!changed.ok && changed.error.message).toBe(
        'ref-50x50.png changed while it was being checked; run the command again.',
      );
      expect(!changed.ok && changed.error.location.range.offset).toBe(17);
      const garbage = { ...ref, sourceDigest: asSha256(sha(Buffer.from('not a png any more'))) };
      const broken = await prepareReference({ reference: garbage, width: 64, height: 36, cacheDir });
      expect(!broken.ok && broken.error.message).toMatch(
        /^Could not resize ref-50x50\.png to 64x36 \(fit: cover\): /,
      );
    });
  });
});
