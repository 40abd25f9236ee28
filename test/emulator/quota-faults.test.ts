/**
 * The create quota (429 with its headers) and every injectable fault, set in code and over the control
 * endpoint; plus seeded determinism and the request log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { call, expectSchema, probeMedia } from './helpers.ts';

const START = Date.UTC(2026, 2, 1);

describe('create quota', () => {
  let clock: FakeClock;
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    clock = new FakeClock(START);
    emulator = await startEmulator({ clock, seed: 3, createsPerMinute: 2, renderSecondsPerSecond: 0 });
  });
  afterAll(() => emulator.close());

  it('counts create, remix and extend in a sliding minute, answers 429 with Retry-After, and not reads', async () => {
    const v1 = `${emulator.url}/v1`;
    const a = await call(`${v1}/videos`, { method: 'POST', json: { prompt: 'one' } });
    expect(a.status).toBe(200);
    expect(a.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(a.headers.get('x-ratelimit-reset-requests')).toBe('1m');
    const id = (a.body as { id: string }).id;
    for (let i = 0; i < 5; i++) expect((await call(`${v1}/videos/${id}`)).status).toBe(200);
    await clock.advance(10_000);
    const remix = await call(`${v1}/videos/${id}/remix`, { method: 'POST', json: { prompt: 'two' } });
    expect(remix.status).toBe(200);
    expect(remix.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    await clock.advance(10_000);
    const refused = await call(`${v1}/videos/extensions`, {
      method: 'POST',
      json: { prompt: 'three', seconds: '4', video: { id } },
    });
    expect(refused.status).toBe(429);
    expectSchema('ErrorResponse', refused.body);
    expect((refused.body as { error: unknown }).error).toEqual({
      message:
        'Rate limit reached for sora-2 on requests per min (RPM): Limit 2, Used 2, Requested 1. Please try again in 40s.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
    // Emulator time: the first create (t=0) leaves the window at t=60 s; it is now t=20 s.
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(refused.headers.get('retry-after-ms')).toBe('40000');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset-requests')).toBe('50s');
    await clock.advance(39_999);
    expect(
      (await call(`${v1}/videos`, { method: 'POST', json: { prompt: 'x' } })).headers.get('retry-after-ms'),
    ).toBe('1');
    await clock.advance(1);
    expect((await call(`${v1}/videos`, { method: 'POST', json: { prompt: 'four' } })).status).toBe(200);
    expect(emulator.requestLog().map((e) => e.status)).toEqual([
      200, 200, 200, 200, 200, 200, 200, 429, 429, 200,
    ]);
  });
});

describe('faults', () => {
  let clock: FakeClock;
  let emulator: EmulatorHandle;
  let v1: string;
  beforeAll(async () => {
    clock = new FakeClock(START);
    emulator = await startEmulator({ clock, seed: 5, createsPerMinute: Infinity });
    v1 = `${emulator.url}/v1`;
  });
  afterAll(() => emulator.close());

  const create = async (prompt: string): Promise<string> => {
    const res = await call(`${v1}/videos`, { method: 'POST', json: { prompt } });
    expect(res.status).toBe(200);
    return (res.body as { id: string }).id;
  };

  it('fails jobs whose prompt has a moderation word, and rejects reject-words synchronously', async () => {
    emulator.setFaults({ moderationWords: ['Forbidden'], moderationRejectWords: ['banned'] });
    const id = await create('a forbidden scene');
    expect((await call(`${v1}/videos/${id}`)).body).toMatchObject({ status: 'queued' });
    await clock.advance(2_400);
    const failed = (await call(`${v1}/videos/${id}`)).body;
    expectSchema('VideoResource', failed);
    expect(failed).toMatchObject({
      status: 'failed',
      progress: 0,
      completed_at: null,
      expires_at: null,
      error: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' },
    });
    const before = emulator.requestLog().length;
    const rejected = await call(`${v1}/videos`, { method: 'POST', json: { prompt: 'a BANNED scene' } });
    expect(rejected.status).toBe(400);
    expect(rejected.body).toMatchObject({
      error: { code: 'moderation_blocked', type: 'invalid_request_error' },
    });
    expect(emulator.requestLog()[before]).toMatchObject({ status: 400 });
    expect(emulator.requestLog()[before]!.videoId).toBeUndefined();
    emulator.setFaults({ moderationWords: [], moderationRejectWords: [] });
  });

  it('fails a share of jobs while rendering; failed videos can be deleted', async () => {
    emulator.setFaults({ jobFailureRate: 1 });
    const id = await create('doomed');
    emulator.setFaults({ jobFailureRate: 0 });
    await clock.advance(30_000);
    const failed = (await call(`${v1}/videos/${id}`)).body as { progress: number };
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    expect(failed.progress).toBeGreaterThan(0);
    expect((await call(`${v1}/videos/${id}/content`)).status).toBe(400);
    expect((await call(`${v1}/videos/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('answers 500 and drops connections on demand', async () => {
    emulator.setFaults({ serverErrorRate: 1 });
    const res = await call(`${v1}/videos`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    emulator.setFaults({ serverErrorRate: 0, dropConnectionRate: 1 });
    await expect(call(`${v1}/videos`)).rejects.toThrow();
    emulator.setFaults({ dropConnectionRate: 0 });
    expect(emulator.requestLog().slice(-2)).toMatchObject([
      { status: 500, fault: 'server-error' },
      { status: 0, fault: 'dropped-connection' },
    ]);
  });

  it('loses a create response after making the job', async () => {
    emulator.setFaults({ lostCreateResponseRate: 1 });
    await expect(
      call(`${v1}/videos`, { method: 'POST', json: { prompt: 'did it go through?' } }),
    ).rejects.toThrow();
    expect((await call(`${v1}/videos?limit=1`)).status).toBe(200); // reads are unaffected
    emulator.setFaults({ lostCreateResponseRate: 0 });
    const lost = emulator.requestLog().find((e) => e.fault === 'lost-response')!;
    expect(lost).toMatchObject({ method: 'POST', path: '/v1/videos', status: 0 });
    const newest = (await call(`${v1}/videos?limit=1`)).body as { data: { id: string; prompt: string }[] };
    expect(newest.data[0]).toMatchObject({ id: lost.videoId, prompt: 'did it go through?' });
  });

  // One rendered video serves both download faults: renders are the slow part of this file.
  let payload = '';

  it('truncates a download after promising its full length', async () => {
    const id = await create('download faults');
    payload = id;
    await clock.advance(30_000);
    emulator.setFaults({ truncateDownloadRate: 1 });
    const res = await fetch(`${v1}/videos/${id}/content`, { headers: { authorization: 'Bearer k' } });
    emulator.setFaults({ truncateDownloadRate: 0 });
    expect(res.status).toBe(200);
    const promised = Number(res.headers.get('content-length'));
    expect(promised).toBeGreaterThan(1000);
    let received = 0;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.length;
        }
      })(),
    ).rejects.toThrow();
    expect(received).toBe(Math.floor(promised / 2));
    const full = await fetch(`${v1}/videos/${id}/content`, { headers: { authorization: 'Bearer k' } });
    expect((await full.arrayBuffer()).byteLength).toBe(promised);
    expect(emulator.requestLog().filter((e) => e.fault === 'truncated-download')).toHaveLength(1);
  });

  it('pads videos to largeVideoBytes with a free box, still a valid MP4', async () => {
    const id = payload;
    emulator.setFaults({ largeVideoBytes: 3_000_000 });
    const res = await fetch(`${v1}/videos/${id}/content`, { headers: { authorization: 'Bearer k' } });
    emulator.setFaults({ largeVideoBytes: 0 });
    expect(res.headers.get('content-length')).toBe('3000000');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(3_000_000);
    const facts = await probeMedia(bytes);
    expect([facts.videoCodec, facts.width, facts.height]).toEqual(['avc', 720, 1280]);
    expect(Math.abs(facts.duration - 4)).toBeLessThan(0.1);
    // Walk the top-level boxes: they tile the file exactly and the last is the padding.
    const boxes: string[] = [];
    for (let pos = 0; pos < bytes.length; pos += bytes.readUInt32BE(pos))
      boxes.push(bytes.toString('latin1', pos + 4, pos + 8));
    expect(boxes.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(boxes.slice(-2)).toEqual(['free', 'free']);
  });

  it('delays responses by latencyMs of emulator time', async () => {
    emulator.setFaults({ latencyMs: 5_000 });
    let done = false;
    const pending = call(`${v1}/videos?limit=1`).then((r) => {
      done = true;
      return r;
    });
    while (clock.pending === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(4_999);
    expect(done).toBe(false);
    await clock.advance(1);
    expect((await pending).status).toBe(200);
    emulator.setFaults({ latencyMs: 0 });
  });

  it('takes faults and serves the log over the control endpoint', async () => {
    const url = `${emulator.url}/__emulator`;
    const set = await fetch(`${url}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ serverErrorRate: 0.5, moderationWords: ['gore'] }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ serverErrorRate: 0.5, moderationWords: ['gore'], latencyMs: 0 });
    expect(emulator.faults().serverErrorRate).toBe(0.5);
    const bad = await fetch(`${url}/faults`, {
      method: 'POST',
      body: JSON.stringify({ serverErrorRate: 2, latencyMs: -1, nope: true }),
    });
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    expect(message).toContain("Expected 'serverErrorRate' to be a number from 0 to 1, but got 2.");
    expect(message).toContain("Expected 'latencyMs' to be a non-negative integer, but got -1.");
    expect(message).toContain("Unknown fault 'nope'");
    await fetch(`${url}/faults`, {
      method: 'POST',
      body: JSON.stringify({ serverErrorRate: 0, moderationWords: [] }),
    });
    expect(() => emulator.setFaults({ jobFailureRate: -1 })).toThrow(TypeError);
    const log = (await (await fetch(`${url}/log`)).json()) as unknown[];
    expect(log).toEqual(emulator.requestLog());
    expect(log.length).toBeGreaterThan(10);
    expect(await (await fetch(`${url}/log`, { method: 'POST' })).json()).toEqual({ cleared: log.length });
    expect(emulator.requestLog()).toEqual([]);
  });
});

describe('setup', () => {
  it('gives the same ids for the same seed and request sequence', async () => {
    const ids = async (seed: number): Promise<string[]> => {
      const emulator = await startEmulator({ seed, createsPerMinute: Infinity, clock: new FakeClock(START) });
      try {
        const out: string[] = [];
        for (const prompt of ['a', 'b']) {
          const res = await call(`${emulator.url}/v1/videos`, { method: 'POST', json: { prompt } });
          out.push((res.body as { id: string }).id);
        }
        return out;
      } finally {
        await emulator.close();
      }
    };
    const first = await ids(42);
    expect(await ids(42)).toEqual(first);
    expect(await ids(43)).not.toEqual(first);
  });

  it('refuses a non-loopback host unless allowed, and rejects bad options', async () => {
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow(
      /non-loopback host '0.0.0.0'.*allowNonLoopback/,
    );
    await expect(startEmulator({ faults: { jobFailureRate: 3 } })).rejects.toThrow(TypeError);
    await expect(startEmulator({ createsPerMinute: 0 })).rejects.toThrow(TypeError);
  });
});
