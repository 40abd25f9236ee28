/**
 * Image type and pixel size from the bytes, never from the file name: a `.png` that is really a JPEG is
 * fine (we upload it with the right type), a text file named `.png` is an error. Our own small readers of
 * the PNG IHDR chunk, the JPEG SOF markers and the WebP VP8 / VP8L / VP8X chunks: only the header is
 * needed, and no image library has to decode anything.
 */
import type { ImageMime } from './types.ts';

export interface ImageHeader {
  readonly mime: ImageMime;
  readonly width: number;
  readonly height: number;
}

export type ImageHeaderResult =
  | { readonly ok: true; readonly header: ImageHeader }
  /** `kind` says what the bytes are: not an image we know, or a known type with a header we cannot read. */
  | { readonly ok: false; readonly reason: 'unknown-type' | 'corrupt'; readonly detail: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

const ascii = (bytes: Uint8Array, at: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(at, at + length));

export function readImageHeader(bytes: Uint8Array): ImageHeaderResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) return readPng(bytes, view);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return readJpeg(bytes, view);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
    return readWebp(bytes, view);
  }
  return { ok: false, reason: 'unknown-type', detail: describeStart(bytes) };
}

/** What the first bytes look like, for the message: text is shown as text, anything else as hex. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.subarray(0, 8);
  const printable = [...head].every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) return `text starting with ${JSON.stringify(ascii(head, 0, head.length))}`;
  return `bytes starting with ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

function readPng(bytes: Uint8Array, view: DataView): ImageHeaderResult {
  // Signature (8), then the first chunk must be IHDR: length (4), type (4), width (4), height (4).
  if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') {
    return { ok: false, reason: 'corrupt', detail: 'a PNG without an IHDR chunk' };
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0) return { ok: false, reason: 'corrupt', detail: 'a PNG of zero size' };
  return { ok: true, header: { mime: 'image/png', width, height } };
}

/** SOF markers carry the frame size: C0-CF except C4 (DHT), C8 (reserved) and CC (DAC). */
const isSof = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function readJpeg(bytes: Uint8Array, view: DataView): ImageHeaderResult {
  let i = 2; // after SOI
  while (i < bytes.length) {
    if (bytes[i] !== 0xff) return { ok: false, reason: 'corrupt', detail: 'a JPEG with a broken marker' };
    while (bytes[i] === 0xff) i++; // fill bytes
    const marker = bytes[i];
    i++;
    if (marker === undefined) break;
    // Markers without a length: TEM, RST0-7, SOI, EOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) break; // EOI or start of scan before any frame header
    if (i + 2 > bytes.length) break;
    const length = view.getUint16(i);
    if (length < 2) return { ok: false, reason: 'corrupt', detail: 'a JPEG with a broken segment' };
    if (isSof(marker)) {
      if (i + 7 > bytes.length) break;
      const height = view.getUint16(i + 3);
      const width = view.getUint16(i + 5);
      if (width === 0 || height === 0) {
        return { ok: false, reason: 'corrupt', detail: 'a JPEG of zero (or deferred) size' };
      }
      return { ok: true, header: { mime: 'image/jpeg', width, height } };
    }
    i += length;
  }
  return { ok: false, reason: 'corrupt', detail: 'a JPEG without a frame header (SOF)' };
}

function readWebp(bytes: Uint8Array, view: DataView): ImageHeaderResult {
  // RIFF header (12), then the first chunk: fourcc (4), size (4), data.
  const chunk = bytes.length >= 16 ? ascii(bytes, 12, 4) : '';
  const data = 20;
  const corrupt = (what: string): ImageHeaderResult => ({
    ok: false,
    reason: 'corrupt',
    detail: `a WebP ${what}`,
  });
  switch (chunk) {
    case 'VP8 ': {
      // Frame tag (3), start code 9d 01 2a, then 14-bit width and height (top 2 bits: scale).
      if (bytes.length < data + 10 || !startsWith(bytes, [0x9d, 0x01, 0x2a], data + 3)) {
        return corrupt('with a broken VP8 frame header');
      }
      const width = view.getUint16(data + 6, true) & 0x3fff;
      const height = view.getUint16(data + 8, true) & 0x3fff;
      return width > 0 && height > 0
        ? { ok: true, header: { mime: 'image/webp', width, height } }
        : corrupt('of zero size');
    }
    case 'VP8L': {
      // Signature 0x2f, then 14 bits width-1 and 14 bits height-1, little-endian.
      if (bytes.length < data + 5 || bytes[data] !== 0x2f) return corrupt('with a broken VP8L header');
      const bits = view.getUint32(data + 1, true);
      return {
        ok: true,
        header: { mime: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 },
      };
    }
    case 'VP8X': {
      // Flags (1), reserved (3), canvas width-1 (24 bits LE), canvas height-1 (24 bits LE).
      if (bytes.length < data + 10) return corrupt('with a broken VP8X header');
      const u24 = (at: number): number => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
      return {
        ok: true,
        header: { mime: 'image/webp', width: u24(data + 4) + 1, height: u24(data + 7) + 1 },
      };
    }
    default:
      return corrupt(`with an unknown first chunk ${JSON.stringify(chunk)}`);
  }
}
