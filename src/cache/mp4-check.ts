import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { fail, ok } from '../core/result.ts';
import type { Result } from '../core/result.ts';

/**
 * A fast structural check of an MP4 before it enters the store: walk the top-level boxes by their headers
 * (ftyp, moov, mdat, …) without reading `mdat`, read `moov` (small: the index of the file) and take from it
 * the duration (mvhd), each track's kind (hdlr), the video track's size (tkhd) and codec (stsd). A download
 * cut short almost always fails here, because `mdat` or `moov` then ends past the end of the file.
 *
 * It is not a decoder: a file whose boxes are consistent but whose frames are garbage passes. That is the
 * trade: milliseconds per file, and a truncated or mislabelled download is caught before it is cached.
 */
export interface Mp4Info {
  readonly width: number;
  readonly height: number;
  /** mvhd duration / timescale. */
  readonly durationSeconds: number;
  readonly hasAudio: boolean;
  /** The video sample entry's four-character code: `avc1`, `hvc1`, `hev1`, `av01`, `vp09`, … */
  readonly videoCodec: string;
  /** The audio sample entry's code (`mp4a`, `Opus`, …), or null without audio. */
  readonly audioCodec: string | null;
  /**
   * The audio track's own length (its mdhd duration / timescale), or null without audio or mdhd. An encoder
   * can stop the sound early while the movie still lasts as long as its video: the mvhd duration hides that.
   */
  readonly audioDurationSeconds: number | null;
}

export type Mp4Failure =
  /** The file could not be opened. */
  | { readonly reason: 'unreadable'; readonly message: string }
  /** The first box is not `ftyp` (or the file is too small to hold one): not an MP4. */
  | { readonly reason: 'not-mp4'; readonly message: string }
  /** A box runs past the end of the file: the download was cut short. */
  | { readonly reason: 'truncated'; readonly message: string; readonly fileBytes: number }
  /** A box the check needs is absent (`moov`, `mvhd`, `mdat`, a video track, its `stsd`). */
  | { readonly reason: 'missing-box'; readonly box: string; readonly message: string }
  /** Boxes are present but inconsistent (a zero timescale, a box size smaller than its header, …). */
  | { readonly reason: 'malformed'; readonly message: string };

export interface Mp4CheckOptions {
  /**
   * Largest `moov` read into memory. Real moov boxes are kilobytes to a few megabytes; a larger one is
   * reported as malformed rather than allocated.
   * @default 64 MiB
   */
  readonly maxMoovBytes?: number;
}

interface BoxHeader {
  readonly type: string;
  /** Offset of the box's first byte. */
  readonly start: number;
  /** Offset just past the box. */
  readonly end: number;
  /** Offset of the payload (after the 8- or 16-byte header). */
  readonly payload: number;
}

/** Checks the MP4 at `path`. */
export async function checkMp4(
  path: string,
  options: Mp4CheckOptions = {},
): Promise<Result<Mp4Info, Mp4Failure>> {
  const maxMoovBytes = options.maxMoovBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(maxMoovBytes) || maxMoovBytes <= 0) {
    throw new TypeError(`Expected \`maxMoovBytes\` to be a positive integer, got ${String(maxMoovBytes)}`);
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return fail({ reason: 'unreadable', message: error instanceof Error ? error.message : String(error) });
  }
  try {
    return await checkOpened(handle, maxMoovBytes);
  } finally {
    await handle.close();
  }
}

