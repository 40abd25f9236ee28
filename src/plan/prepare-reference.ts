/**
 * The reference image as it will be uploaded, and the digest that enters the shot key (design.md section 4:
 * "the sha256 of the reference image's bytes after fit").
 *
 * - `fit: none`, or an image that already has the shot's size: the file itself; its digest is the source
 *   digest the analyzer computed (which also checked that the size matches).
 * - `fit: cover | contain` with another size: resized locally with sharp to exactly WxH (cover: fill and
 *   crop the centre; contain: fit inside, black bars), re-encoded in the source's format with fixed
 *   settings and no metadata. That output is a deterministic function of (source bytes, W, H, fit, sharp /
 *   libvips version). It is cached at `<cacheDir>/refs/<sourceDigest>-<W>x<H>-<fit>.<ext>`, keyed on the
 *   first three, so a replan reads the cached file instead of re-encoding, and an upgrade of sharp does
 *   not change the digest of an already prepared image (hence no surprise rebuild). On a machine without
 *   that cache (a fresh CI runner), the package-lock pins sharp, so it produces the same bytes again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sharp } from 'sharp';
import type { Sha256 } from '../core/brand.ts';
import { asSha256 } from '../core/brand.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ImageMime, ReferenceImage } from '../manifest/types.ts';
import { atomicWrite } from '../cache/atomic-write.ts';

export interface PreparedReference {
  /** sha256 of the bytes to upload: the value in the shot key. */
  readonly digest: Sha256;
  /** Absolute path of the bytes to upload (the source file, or the resized copy under `refs/`). */
  readonly path: string;
  readonly mime: ImageMime;
}

export interface PrepareReferenceOptions {
  readonly reference: ReferenceImage;
  /** The shot's size. */
  readonly width: number;
  readonly height: number;
  /** Absolute cache folder (`config.cacheDir`); resized images go to its `refs/`. */
  readonly cacheDir: string;
}

const EXTENSIONS: Readonly<Record<ImageMime, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/** Where a resized reference is cached. */
export function preparedReferencePath(options: PrepareReferenceOptions): string {
  const { reference: r, width, height } = options;
  return join(
    options.cacheDir,
    'refs',
    `${r.sourceDigest}-${width}x${height}-${r.fit}.${EXTENSIONS[r.mime]}`,
  );
}

export async function prepareReference(
  options: PrepareReferenceOptions,
): Promise<Result<PreparedReference, Diagnostic>> {
  const { reference: r, width, height } = options;
  if (r.fit === 'none' || (r.width === width && r.height === height)) {
    return ok({ digest: r.sourceDigest, path: r.path, mime: r.mime });
  }
  const target = preparedReferencePath(options);
  const cached = await readFile(target).catch(() => undefined);
  if (cached !== undefined) return ok({ digest: sha256(cached), path: target, mime: r.mime });

  const problem = (message: string): Result<PreparedReference, Diagnostic> =>
    fail({ severity: 'error', message, location: r.location });
  let source: Buffer;
  try {
    source = await readFile(r.path);
  } catch (error) {
    return problem(`Could not read ${r.displayPath}: ${(error as Error).message}`);
  }
  // The analyzer hashed the file; resizing bytes that changed since would pin a key to the wrong image.
  if (sha256(source) !== r.sourceDigest) {
    return problem(`${r.displayPath} changed while it was being checked; run the command again.`);
  }
  let resized: Buffer;
  try {
    // Loaded on first use: most plans resize nothing, and sharp is a native module that is slow to load.
    const { default: sharp } = await import('sharp');
    const image = sharp(source, { failOn: 'error' }).resize(width, height, {
      fit: r.fit,
      position: 'centre',
      background: { r: 0, g: 0, b: 0, alpha: 1 },
    });
    resized = await encode(image, r.mime).toBuffer();
  } catch (error) {
    return problem(
      `Could not resize ${r.displayPath} to ${width}x${height} (fit: ${r.fit}): ${(error as Error).message}`,
    );
  }
  await atomicWrite(target, resized);
  return ok({ digest: sha256(resized), path: target, mime: r.mime });
}

/** Fixed encoder settings: changing any of them changes every prepared digest (and so every key using one). */
function encode(image: Sharp, mime: ImageMime): Sharp {
  switch (mime) {
    case 'image/jpeg':
      return image.jpeg({ quality: 92, chromaSubsampling: '4:4:4', mozjpeg: false });
    case 'image/png':
      return image.png({ compressionLevel: 9, adaptiveFiltering: false, palette: false });
    case 'image/webp':
      return image.webp({ quality: 92, effort: 4 });
  }
}

function sha256(bytes: Uint8Array): Sha256 {
  return asSha256(createHash('sha256').update(bytes).digest('hex'));
}
