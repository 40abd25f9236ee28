/**
 * Checks an `input_video:` by its bytes: inside the project (also after following symlinks), a file, at most
 * MAX_INPUT_VIDEO_BYTES, an MP4 or QuickTime container (the `ftyp` box, or a QuickTime file's first box), and
 * its duration read from the movie header (`mvhd`), so "at most 5 s" is checked without decoding a frame.
 * Each path is read and hashed once per load.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Sha256 } from '../core/brand.ts';
import { asSha256 } from '../core/brand.ts';
import { describeFileType } from '../core/file-type.ts';

/** 200 MiB: a 5 s clip is a few MB; anything this large is almost certainly the wrong file. */
export const MAX_INPUT_VIDEO_BYTES = 200 * 1024 * 1024;

export type VideoCheck =
  | {
      readonly ok: true;
      readonly displayPath: string;
      readonly mime: 'video/mp4' | 'video/quicktime';
      readonly durationSeconds: number;
      readonly digest: Sha256;
    }
  /** `problem` completes a message about the field that named the file. */
  | { readonly ok: false; readonly problem: (written: string) => string };

export class InputVideoChecker {
  readonly #root: string;
  readonly #rootDescription: string;
  readonly #cache = new Map<string, Promise<VideoCheck>>();

  constructor(options: { readonly root: string; readonly rootDescription: string }) {
    this.#root = options.root;
    this.#rootDescription = options.rootDescription;
  }

  check(abs: string): Promise<VideoCheck> {
    let result = this.#cache.get(abs);
    if (result === undefined) this.#cache.set(abs, (result = this.#check(abs)));
    return result;
  }

  async #check(abs: string): Promise<VideoCheck> {
    const inside = (root: string, p: string): boolean => {
      const rel = path.relative(root, p);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    };
    const outside: VideoCheck = {
      ok: false,
      problem: (w) =>
        `Expected the input video to be inside the project (${this.#rootDescription}), but ${JSON.stringify(w)} is outside it`,
    };
    if (!inside(this.#root, abs)) return outside;
    let size: number;
    try {
      const st = await stat(abs);
      if (!st.isFile()) {
        const what = describeFileType(st);
        return {
          ok: false,
          problem: (w) => `Expected a video file at ${JSON.stringify(w)}, but it is ${what}`,
        };
      }
      size = st.size;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' || code === 'ENOTDIR' ? 'there is no such file' : `it cannot be examined (${code})`;
      return { ok: false, problem: (w) => `Expected a video at ${JSON.stringify(w)}, but ${why}` };
    }
    const [realRoot, real] = await Promise.all([
      realpath(this.#root).catch(() => this.#root),
      realpath(abs).catch(() => abs),
    ]);
    if (!inside(realRoot, real)) return outside;
    if (size > MAX_INPUT_VIDEO_BYTES) {
      return {
        ok: false,
        problem: (w) =>
          `Expected the input video to be at most 200 MiB (${MAX_INPUT_VIDEO_BYTES} bytes), but ${JSON.stringify(w)} is ${size} bytes`,
      };
    }
    const bytes = await readFile(abs);
    const header = readVideoHeader(bytes);
    if (!header.ok) {
      const detail = header.detail;
      return {
        ok: false,
        problem: (w) => `Expected ${JSON.stringify(w)} to be an MP4 or QuickTime video, but ${detail}`,
      };
    }
    return {
      ok: true,
      displayPath: path.relative(this.#root, abs).split(path.sep).join('/'),
      mime: header.mime,
      durationSeconds: header.durationSeconds,
      digest: asSha256(createHash('sha256').update(bytes).digest('hex')),
    };
  }
}

/** The container type and duration of an ISO-BMFF (MP4/QuickTime) file, from its boxes. */
export function readVideoHeader(
  bytes: Uint8Array,
):
  | { readonly ok: true; readonly mime: 'video/mp4' | 'video/quicktime'; readonly durationSeconds: number }
  | { readonly ok: false; readonly detail: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  const boxes = (start: number, end: number): { type: string; body: number; end: number }[] => {
    const found: { type: string; body: number; end: number }[] = [];
    for (let at = start; at + 8 <= end;) {
      let size = view.getUint32(at);
      let body = at + 8;
      if (size === 1) {
        if (at + 16 > end) break;
        size = Number(view.getBigUint64(at + 8));
        body = at + 16;
      } else if (size === 0) size = end - at;
      if (size < body - at || at + size > end) break;
      found.push({ type: type(at + 4), body, end: at + size });
      at += size;
    }
    return found;
  };
  const top = boxes(0, bytes.length);
  const first = top[0];
  if (first === undefined || !['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].includes(first.type)) {
    return { ok: false, detail: 'it has no MP4 box structure' };
  }
  const brand = first.type === 'ftyp' && first.end - first.body >= 4 ? type(first.body) : '';
  const mime = brand === 'qt  ' || first.type !== 'ftyp' ? 'video/quicktime' : 'video/mp4';
  const moov = top.find((b) => b.type === 'moov');
  const mvhd = moov === undefined ? undefined : boxes(moov.body, moov.end).find((b) => b.type === 'mvhd');
  if (mvhd === undefined)
    return { ok: false, detail: 'it has no movie header (moov/mvhd): the file may be cut short' };
  const version = bytes[mvhd.body] ?? 0;
  const need = version === 1 ? 32 : 20;
  if (mvhd.end - mvhd.body < need) return { ok: false, detail: 'its movie header is cut short' };
  const timescale = view.getUint32(mvhd.body + (version === 1 ? 20 : 12));
  const duration = version === 1 ? Number(view.getBigUint64(mvhd.body + 24)) : view.getUint32(mvhd.body + 16);
  if (timescale === 0) return { ok: false, detail: 'its movie header has no time scale' };
  return { ok: true, mime, durationSeconds: duration / timescale };
}