async function checkOpened(handle: FileHandle, maxMoovBytes: number): Promise<Result<Mp4Info, Mp4Failure>> {
  const fileBytes = (await handle.stat()).size;
  const top: BoxHeader[] = [];
  let offset = 0;
  while (offset < fileBytes) {
    const header = await readHeader(handle, offset, fileBytes);
    if (!header.ok) {
      if (top.length === 0)
        return fail({ reason: 'not-mp4', message: 'The file does not start with an MP4 box.' });
      return header;
    }
    const box = header.value;
    if (top.length === 0 && box.type !== 'ftyp') {
      return fail({
        reason: 'not-mp4',
        message: `Expected the first box to be ftyp, but it was ${printable(box.type)}.`,
      });
    }
    if (box.end > fileBytes) {
      return fail({
        reason: 'truncated',
        message: `The ${printable(box.type)} box ends at byte ${box.end}, past the end of the ${fileBytes}-byte file.`,
        fileBytes,
      });
    }
    top.push(box);
    offset = box.end;
  }
  if (top.length === 0) return fail({ reason: 'not-mp4', message: 'The file is empty.' });
  const moov = top.find((b) => b.type === 'moov');
  if (moov === undefined) return missing('moov', 'The file has no moov box (no index of its tracks).');
  if (!top.some((b) => b.type === 'mdat'))
    return missing('mdat', 'The file has no mdat box (no media data).');
  const moovBytes = moov.end - moov.payload;
  if (moovBytes > maxMoovBytes) {
    return fail({
      reason: 'malformed',
      message: `The moov box is ${moovBytes} bytes, more than ${maxMoovBytes}.`,
    });
  }
  const buffer = Buffer.alloc(moovBytes);
  await handle.read(buffer, 0, moovBytes, moov.payload);
  return parseMoov(buffer);
}

async function readHeader(
  handle: FileHandle,
  offset: number,
  fileBytes: number,
): Promise<Result<BoxHeader, Mp4Failure>> {
  if (fileBytes - offset < 8) {
    return fail({ reason: 'truncated', message: `A box header at byte ${offset} is cut off.`, fileBytes });
  }
  const head = Buffer.alloc(16);
  const { bytesRead } = await handle.read(head, 0, Math.min(16, fileBytes - offset), offset);
  return headerAt(head.subarray(0, bytesRead), 0, offset, fileBytes);
}

/**
 * Reads a box header from `buf` at `at`; `base` is the absolute offset of `buf[0]` and `limit` the absolute
 * end of the enclosing space (size 0 means "to the end").
 */
function headerAt(buf: Buffer, at: number, base: number, limit: number): Result<BoxHeader, Mp4Failure> {
  if (buf.length - at < 8) {
    return fail({
      reason: 'truncated',
      message: `A box header at byte ${base + at} is cut off.`,
      fileBytes: limit,
    });
  }
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let headerBytes = 8;
  if (size === 1) {
    if (buf.length - at < 16) {
      return fail({
        reason: 'truncated',
        message: `A box header at byte ${base + at} is cut off.`,
        fileBytes: limit,
      });
    }
    const large = buf.readBigUInt64BE(at + 8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) {
      return fail({ reason: 'malformed', message: `The ${printable(type)} box claims an impossible size.` });
    }
    size = Number(large);
    headerBytes = 16;
  } else if (size === 0) {
    size = limit - (base + at);
  }
  if (size < headerBytes) {
    return fail({
      reason: 'malformed',
      message: `The ${printable(type)} box at byte ${base + at} has size ${size}, smaller than its header.`,
    });
  }
  const start = base + at;
  return ok({ type, start, end: start + size, payload: start + headerBytes });
}

/** The children of a box held in memory: `buf` holds bytes [from, to) relative to the buffer. */
function children(buf: Buffer, from: number, to: number): Result<BoxHeader[], Mp4Failure> {
  const boxes: BoxHeader[] = [];
  let at = from;
  while (at < to) {
    const header = headerAt(buf, at, 0, to);
    if (!header.ok) return header;
    if (header.value.end > to) {
      return fail({
        reason: 'malformed',
        message: `The ${printable(header.value.type)} box runs past the end of its parent.`,
      });
    }
    boxes.push(header.value);
    at = header.value.end;
  }
  return ok(boxes);
}

interface Track {
  handler: string | null;
  width: number;
  height: number;
  codec: string | null;
  /** mdhd duration / timescale, or null when absent. */
  seconds: number | null;
}

