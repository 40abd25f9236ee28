/** The fal adapter with the real `@fal-ai/client` queue against the emulator over loopback. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { falInput } from '../../src/provider/fal-inputs.ts';
import { FalProvider } from '../../src/provider/fal-provider.ts';
import type { GenerationRequest, JobHandle, JobProvider, JobState } from '../../src/provider/job-api.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';
import { makePng, probeMedia } from '../emulator/helpers.ts';

const KEY = 'fal-key-id:fal-SECRET-0123456789';
let clock: FakeClock;
let emulator: EmulatorHandle;
const seen: unknown[] = [];

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, seed: 4, createsPerMinute: 1, apiKeys: [KEY] });
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.setFaults({ moderationWords: [], moderationRejectWords: [], serverErrorRate: 0 });
  for (const e of seen.splice(0)) expect(JSON.stringify(e) + String(e)).not.toContain('SECRET');
});

function fal(apiKey = KEY): JobProvider {
  return new FalProvider({
    name: 'fal',
    baseUrl: `${emulator.url}/fal/queue`,
    apiKey,
    clock,
    redactor: new SecretRedactor(),
  });
}

const png = (w: number, h: number) => ({
  bytes: makePng(w, h),
  mime: 'image/png' as const,
  filename: 'frame.png',
  width: w,
  height: h,
});

function request(over: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    model: 'fal-ai/veo3.1',
    prompt: 'A kite over dunes',
    size: '720x1280',
    seconds: 4,
    variants: 1,
    frames: [],
    referenceImages: [],
    ...over,
  };
}

async function pollToEnd(provider: JobProvider, handle: JobHandle): Promise<JobState[]> {
  const states: JobState[] = [];
  for (let i = 0; i < 200; i++) {
    const state = await provider.poll(handle);
    if (states.at(-1)?.state !== state.state) states.push(state);
    if (state.state === 'succeeded' || state.state === 'failed') return states;
    await clock.advance(1000);
  }
  throw new Error('the job never ended');
}

async function nextMinute(): Promise<void> {
  await clock.advance(61_000);
}

describe('FalProvider', () => {
  it('sends first and last frames to the first-last-frame endpoint, polls to a result and downloads it', async () => {
    await nextMinute();
    emulator.clearLog();
    const provider = fal();
    const { handle, state } = await provider.submit(
      request({
        frames: [
          { image: png(72, 128), at: 'first' },
          { image: png(72, 128), at: 'last' },
        ],
        audio: true,
        seed: 11,
      }),
      { idempotencyKey: 'intent-1' },
    );
    expect(state.state).toBe('queued');
    expect(handle).toMatchObject({
      type: 'fal',
      model: 'fal-ai/veo3.1',
      extra: { endpoint: 'fal-ai/veo3.1/first-last-frame-to-video' },
    });
    // A fresh instance resumes from the handle as the journal stores it.
    const resumed = fal();
    const states = await pollToEnd(resumed, JSON.parse(JSON.stringify(handle)) as JobHandle);
    expect(states.map((s) => s.state)).toEqual(['queued', 'running', 'succeeded']);
    const done = states.at(-1)!;
    if (done.state !== 'succeeded') throw new Error('not succeeded');
    const fetched = await resumed.fetch(done.outputs[0]!.video);
    const media = await probeMedia(new Uint8Array(await new Response(fetched.body).arrayBuffer()));
    expect(media).toMatchObject({ width: 720, height: 1280, audioCodec: 'aac' });
    expect(media.duration).toBeCloseTo(4, 0);
    const log = emulator.requestLog();
    expect(log.filter((e) => e.method === 'POST').map((e) => e.path)).toEqual([
      '/fal/queue/fal-ai/veo3.1/first-last-frame-to-video',
    ]);
    // COMPLETED is followed by the result at once, under the app (sub-path dropped).
    expect(log.some((e) => e.path === `/fal/queue/fal-ai/veo3.1/requests/${handle.id}`)).toBe(true);
  });

  it('is COMPLETED but failed: a content-policy block is safety, an unreadable image is invalid', async () => {
    await nextMinute();
    emulator.setFaults({ moderationWords: ['forbidden'] });
    const provider = fal();
    const { handle } = await provider.submit(request({ prompt: 'a forbidden thing' }), {
      idempotencyKey: 'intent-2',
    });
    const done = (await pollToEnd(provider, handle)).at(-1);
    expect(done).toMatchObject({ state: 'failed', kind: 'safety', code: 'content_policy_violation' });
    await nextMinute();
    // An image fal cannot read is accepted into the queue and refused only at the result.
    const broken = { ...png(64, 36), bytes: Buffer.from('not an image at all') };
    const invalid = await provider.submit(request({ frames: [{ image: broken, at: 'first' }] }), {
      idempotencyKey: 'intent-3',
    });
    expect((await pollToEnd(provider, invalid.handle)).at(-1)).toMatchObject({
      state: 'failed',
      kind: 'invalid',
      code: 'validation_error',
      message: expect.stringContaining('image_url: The data URI is not a JPEG, PNG or WebP image.') as string,
    });
  });

  it('sends a submit once: a 429 comes back as rate-limited with the wait, with no client retry', async () => {
    await nextMinute();
    const provider = fal();
    await provider.submit(request(), { idempotencyKey: 'intent-4' });
    emulator.clearLog();
    const limited = await provider.submit(request(), { idempotencyKey: 'intent-5' }).catch((e: unknown) => e);
    seen.push(limited);
    expect(limited).toMatchObject({ kind: 'rate-limited', status: 429, delivered: 'yes' });
    expect((limited as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(emulator.requestLog().map((e) => e.status)).toEqual([429]);
  });

  it('a 500 on a status read is thrown once (the engine retries reads), not a job failure', async () => {
    await nextMinute();
    const provider = fal();
    const { handle } = await provider.submit(request(), { idempotencyKey: 'intent-6' });
    emulator.setFaults({ serverErrorRate: 1 });
    emulator.clearLog();
    const error = await provider.poll(handle).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'server', status: 500 });
    expect(emulator.requestLog()).toHaveLength(1);
    emulator.setFaults({ serverErrorRate: 0 });
    await provider.cancel!(handle);
    expect(await provider.poll(handle)).toMatchObject({
      state: 'failed',
      kind: 'upstream',
      code: 'cancelled',
    });
  });

  it('refuses a wrong key without echoing it', async () => {
    const denied = await fal('wrong:SECRET-key-abcdef')
      .poll({
        type: 'fal',
        provider: 'fal',
        id: 'x',
        model: 'fal-ai/veo3.1',
        createdAt: 0,
        extra: { endpoint: 'fal-ai/veo3.1' },
      })
      .catch((e: unknown) => e);
    seen.push(denied);
    expect(denied).toMatchObject({ kind: 'auth', status: 401 });
  });
});

describe('falInput', () => {
  it('maps a shot onto each endpoint family and refuses what an endpoint cannot take', () => {
    const first = { image: png(16, 9), at: 'first' as const };
    expect(
      falInput('fal-ai/veo3.1/fast', request({ frames: [first], size: '1920x1080', seconds: 8 })),
    ).toMatchObject({
      ok: true,
      endpointId: 'fal-ai/veo3.1/fast/image-to-video',
      input: {
        aspect_ratio: '16:9',
        resolution: '1080p',
        duration: '8s',
        image_url: expect.stringMatching(/^data:image\/png;base64,/) as string,
      },
    });
    expect(falInput('fal-ai/veo3.1', request({ referenceImages: [png(8, 8), png(8, 8)] }))).toMatchObject({
      ok: true,
      endpointId: 'fal-ai/veo3.1/reference-to-video',
      input: { image_urls: [expect.any(String) as string, expect.any(String) as string] },
    });
    expect(
      falInput(
        'fal-ai/kling-video/v4/image-to-video',
        request({ frames: [first], size: '1080x1080', seconds: 10, negativePrompt: 'blur' }),
      ),
    ).toMatchObject({
      ok: true,
      input: {
        start_image_url: expect.any(String) as string,
        aspect_ratio: '1:1',
        duration: '10',
        negative_prompt: 'blur',
      },
    });
    expect(falInput('fal-ai/veo3.1', request({ frames: [{ image: png(8, 8), at: 'last' }] }))).toMatchObject({
      ok: false,
    });
    expect(falInput('fal-ai/kling-video/v2.1/master/text-to-video', request({ seconds: 4 }))).toEqual({
      ok: false,
      message:
        'fal-ai/kling-video/v2.1/master/text-to-video makes 1920x1080, 1080x1920, 1080x1080, not 720x1280',
    });
    expect(falInput('fal-ai/unknown', request())).toMatchObject({
      ok: false,
      message: expect.stringContaining('unknown fal endpoint') as string,
    });
  });
});
