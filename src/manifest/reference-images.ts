/**
 * Checks reference images by their bytes: inside the project (also after following symlinks), a file,
 * at most MAX_REFERENCE_IMAGE_BYTES, JPEG/PNG/WebP by magic bytes, pixel size from the header, sha256 of
 * the bytes. Each absolute path is read and hashed once per load, however many shots use it.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Sha256 } from '../core/brand.ts';
import { asSha256 } from '../core/brand.ts';
import { describeFileType } from '../core/file-type.ts';
import { readImageHeader } from './image-header.ts';
import type { ImageStatCache } from './image-stat-cache.ts';
import type { ImageMime } from './types.ts';

/**
 * 20 MiB. The Videos API documents no limit for `input_reference`; a first frame of a 1792x1024 video is a
 * few MB even as a lossless PNG, so a larger file is almost certainly the wrong file, and we would rather
 * say so than upload it.
 */
export const MAX_REFERENCE_IMAGE_BYTES = 20 * 1024 * 1024;

/** How many files are read at once: enough to overlap I/O, few enough not to run out of descriptors. */
const READ_CONCURRENCY = 16;

export type ImageCheck =
  | {
      readonly ok: true;
      /** Relative to the project root, POSIX separators. */
      readonly displayPath: string;
      readonly mime: ImageMime;
      readonly width: number;
      readonly height: number;
      readonly digest: Sha256;
    }
  /** `problem` completes "Expected ..., but ..." for the field that named the file. */
  | { readonly ok: false; readonly problem: (written: string) => string };

const MIME_NAMES: Readonly<Record<ImageMime, string>> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
};
export const mimeName = (mime: ImageMime): string => MIME_NAMES[mime];

export interface ReferenceImageCheckerOptions {
  /** Absolute project root; images must be inside it. */
  readonly root: string;
  /** How messages name the root, e.g. `the folder of sora.config.yaml`. */
  readonly rootDescription: string;
  /**
   * Facts of images whose stat data did not change since an earlier run, so unchanged images are not read
   * again (the no-op rebuild). The caller saves it. @default none (every image is read and hashed)
   */
  readonly statCache?: ImageStatCache;
}

/** What is wrong with the written `input_reference` itself, before any file is looked at, or undefined. */
export function referencePathProblem(written: string, field = 'input_reference'): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(written)) {
    return `Expected \`${field}\` to be a path without control characters, but found ${JSON.stringify(written)}`;
  }
  // The path module drops a trailing slash: `refs/mug.png/` must not quietly mean `refs/mug.png`.
  if (written.endsWith('/') || written.endsWith('\\')) {
    return `Expected \`${field}\` to name a file, but ${JSON.stringify(written)} ends in a slash, which names a folder`;
  }
  return undefined;
}

/**
 * sharp's (libvips') default `limitInputPixels`, which plan's resize keeps: an image with more pixels is
 * refused there, so `validate` refuses it from the header, before anything is decoded.
 */
export const MAX_RESIZE_PIXELS = 0x3fff * 0x3fff;

