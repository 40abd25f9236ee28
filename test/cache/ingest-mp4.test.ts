import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMp4, compareMp4ToRequest } from '../../src/cache/mp4-check.ts';
import { Store } from '../../src/cache/store.ts';
import { fail, ok } from '../../src/core/result.ts';

// The engine's download path, composed from the parts: stream -> Store.ingest with an MP4 check as
// `verify` -> materialise into out/.
let dir: string;
let video: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-mp4-'));
  const mod = (await import('@ffmpeg-installer/ffmpeg')) as { path?: string; default?: { path: string } };
  const bin = mod.path ?? mod.default!.path;
  await chmod(bin, 0o755).catch(() => {});
  const file = join(dir, 'render.mp4');
  await promisify(execFile)(bin, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=128x72:rate=4',
    '-t',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    file,
  ]);
  video = await readFile(file);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A download body that delivers `bytes` in small chunks, like fetch's. */
function body(bytes: Buffer): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(new Uint8Array(bytes.subarray(at, (at += 1000))));
    },
  });
}

const verifyFor = (request: { size: string; seconds: number }) => async (path: string) => {
  const checked = await checkMp4(path);
  if (!checked.ok) return fail(checked.error.reason);
  const mismatches = compareMp4ToRequest(checked.value, request);
  return mismatches.length === 0
    ? ok(checked.value)
    : fail(`mismatch: ${mismatches.map((m) => m.field).join(',')}`);
};

describe('download -> verified CAS object -> out/', () => {
  it('stores a good render and hardlinks it into out/', async () => {
    const store = Store.open(join(dir, 'cache'));
    const result = await store.ingest(body(video), {
      expected: { bytes: video.length },
      verify: verifyFor({ size: '128x72', seconds: 4 }),
    });
    expect(result.ok && result.value.verified).toMatchObject({ width: 128, height: 72, videoCodec: 'avc1' });
    if (!result.ok) return;
    const dest = join(dir, 'out', 'harbor.mp4');
    await store.materialise(result.value.digest, dest);
    expect((await stat(dest)).size).toBe(video.length);
  });

  it('never stores a truncated body, even when the server sent no Content-Length', async () => {
    const store = Store.open(join(dir, 'cache2'));
    const cut = video.subarray(0, video.length - 500);
    const result = await store.ingest(body(cut), { verify: verifyFor({ size: '128x72', seconds: 4 }) });
    expect(result).toEqual({ ok: false, error: { reason: 'verify-failed', error: 'truncated' } });
    expect(await store.listObjects()).toEqual([]);
    expect(await readdir(join(dir, 'cache2', 'tmp'))).toEqual([]);
  });

  it('rejects a render of the wrong size or length', async () => {
    const store = Store.open(join(dir, 'cache3'));
    const result = await store.ingest(body(video), { verify: verifyFor({ size: '1280x720', seconds: 8 }) });
    expect(result).toEqual({
      ok: false,
      error: { reason: 'verify-failed', error: 'mismatch: size,seconds' },
    });
  });

  it('accepts the short form ingest(stream, {bytes}) from interfaces.md', async () => {
    const store = Store.open(join(dir, 'cache4'));
    expect(await store.ingest(body(video), { bytes: video.length + 1 })).toEqual({
      ok: false,
      error: { reason: 'truncated', expectedBytes: video.length + 1, receivedBytes: video.length },
    });
  });
});