function parseMoov(moov: Buffer): Result<Mp4Info, Mp4Failure> {
  const boxes = children(moov, 0, moov.length);
  if (!boxes.ok) return boxes;
  const mvhd = boxes.value.find((b) => b.type === 'mvhd');
  if (mvhd === undefined) return missing('mvhd', 'The moov box has no mvhd (movie header).');
  const duration = readMvhd(moov, mvhd);
  if (!duration.ok) return duration;
  const tracks: Track[] = [];
  for (const trak of boxes.value.filter((b) => b.type === 'trak')) {
    const track = readTrak(moov, trak);
    if (!track.ok) return track;
    tracks.push(track.value);
  }
  const video = tracks.find((t) => t.handler === 'vide');
  if (video === undefined) return missing('video-track', 'The file has no video track.');
  if (video.codec === null) return missing('stsd', 'The video track has no sample description (stsd).');
  const audio = tracks.find((t) => t.handler === 'soun');
  return ok({
    width: video.width,
    height: video.height,
    durationSeconds: duration.value,
    hasAudio: audio !== undefined,
    videoCodec: video.codec,
    audioCodec: audio?.codec ?? null,
    audioDurationSeconds: audio?.seconds ?? null,
  });
}

function readMvhd(buf: Buffer, box: BoxHeader): Result<number, Mp4Failure> {
  const p = box.payload;
  const version = buf.readUInt8(p);
  const need = version === 1 ? 32 : 20;
  if (box.end - p < need) return fail({ reason: 'malformed', message: 'The mvhd box is too short.' });
  // version 1: 64-bit creation/modification times and duration; version 0: 32-bit.
  const timescale = version === 1 ? buf.readUInt32BE(p + 20) : buf.readUInt32BE(p + 12);
  const duration = version === 1 ? Number(buf.readBigUInt64BE(p + 24)) : buf.readUInt32BE(p + 16);
  if (timescale === 0) return fail({ reason: 'malformed', message: 'The mvhd timescale is 0.' });
  return ok(duration / timescale);
}

/** A track's length from its mdhd (same layout as mvhd up to the duration), or null when unreadable. */
function readMdhd(buf: Buffer, box: BoxHeader): number | null {
  const p = box.payload;
  const version = buf.readUInt8(p);
  if (box.end - p < (version === 1 ? 32 : 20)) return null;
  const timescale = version === 1 ? buf.readUInt32BE(p + 20) : buf.readUInt32BE(p + 12);
  const duration = version === 1 ? Number(buf.readBigUInt64BE(p + 24)) : buf.readUInt32BE(p + 16);
  return timescale === 0 ? null : duration / timescale;
}

function readTrak(buf: Buffer, trak: BoxHeader): Result<Track, Mp4Failure> {
  const track: Track = { handler: null, width: 0, height: 0, codec: null, seconds: null };
  const boxes = children(buf, trak.payload, trak.end);
  if (!boxes.ok) return boxes;
  const tkhd = boxes.value.find((b) => b.type === 'tkhd');
  if (tkhd !== undefined) {
    const p = tkhd.payload;
    const version = buf.readUInt8(p);
    // width/height (16.16 fixed point) are the last 8 bytes of tkhd in both versions (84 or 96 byte payload).
    const need = version === 1 ? 92 : 80;
    if (tkhd.end - p < need + 4) return fail({ reason: 'malformed', message: 'The tkhd box is too short.' });
    track.width = Math.round(buf.readUInt32BE(p + need - 4) / 65536);
    track.height = Math.round(buf.readUInt32BE(p + need) / 65536);
  }
  const mdia = boxes.value.find((b) => b.type === 'mdia');
  if (mdia === undefined) return ok(track);
  const mdiaBoxes = children(buf, mdia.payload, mdia.end);
  if (!mdiaBoxes.ok) return mdiaBoxes;
  const hdlr = mdiaBoxes.value.find((b) => b.type === 'hdlr');
  if (hdlr !== undefined && hdlr.end - hdlr.payload >= 12) {
    // version/flags (4), pre_defined (4), handler_type (4)
    track.handler = buf.toString('latin1', hdlr.payload + 8, hdlr.payload + 12);
  }
  const mdhd = mdiaBoxes.value.find((b) => b.type === 'mdhd');
  if (mdhd !== undefined) track.seconds = readMdhd(buf, mdhd);
  const stsd = findPath(buf, mdiaBoxes.value, ['minf', 'stbl', 'stsd']);
  if (!stsd.ok) return stsd;
  if (stsd.value !== undefined && stsd.value.end - stsd.value.payload >= 16) {
    // version/flags (4), entry_count (4), then the first sample entry's header: size (4), format (4)
    const entries = buf.readUInt32BE(stsd.value.payload + 4);
    if (entries > 0) track.codec = buf.toString('latin1', stsd.value.payload + 12, stsd.value.payload + 16);
  }
  return ok(track);
}

