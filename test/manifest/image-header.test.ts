/** Image type and size from the bytes: our own PNG / JPEG / WebP header readers against images sharp writes. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/manifest/image-header.ts';

const make = (width: number, height: number, channels: 3 | 4 = 3): ReturnType<typeof sharp> =>
  sharp({ create: { width, height, channels, background: { r: 10, g: 120, b: 200, alpha: 0.5 } } });

describe('readImageHeader', () => {
  it.each([
    ['PNG', () => make(1280, 720).png().toBuffer(), 'image/png', 1280, 720],
    ['baseline JPEG', () => make(720, 1280).jpeg().toBuffer(), 'image/jpeg', 720, 1280],
    ['progressive JPEG', () => make(333, 77).jpeg({ progressive: true }).toBuffer(), 'image/jpeg', 333, 77],
    [
      'JPEG with EXIF and ICC segments before the frame header',
      () => make(640, 480).withMetadata({ orientation: 1 }).jpeg().toBuffer(),
      'image/jpeg',
      640,
      480,
    ],
    ['lossy WebP (VP8)', () => make(1792, 1024).webp({ quality: 50 }).toBuffer(), 'image/webp', 1792, 1024],
    [
      'lossless WebP (VP8L)',
      () => make(1023, 513).webp({ lossless: true }).toBuffer(),
      'image/webp',
      1023,
      513,
    ],
    [
      'WebP with alpha (VP8X)',
      () => make(300, 200, 4).webp({ quality: 50 }).toBuffer(),
      'image/webp',
      300,
      200,
    ],
  ] as const)('reads a %s', async (name, build, mime, width, height) => {
    const bytes = await build();
    // Make sure each WebP case exercises the chunk kind it is named after.
    const chunk = /\((VP8L?X?)\)/.exec(name)?.[1];
    if (chunk !== undefined) expect(bytes.subarray(12, 16).toString('latin1').trimEnd()).toBe(chunk);
    expect(readImageHeader(bytes)).toEqual({ ok: true, header: { mime, width, height } });
  });

  it('names what a non-image is', () => {
    expect(readImageHeader(Buffer.from('hello, world'))).toEqual({
      ok: false,
      reason: 'unknown-type',
      detail: 'text starting with "hello, w"',
    });
    expect(readImageHeader(Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01]))).toEqual({
      ok: false,
      reason: 'unknown-type',
      detail: 'bytes starting with 47 49 46 38 39 61 01 00',
    });
    expect(readImageHeader(Buffer.from([0x00, 0x00, 0x01, 0xba, 0xff]))).toEqual({
      ok: false,
      reason: 'unknown-type',
      detail: 'bytes starting with 00 00 01 ba ff',
    });
    expect(readImageHeader(Buffer.alloc(0))).toEqual({
      ok: false,
      reason: 'unknown-type',
      detail: 'an empty file',
    });
  });

  it('says when a known type is truncated or broken', async () => {
    const png = await make(64, 64).png().toBuffer();
    expect(readImageHeader(png.subarray(0, 12))).toEqual({
      ok: false,
      reason: 'corrupt',
      detail: 'a PNG without an IHDR chunk',
    });
    const jpeg = await make(64, 64).jpeg().toBuffer();
    expect(readImageHeader(jpeg.subarray(0, 3))).toEqual({
      ok: false,
      reason: 'corrupt',
      detail: 'a JPEG without a frame header (SOF)',
    });
    const webp = await make(64, 64).webp().toBuffer();
    expect(readImageHeader(webp.subarray(0, 20))).toEqual({
      ok: false,
      reason: 'corrupt',
      detail: 'a WebP with a broken VP8 frame header',
    });
  });
});