export class ReferenceImageChecker {
  readonly #root: string;
  readonly #rootDescription: string;
  readonly #statCache: ImageStatCache | undefined;
  readonly #cache = new Map<string, Promise<ImageCheck>>();
  readonly #resizable = new Map<
    string,
    Promise<{ readonly problem: (written: string) => string } | undefined>
  >();
  #realRoot: Promise<string> | undefined;
  #active = 0;
  #filesRead = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: ReferenceImageCheckerOptions) {
    this.#root = options.root;
    this.#rootDescription = options.rootDescription;
    this.#statCache = options.statCache;
  }

  /** How many files were read (and hashed) so far: once per distinct path. */
  get filesRead(): number {
    return this.#filesRead;
  }

  /** Checks the image at the absolute path `abs` (memoised per path). */
  check(abs: string): Promise<ImageCheck> {
    let result = this.#cache.get(abs);
    if (result === undefined) {
      result = this.#limited(() => this.#check(abs));
      this.#cache.set(abs, result);
    }
    return result;
  }

  /**
   * What plan's resize (src/plan/prepare-reference.ts, with `fit`) would refuse in the image at `abs`,
   * already checked by `check`: more pixels than MAX_RESIZE_PIXELS by its header, or bytes that do not
   * decode (a header with no image data). Decodes the image once per path, size and fit, and only for
   * shots whose image must be resized. `problem` completes "Expected ..." for the field naming the file.
   */
  resizable(
    abs: string,
    image: { readonly width: number; readonly height: number },
    target: { readonly width: number; readonly height: number; readonly fit: 'cover' | 'contain' },
  ): Promise<{ readonly problem: (written: string) => string } | undefined> {
    const key = `${abs}\0${target.width}x${target.height}\0${target.fit}`;
    let result = this.#resizable.get(key);
    if (result === undefined) {
      result = this.#limited(() => this.#resizableNow(abs, image, target));
      this.#resizable.set(key, result);
    }
    return result;
  }

  async #resizableNow(
    abs: string,
    image: { readonly width: number; readonly height: number },
    target: { readonly width: number; readonly height: number; readonly fit: 'cover' | 'contain' },
  ): Promise<{ readonly problem: (written: string) => string } | undefined> {
    const pixels = image.width * image.height;
    if (pixels > MAX_RESIZE_PIXELS) {
      return {
        problem: (w) =>
          `Expected a reference image of at most ${MAX_RESIZE_PIXELS.toLocaleString('en-US')} pixels to resize (fit: ${target.fit}), but ${JSON.stringify(w)} is ${image.width}x${image.height} by its header`,
      };
    }
    try {
      const bytes = await readFile(abs);
      // Loaded on first need: sharp is a native module that is slow to load, and most checks need none.
      const { default: sharp } = await import('sharp');
      // The same decode and resize as plan's (without the encoding, which cannot fail on decoded pixels).
      await sharp(bytes, { failOn: 'error' })
        .resize(target.width, target.height, { fit: target.fit, position: 'centre' })
        .raw()
        .toBuffer();
      return undefined;
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
      return {
        problem: (w) =>
          `Expected ${JSON.stringify(w)} to be an image that can be decoded to resize it (fit: ${target.fit}), but it cannot: ${why}`,
      };
    }
  }

  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= READ_CONCURRENCY) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }

  #inside(root: string, abs: string): boolean {
    const rel = path.relative(root, abs);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  }

  async #check(abs: string): Promise<ImageCheck> {
    const outside: ImageCheck = {
      ok: false,
      problem: (w) =>
        `Expected the reference image to be inside the project (${this.#rootDescription}), but ${JSON.stringify(w)} is outside it`,
    };
    if (!this.#inside(this.#root, abs)) return outside;
    let size: number;
    let st: BigIntStats;
    try {
      st = await stat(abs, { bigint: true });
      if (!st.isFile()) {
        const what = describeFileType(st);
        return {
          ok: false,
          problem: (w) => `Expected a reference image file at ${JSON.stringify(w)}, but it is ${what}`,
        };
      }
      size = Number(st.size);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' || code === 'ENOTDIR'
          ? 'there is no such file'
          : code === 'ELOOP'
            ? 'it is a loop of symlinks'
            : code === 'ENAMETOOLONG'
              ? 'the path is too long'
              : `it cannot be examined (${code ?? String(error)})`;
      return {
        ok: false,
        problem: (w) => `Expected a reference image at ${JSON.stringify(w)}, but ${why}`,
      };
    }
    // A symlink inside the project may point outside it.
    this.#realRoot ??= realpath(this.#root).catch(() => this.#root);
    const [realRoot, real] = await Promise.all([this.#realRoot, realpath(abs).catch(() => abs)]);
    if (!this.#inside(realRoot, real)) return outside;
    if (size > MAX_REFERENCE_IMAGE_BYTES) {
      return {
        ok: false,
        problem: (w) =>
          `Expected the reference image to be at most 20 MiB (${MAX_REFERENCE_IMAGE_BYTES} bytes), but ${JSON.stringify(w)} is ${size} bytes`,
      };
    }
    const displayPath = path.relative(this.#root, abs).split(path.sep).join('/');
    const known = this.#statCache?.lookup(abs, st);
    if (known !== undefined) return { ok: true, displayPath, ...known };
    const bytes = await readFile(abs);
    this.#filesRead++;
    const header = readImageHeader(bytes);
    if (!header.ok) {
      const detail = header.detail;
      return {
        ok: false,
        problem:
          header.reason === 'unknown-type'
            ? (w) => `Expected ${JSON.stringify(w)} to be a JPEG, PNG or WebP image, but it is ${detail}`
            : (w) =>
                `Expected ${JSON.stringify(w)} to be a readable JPEG, PNG or WebP image, but it is ${detail}`,
      };
    }
    const facts = {
      mime: header.header.mime,
      width: header.header.width,
      height: header.header.height,
      digest: asSha256(createHash('sha256').update(bytes).digest('hex')),
    };
    // The stat data is from before the read: a write during the read changes it, so the entry misses next time.
    this.#statCache?.record(abs, st, facts);
    return { ok: true, displayPath, ...facts };
  }
}