function findPath(
  buf: Buffer,
  boxes: BoxHeader[],
  path: string[],
): Result<BoxHeader | undefined, Mp4Failure> {
  let level = boxes;
  let found: BoxHeader | undefined;
  for (const [i, type] of path.entries()) {
    found = level.find((b) => b.type === type);
    if (found === undefined) return ok(undefined);
    if (i < path.length - 1) {
      const next = children(buf, found.payload, found.end);
      if (!next.ok) return next;
      level = next.value;
    }
  }
  return ok(found);
}

function missing(box: string, message: string): Result<never, Mp4Failure> {
  return fail({ reason: 'missing-box', box, message });
}

function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? `'${type}'` : `0x${Buffer.from(type, 'latin1').toString('hex')}`;
}

/** One way a checked MP4 differs from what was requested. */
export type Mp4Mismatch =
  | { readonly field: 'size'; readonly expected: string; readonly actual: string }
  | { readonly field: 'seconds'; readonly expected: number; readonly actual: number }
  /** The sound stops well before the picture does (a Sora 2 video has sound for its whole length). */
  | { readonly field: 'audio-seconds'; readonly expected: number; readonly actual: number };

/**
 * Compares a checked MP4 with the request (`size` as `WIDTHxHEIGHT`, `seconds`); returns every mismatch
 * (empty when it matches). Durations differ slightly from the request by encoder rounding, hence the
 * tolerance. A video with an audio track must have sound for its whole length, give or take the same
 * tolerance (AAC frames and encoder priming shift the end by a few tens of milliseconds): a track that stops
 * after 0.06 s of an 8 s video is not what was ordered. A video without audio passes (Sora 1 has none).
 */
export function compareMp4ToRequest(
  info: Mp4Info,
  request: { readonly size: string; readonly seconds: number },
  options: {
    /**
     * Allowed difference in seconds.
     * @default 0.5
     */
    readonly toleranceSeconds?: number;
  } = {},
): Mp4Mismatch[] {
  const tolerance = options.toleranceSeconds ?? 0.5;
  if (!(tolerance >= 0))
    throw new TypeError(`Expected \`toleranceSeconds\` to be >= 0, got ${String(tolerance)}`);
  const mismatches: Mp4Mismatch[] = [];
  const actualSize = `${info.width}x${info.height}`;
  if (actualSize !== request.size)
    mismatches.push({ field: 'size', expected: request.size, actual: actualSize });
  if (Math.abs(info.durationSeconds - request.seconds) > tolerance) {
    mismatches.push({ field: 'seconds', expected: request.seconds, actual: info.durationSeconds });
  }
  const audio = info.audioDurationSeconds;
  if (audio !== null && info.durationSeconds - audio > tolerance) {
    mismatches.push({ field: 'audio-seconds', expected: info.durationSeconds, actual: audio });
  }
  return mismatches;
}
