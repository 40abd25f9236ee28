import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMp4, compareMp4ToRequest } from '../../src/cache/mp4-check.ts';

const run = promisify(execFile);
let dir: string;
let silent: string;
let withAudio: string;
let faststart: string;
let shortAudio: string;

async function ffmpeg(args: string[]): Promise<void> {
  const mod = (await import('@ffmpeg-installer/ffmpeg')) as { path?: string; default?: { path: string } };
  const bin = mod.path ?? mod.default!.path;
  await chmod(bin, 0o755).catch(() => {});
  await run(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mp4-check-'));
  silent = join(dir, 'silent.mp4');
  withAudio = join(dir, 'audio.mp4');
  faststart = join(dir, 'faststart.mp4');
  shortAudio = join(dir, 'short-audio.mp4');
  const video = ['-f', 'lavfi', '-i', 'testsrc=size=128x72:rate=4'];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  await Promise.all([
    ffmpeg([...video, '-t', '2', ...x264, silent]),
    ffmpeg([
      ...video,
      '-f',
      'lavfi',
      '-i',
      'sine',
      '-t',
      '2',
      ...x264,
      '-c:a',
      'aac',
      '-shortest',
      withAudio,
    ]),
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=72x128:rate=4',
      '-t',
      '4',
      ...x264,
      '-movflags',
      '+faststart',
      faststart,
    ]),
    // The fault issue 11 found in the emulator's videos: a tenth of a second of sound in a 2 s video.
    ffmpeg([
      ...video,
      '-f',
      'lavfi',
      '-i',
      'sine=duration=0.1',
      '-t',
      '2',
      ...x264,
      '-c:a',
      'aac',
      shortAudio,
    ]),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkMp4', () => {
  it('reads size, duration, codec and the absence of audio from a silent H.264 file', async () => {
    const result = await checkMp4(silent);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      width: 128,
      height: 72,
      hasAudio: false,
      videoCodec: 'avc1',
      audioCodec: null,
    });
    expect(result.value.durationSeconds).toBeCloseTo(2, 1);
  });

  it('finds the AAC audio track', async () => {
    const result = await checkMp4(withAudio);
    expect(result.ok && result.value).toMatchObject({
      width: 128,
      height: 72,
      hasAudio: true,
      audioCodec: 'mp4a',
    });
    if (result.ok) expect(result.value.audioDurationSeconds).toBeCloseTo(2, 1);
  });

  it("reads the audio track's own length when the sound stops before the picture", async () => {
    const result = await checkMp4(shortAudio);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.durationSeconds).toBeCloseTo(2, 1);
    expect(result.value.audioDurationSeconds).toBeLessThan(0.2);
    const mismatches = compareMp4ToRequest(result.value, { size: '128x72', seconds: 2 });
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ field: 'audio-seconds' });
  });

  it('handles moov before mdat (faststart) and portrait sizes', async () => {
    const result = await checkMp4(faststart);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([result.value.width, result.value.height]).toEqual([72, 128]);
    expect(result.value.durationSeconds).toBeCloseTo(4, 1);
  });

  it.each([
    ['half', 0.5],
    ['all but one byte', -1],
    ['the first 20 bytes', 20],
  ])('reports a copy cut to %s as truncated', async (_name, cut) => {
    const copy = join(dir, `cut-${String(cut)}.mp4`);
    await copyFile(withAudio, copy);
    const size = (await stat(copy)).size;
    await truncate(copy, cut === 0.5 ? Math.floor(size / 2) : cut < 0 ? size + cut : cut);
    const result = await checkMp4(copy);
    expect(result.ok ? 'ok' : result.error.reason).toBe('truncated');
  });

  it('also catches truncation of a faststart file (mdat ends past the end)', async () => {
    const copy = join(dir, 'cut-fast.mp4');
    await copyFile(faststart, copy);
    await truncate(copy, (await stat(copy)).size - 100);
    const result = await checkMp4(copy);
    expect(result.ok ? 'ok' : result.error).toMatchObject({ reason: 'truncated' });
    if (!result.ok) expect(result.error.message).toMatch(/'mdat' box ends at byte \d+, past the end/);
  });

  it('rejects files that are not MP4s, and an empty file', async () => {
    const html = join(dir, 'error.html');
    await writeFile(html, '<html><body>502 Bad Gateway</body></html>');
    const empty = join(dir, 'empty.mp4');
    await writeFile(empty, '');
    expect(await checkMp4(html)).toMatchObject({ ok: false, error: { reason: 'not-mp4' } });
    expect(await checkMp4(empty)).toMatchObject({ ok: false, error: { reason: 'not-mp4' } });
    expect(await checkMp4(join(dir, 'absent.mp4'))).toMatchObject({
      ok: false,
      error: { reason: 'unreadable' },
    });
  });

  it('reports a missing moov when the index is renamed away', async () => {
    const bytes = await readFile(faststart);
    const at = bytes.indexOf('moov');
    bytes.write('free', at, 'latin1');
    const broken = join(dir, 'no-moov.mp4');
    await writeFile(broken, bytes);
    expect(await checkMp4(broken)).toMatchObject({
      ok: false,
      error: { reason: 'missing-box', box: 'moov' },
    });
  });

  it('reports a corrupted box size inside moov as malformed', async () => {
    const bytes = await readFile(faststart);
    const at = bytes.indexOf('mvhd') - 4;
    bytes.writeUInt32BE(0xfffffff0, at);
    const broken = join(dir, 'bad-mvhd.mp4');
    await writeFile(broken, bytes);
    expect(await checkMp4(broken)).toMatchObject({ ok: false, error: { reason: 'malformed' } });
  });
});

