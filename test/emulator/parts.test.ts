/** Table tests for the emulator's pure parts: multipart and bracket keys, image probing, quota, text wrap. */
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateQuota, formatResetDuration } from '../../src/emulator/create-quota.ts';
import { mergeFaults, NO_FAULTS } from '../../src/emulator/emulator-faults.ts';
import { probeImage } from '../../src/emulator/image-probe.ts';
import { ensureExecutable, resolveFfmpegPath, wrapText } from '../../src/emulator/renderer.ts';
import {
  UploadedFile,
  fieldsFromParts,
  parseBody,
  parseMultipart,
  splitBracketKey,
} from '../../src/emulator/request-body.ts';
import { makePng } from './helpers.ts';

async function encode(form: FormData): Promise<{ body: Buffer; type: string }> {
  const req = new Request('http://x.invalid/', { method: 'POST', body: form });
  return { body: Buffer.from(await req.arrayBuffer()), type: req.headers.get('content-type')! };
}

describe('multipart bodies', () => {
  it.each([
    ['prompt', ['prompt']],
    ['input_reference[file_id]', ['input_reference', 'file_id']],
    ['a[b][c]', ['a', 'b', 'c']],
    ['tags[]', ['tags', '']],
    ['odd[x]y', ['odd[x]y']],
    ['[x]', ['[x]']],
  ])('splits %s', (key, expected) => {
    expect(splitBracketKey(key)).toEqual(expected);
  });

  it('parses what fetch encodes: fields, bracket objects, arrays and files', async () => {
    const form = new FormData();
    form.append('prompt', 'Ünïcode prompt\r\nwith a CRLF');
    form.append('video[id]', 'video_1');
    form.append('input_reference[image_url]', 'data:x');
    form.append('tags[]', 'a');
    form.append('tags[]', 'b');
    form.append('input_reference[file]', new File([Buffer.from([1, 2, 3])], 'r.png', { type: 'image/png' }));
    const { body, type } = await encode(form);
    const parsed = parseBody(body, type);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.kind).toBe('multipart');
    const f = parsed.value.fields as {
      input_reference: { image_url: string; file: UploadedFile };
    } & Record<string, unknown>;
    expect(f.prompt).toBe('Ünïcode prompt\r\nwith a CRLF');
    expect(f.video).toEqual({ id: 'video_1' });
    expect(f.tags).toEqual(['a', 'b']);
    expect(f.input_reference.image_url).toBe('data:x');
    expect(f.input_reference.file).toBeInstanceOf(UploadedFile);
    expect([...f.input_reference.file.bytes]).toEqual([1, 2, 3]);
    expect(f.input_reference.file).toMatchObject({ filename: 'r.png', contentType: 'image/png' });
  });

  it('reports broken multipart bodies', () => {
    expect(parseMultipart(Buffer.from('x'), 'multipart/form-data')).toEqual({
      ok: false,
      error: 'multipart body without a boundary parameter',
    });
    const r = parseMultipart(
      Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'),
      'multipart/form-data; boundary=b',
    );
    expect(r).toEqual({ ok: false, error: 'multipart body without its closing boundary' });
  });

  it('later duplicate keys win, and a JSON array body is refused', () => {
    expect(
      fieldsFromParts([
        { name: 'a', filename: undefined, contentType: undefined, bytes: Buffer.from('1') },
        { name: 'a', filename: undefined, contentType: undefined, bytes: Buffer.from('2') },
      ]),
    ).toEqual({ a: '2' });
    expect(parseBody(Buffer.from('[1]'), 'application/json')).toEqual({
      ok: false,
      error: { reason: 'not-an-object' },
    });
    expect(parseBody(Buffer.alloc(0), undefined)).toEqual({
      ok: true,
      value: { kind: 'empty', fields: {}, uploads: [] },
    });
  });
});

describe('probeImage', () => {
  it('reads PNG size', () => {
    expect(probeImage(makePng(33, 17))).toEqual({ mime: 'image/png', width: 33, height: 17 });
  });

  it('reads JPEG SOF and the three WebP flavours', () => {
    const jpeg = Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x02, 0xd0, 0x05, 0x00, 3, 0, 0, 0,
    ]);
    expect(probeImage(jpeg)).toEqual({ mime: 'image/jpeg', width: 1280, height: 720 });
    const webp = (chunk: string, payload: number[]): Buffer => {
      const b = Buffer.alloc(30);
      b.write('RIFF', 0, 'latin1');
      b.write('WEBP', 8, 'latin1');
      b.write(chunk, 12, 'latin1');
      Buffer.from(payload).copy(b, 20);
      return b;
    };
    expect(probeImage(webp('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02]))).toEqual({
      mime: 'image/webp',
      width: 1280,
      height: 720,
    });
    // VP8L: 14 bits width-1, 14 bits height-1 after the 0x2f signature.
    const bits = (100 - 1) | ((50 - 1) << 14);
    expect(
      probeImage(
        webp('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >> 24) & 0xff]),
      ),
    ).toEqual({
      mime: 'image/webp',
      width: 100,
      height: 50,
    });
    expect(probeImage(webp('VP8X', [0, 0, 0, 0, 0xff, 0x06, 0, 0xcf, 0x02, 0]))).toEqual({
      mime: 'image/webp',
      width: 1792,
      height: 720,
    });
    expect(probeImage(Buffer.from('GIF89a........................'))).toBeNull();
  });
});

describe('CreateQuota', () => {
  it('slides a one-minute window', () => {
    const q = new CreateQuota(2);
    expect(q.state(0)).toEqual({ limit: 2, remaining: 2, resetMs: 0, retryAfterMs: 0 });
    q.take(0);
    q.take(30_000);
    expect(q.state(45_000)).toEqual({ limit: 2, remaining: 0, resetMs: 45_000, retryAfterMs: 15_000 });
    expect(q.state(60_000)).toMatchObject({ remaining: 1, retryAfterMs: 0 });
    expect(q.state(90_000)).toMatchObject({ remaining: 2, resetMs: 0 });
    expect(() => new CreateQuota(0)).toThrow(TypeError);
  });

  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [12_000, '12s'],
    [12_001, '13s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});

describe('mergeFaults and wrapText', () => {
  it('merges valid fields and reports every invalid one', () => {
    const ok = mergeFaults(NO_FAULTS, { latencyMs: 10, moderationWords: ['x'] });
    expect(ok).toEqual({ ok: true, value: { ...NO_FAULTS, latencyMs: 10, moderationWords: ['x'] } });
    const bad = mergeFaults(NO_FAULTS, {
      dropConnectionRate: '1',
      moderationWords: [''],
      largeVideoBytes: 1.5,
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toHaveLength(3);
  });

  it('wraps prompts into lines and ellipsises the overflow', () => {
    expect(wrapText('a bb ccc dddd', 6, 5)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(wrapText('abcdefghij', 4, 5)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('one two three four', 5, 2)).toEqual(['one', 'two…']);
  });
});

describe('the ffmpeg binary', () => {
  it('is found in @ffmpeg-installer/ffmpeg and executable', () => {
    const path = resolveFfmpegPath();
    expect(path).toMatch(/ffmpeg$/);
    expect(() => accessSync(path, constants.X_OK)).not.toThrow();
  });

  it('gets its exec bit back when installs skipped package scripts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sora-build-exec-'));
    const file = join(dir, 'ffmpeg');
    writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    try {
      expect(ensureExecutable(file, dir)).toBe(file);
      expect(statSync(file).mode & 0o111).toBe(0o111);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
