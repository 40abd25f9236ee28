/**
 * fal.ai's queue through the real `@fal-ai/client` against the emulator over loopback, pointed at it both
 * ways the client allows: a `requestMiddleware` that rewrites `https://queue.fal.run`, and `proxyUrl`.
 */
import { ApiError, ValidationError, createFalClient } from '@fal-ai/client';
import type { FalClient } from '@fal-ai/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, ScaledClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { makePng, probeMedia } from './helpers.ts';

const KEY = 'fal-key-id:fal-key-secret';
let clock: FakeClock;
let emulator: EmulatorHandle;
let fal: FalClient;
const dataUri = `data:image/png;base64,${makePng(64, 36).toString('base64')}`;

function falAt(url: string): FalClient {
  return createFalClient({
    credentials: KEY,
    requestMiddleware: (request) =>
      Promise.resolve({ ...request, url: request.url.replace('https://queue.fal.run', `${url}/fal/queue`) }),
  });
}

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, seed: 9, createsPerMinute: Infinity, apiKeys: [KEY] });
  fal = falAt(emulator.url);
});
afterAll(() => emulator.close());

describe('fal queue through @fal-ai/client', () => {
  it('runs a Veo 3.1 first/last-frame request from IN_QUEUE to a playable MP4', async () => {
    emulator.clearLog();
    const endpoint = 'fal-ai/veo3.1/first-last-frame-to-video';
    const submitted = await fal.queue.submit(endpoint, {
      input: {
        prompt: 'A kite over dunes',
        first_frame_url: dataUri,
        last_frame_url: dataUri,
        duration: '4s',
        aspect_ratio: '9:16',
        resolution: '720p',
        generate_audio: true,
        seed: 11,
      },
    });
    expect(submitted.status).toBe('IN_QUEUE');
    const requestId = submitted.request_id;
    // The sub-path is dropped after submit: the request is polled under fal-ai/veo3.1.
    expect(submitted.status_url).toBe(`${emulator.url}/fal/queue/fal-ai/veo3.1/requests/${requestId}/status`);
    const seen: string[] = [];
    for (let i = 0; i < 60; i++) {
      const s = await fal.queue.status(endpoint, { requestId });
      if (seen.at(-1) !== s.status) seen.push(s.status);
      if (s.status === 'COMPLETED') break;
      await clock.advance(1000);
    }
    expect(seen).toEqual(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']);
    const { data, requestId: rid } = await fal.queue.result(endpoint, { requestId });
    expect(rid).toBe(requestId);
    const video = (data as { video: { url: string; content_type: string; file_size: number } }).video;
    expect(video.content_type).toBe('video/mp4');
    const bytes = new Uint8Array(await (await fetch(video.url)).arrayBuffer());
    expect(bytes.length).toBe(video.file_size);
    const media = await probeMedia(bytes);
    expect(media).toMatchObject({ width: 720, height: 1280, videoCodec: 'avc', audioCodec: 'aac' });
    expect(media.duration).toBeCloseTo(4, 0);
    expect(emulator.requestLog().map((e) => `${e.method} ${e.path}`)[0]).toBe(`POST /fal/queue/${endpoint}`);
  });

  it('reports queue_position, and cancels a queued request', async () => {
    const endpoint = 'fal-ai/kling-video/v2.1/master/text-to-video';
    const a = await fal.queue.submit(endpoint, { input: { prompt: 'first', duration: '5' } });
    const b = await fal.queue.submit(endpoint, { input: { prompt: 'second', duration: '5' } });
    const status = await fal.queue.status(endpoint, { requestId: b.request_id });
    expect(status).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
    await fal.queue.cancel(endpoint, { requestId: b.request_id });
    expect((await fal.queue.status(endpoint, { requestId: b.request_id })).status).toBe('COMPLETED');
    await expect(fal.queue.result(endpoint, { requestId: b.request_id })).rejects.toBeInstanceOf(ApiError);
    await clock.advance(120_000);
    await expect(fal.queue.cancel(endpoint, { requestId: a.request_id })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('is COMPLETED but fails on result for a content-policy block and for invalid input', async () => {
    emulator.setFaults({ moderationWords: ['forbidden'] });
    try {
      const endpoint = 'fal-ai/veo3.1';
      const blocked = await fal.queue.submit(endpoint, { input: { prompt: 'a forbidden thing' } });
      const invalid = await fal.queue.submit(endpoint, {
        input: { prompt: 'ok', duration: '5s' as '4s' }, // invalid on purpose
      });
      await clock.advance(10_000);
      for (const r of [blocked, invalid]) {
        expect((await fal.queue.status(endpoint, { requestId: r.request_id })).status).toBe('COMPLETED');
      }
      const policy = (await fal.queue
        .result(endpoint, { requestId: blocked.request_id })
        .catch((e: unknown) => e)) as ValidationError;
      expect(policy).toBeInstanceOf(ValidationError);
      expect(policy.fieldErrors[0]).toMatchObject({ type: 'content_policy_violation' });
      const bad = (await fal.queue
        .result(endpoint, { requestId: invalid.request_id })
        .catch((e: unknown) => e)) as ValidationError;
      expect(bad.getFieldErrors('duration')).toHaveLength(1);
    } finally {
      emulator.setFaults({ moderationWords: [] });
    }
  });

  it('takes requests through proxyUrl with the real queue URL in x-fal-target-url', async () => {
    const viaProxy = createFalClient({
      credentials: KEY,
      proxyUrl: { url: `${emulator.url}/fal/proxy`, when: 'always' },
    });
    const r = await viaProxy.queue.submit('fal-ai/kling-video/v4/image-to-video', {
      input: { prompt: 'proxy', start_image_url: dataUri },
    });
    expect(r.status_url).toMatch(/^https:\/\/queue\.fal\.run\/fal-ai\/kling-video\/requests\//);
    const s = await viaProxy.queue.status('fal-ai/kling-video/v4/image-to-video', {
      requestId: r.request_id,
    });
    expect(s.status).toBe('IN_QUEUE');
  });

  it('refuses a wrong key without echoing it', async () => {
    const wrong = createFalClient({
      credentials: 'wrong-fal-key',
      requestMiddleware: (request) =>
        Promise.resolve({
          ...request,
          url: request.url.replace('https://queue.fal.run', `${emulator.url}/fal/queue`),
        }),
    });
    const error = (await wrong.queue
      .status('fal-ai/veo3.1', { requestId: 'x' })
      .catch((e: unknown) => e)) as ApiError<unknown>;
    expect(error.status).toBe(401);
    expect(JSON.stringify(error.body)).not.toContain('wrong-fal-key');
  });
});

describe('fal quota', () => {
  it('answers 429 on submit, which the client retries until the window frees', async () => {
    const emu = await startEmulator({ clock: new ScaledClock({ speed: 600 }), createsPerMinute: 1 });
    try {
      const client = falAt(emu.url);
      await client.queue.submit('fal-ai/veo3.1/fast', { input: { prompt: 'one' } });
      const second = await client.queue.submit('fal-ai/veo3.1/fast', { input: { prompt: 'two' } });
      expect(second.status).toBe('IN_QUEUE');
      expect(emu.requestLog().map((e) => e.status)).toEqual([200, 429, 200]);
    } finally {
      await emu.close();
    }
  });
});