describe('compareMp4ToRequest', () => {
  const info = {
    width: 1280,
    height: 720,
    durationSeconds: 8.02,
    hasAudio: true,
    videoCodec: 'avc1',
    audioCodec: 'mp4a',
    audioDurationSeconds: 8.0,
  };
  it.each([
    [{ size: '1280x720', seconds: 8 }, []],
    [{ size: '720x1280', seconds: 8 }, [{ field: 'size', expected: '720x1280', actual: '1280x720' }]],
    [{ size: '1280x720', seconds: 4 }, [{ field: 'seconds', expected: 4, actual: 8.02 }]],
  ])('%j -> %j', (request, expected) => {
    expect(compareMp4ToRequest(info, request)).toEqual(expected);
  });

  it.each([
    [8.0, []],
    [7.6, []],
    [null, []],
    [0.064, [{ field: 'audio-seconds', expected: 8.02, actual: 0.064 }]],
    [4, [{ field: 'audio-seconds', expected: 8.02, actual: 4 }]],
  ])('audio lasting %j of 8.02 s -> %j', (audio, expected) => {
    expect(
      compareMp4ToRequest({ ...info, audioDurationSeconds: audio }, { size: '1280x720', seconds: 8 }),
    ).toEqual(expected);
  });
});

/** Builds a box: 32-bit size, type, payload. */
function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** A hand-made file using the 64-bit forms: mvhd and tkhd version 1, an mdat with a 64-bit largesize. */
function version1File(): Buffer {
  const mvhd = Buffer.alloc(4 + 8 + 8 + 4 + 8 + 80);
  mvhd.writeUInt8(1, 0);
  mvhd.writeUInt32BE(1000, 20); // timescale
  mvhd.writeBigUInt64BE(12_000n, 24); // duration: 12 s
  const tkhd = Buffer.alloc(96);
  tkhd.writeUInt8(1, 0);
  tkhd.writeUInt32BE(1792 * 65536, 88);
  tkhd.writeUInt32BE(1024 * 65536, 92);
  const hdlr = Buffer.alloc(24);
  hdlr.write('vide', 8, 'latin1');
  const stsd = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), box('hvc1', Buffer.alloc(78))]);
  const trak = box(
    'trak',
    box('tkhd', tkhd),
    box('mdia', box('hdlr', hdlr), box('minf', box('stbl', box('stsd', stsd)))),
  );
  const media = Buffer.alloc(100);
  const mdatHead = Buffer.alloc(16);
  mdatHead.writeUInt32BE(1, 0);
  mdatHead.write('mdat', 4, 'latin1');
  mdatHead.writeBigUInt64BE(BigInt(16 + media.length), 8);
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\0\0isom')),
    box('moov', box('mvhd', mvhd), trak),
    mdatHead,
    media,
  ]);
}

describe('checkMp4 on 64-bit box forms', () => {
  it('reads version-1 mvhd/tkhd and a largesize mdat', async () => {
    const path = join(dir, 'v1.mp4');
    await writeFile(path, version1File());
    expect(await checkMp4(path)).toEqual({
      ok: true,
      value: {
        width: 1792,
        height: 1024,
        durationSeconds: 12,
        hasAudio: false,
        videoCodec: 'hvc1',
        audioCodec: null,
        audioDurationSeconds: null,
      },
    });
  });

  it('reports a largesize mdat running past the end as truncated', async () => {
    const path = join(dir, 'v1-cut.mp4');
    const bytes = version1File();
    await writeFile(path, bytes.subarray(0, bytes.length - 1));
    expect(await checkMp4(path)).toMatchObject({ ok: false, error: { reason: 'truncated' } });
  });
});
