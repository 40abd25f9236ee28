/** The Runway adapter with the real `@runwayml/sdk` against the emulator over loopback. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { GenerationRequest, JobHandle, JobProvider, JobState } from '../../src/provider/job-api.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';
import { RunwayProvider, failureKind } from '../../src/provider/runway-provider.ts';
import { ProviderError } from '../../src/provider/types.ts';
import { makePng, probeMedia } from '../emulator/helpers.ts';

const KEY = 'key_runway_adapter_SECRET_0123456789';
let clock: FakeClock;
let emulator: EmulatorHandle;
const seen: unknown[] = [];

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, seed: 3, createsPerMinute: 1, apiKeys: [KEY] });
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.setFaults({ moderationWords: [], moderationRejectWords: [] });
  for (const e of seen.splice(0)) expect(JSON.stringify(e) + String(e)).not.toContain('SECRET');
});

function runway(apiKey = KEY): JobProvider {
  return new RunwayProvider({
    name: 'rw',
    baseUrl: emulator.url,
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
    model: 'veo3.1',
    prompt: 'A paper boat drifts down a rain gutter',
    size: '720x1280',
    seconds: 4,
    variants: 1,
    frames: [],
    referenceImages: [],
    ...over,
  };
}

/** Polls (advancing the emulator's clock a second at a time) until the job ends; returns every state seen. */
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

/** Lets the per-minute window (1 create) free up for the next test's create. */
async function nextMinute(): Promise<void> {
  await clock.advance(61_000);
}

describe('RunwayProvider', () => {
  it('submits first and last frames, polls to SUCCEEDED and downloads the MP4 at once', async () => {
    await nextMinute();
    const provider = runway();
    const { handle, state } = await provider.submit(
      request({
        frames: [
          { image: png(72, 128), at: 'first' },
          { image: png(72, 128), at: 'last' },
        ],
        seed: 7,
        audio: true,
        negativePrompt: 'no people',
      }),
      { idempotencyKey: 'intent-1' },
    );
    expect(state.state).toBe('queued');
    expect(handle).toMatchObject({ type: 'runway', provider: 'rw', model: 'veo3.1' });
    expect(handle.id).toMatch(/^[0-9a-f-]{36}$/);
    const states = await pollToEnd(provider, handle);
    expect(states.map((s) => s.state)).toEqual(['queued', 'running', 'succeeded']);
    const done = states.at(-1)!;
    if (done.state !== 'succeeded') throw new Error('not succeeded');
    const video = done.outputs[0]!.video;
    expect(video).toMatchObject({ kind: 'url', asset: 'video', expiresAt: clock.now() + 24 * 3600_000 });
    const fetched = await provider.fetch(video);
    const bytes = new Uint8Array(await new Response(fetched.body).arrayBuffer());
    expect(fetched.contentType).toBe('video/mp4');
    const media = await probeMedia(bytes);
    expect(media).toMatchObject({ width: 720, height: 1280, audioCodec: 'aac' });
    expect(media.duration).toBeCloseTo(4, 0);
    const creates = emulator.requestLog().filter((e) => e.method === 'POST');
    expect(creates.map((e) => e.path).at(-1)).toBe('/v1/image_to_video');
    await provider.close();
  });

  it('resumes from a persisted handle in a fresh instance, and a stale URL is refused as not-found', async () => {
    await nextMinute();
    const first = runway();
    const { handle } = await first.submit(request({ model: 'gen4.5', size: '1280x720', seconds: 2 }), {
      idempotencyKey: 'intent-2',
    });
    await first.close();
    // What the journal writes and reads back: plain JSON, nothing else.
    const persisted = JSON.parse(JSON.stringify(handle)) as JobHandle;
    const second = runway();
    const states = await pollToEnd(second, persisted);
    const done = states.at(-1)!;
    if (done.state !== 'succeeded') throw new Error('not succeeded');
    expect(emulator.requestLog().filter((e) => e.method === 'POST' && e.videoId === handle.id)).toHaveLength(
      1,
    );
    await clock.advance(25 * 3600_000);
    const stale = await second.fetch(done.outputs[0]!.video).catch((e: unknown) => e);
    expect(stale).toMatchObject({ kind: 'not-found', status: 403 });
    // Polling again hands out a fresh URL that works.
    const again = await second.poll(persisted);
    if (again.state !== 'succeeded') throw new Error('not succeeded');
    const fresh = await second.fetch(again.outputs[0]!.video);
    await fresh.body.cancel();
  });

  it('reports a FAILED task with a SAFETY code as a safety failure, and a refused prompt as moderation-blocked', async () => {
    await nextMinute();
    emulator.setFaults({ moderationWords: ['forbidden'], moderationRejectWords: ['refused'] });
    const provider = runway();
    const { handle } = await provider.submit(request({ prompt: 'something forbidden' }), {
      idempotencyKey: 'intent-3',
    });
    const done = (await pollToEnd(provider, handle)).at(-1);
    expect(done).toMatchObject({ state: 'failed', kind: 'safety', code: 'SAFETY.INPUT.TEXT' });
    await nextMinute();
    const refused = await provider
      .submit(request({ prompt: 'refused words' }), { idempotencyKey: 'intent-4' })
      .catch((e: unknown) => e);
    seen.push(refused);
    expect(refused).toMatchObject({ kind: 'moderation-blocked', status: 400 });
    expect(failureKind('SAFETY.OUTPUT.VIDEO')).toBe('safety');
    expect(failureKind('INTERNAL.BAD_OUTPUT.CODE01')).toBe('upstream');
    expect(failureKind('ASSET.INVALID')).toBe('invalid');
  });

  it('sends a create once: a 429 comes back as rate-limited with the wait, for the engine to wait out', async () => {
    await nextMinute();
    const provider = runway();
    await provider.submit(request(), { idempotencyKey: 'intent-5' });
    emulator.clearLog();
    const limited = await provider.submit(request(), { idempotencyKey: 'intent-6' }).catch((e: unknown) => e);
    seen.push(limited);
    expect(limited).toBeInstanceOf(ProviderError);
    expect(limited).toMatchObject({ kind: 'rate-limited', status: 429, delivered: 'yes' });
    expect((limited as ProviderError).retryAfterMs).toBeGreaterThan(0);
    expect(emulator.requestLog().map((e) => e.status)).toEqual([429]);
  });

  it('cancels a task (task delete), which then reads as failed upstream CANCELLED', async () => {
    await nextMinute();
    const provider = runway();
    const { handle } = await provider.submit(request(), { idempotencyKey: 'intent-7' });
    await provider.cancel!(handle);
    expect(await provider.poll(handle)).toMatchObject({
      state: 'failed',
      kind: 'upstream',
      code: 'CANCELLED',
    });
  });

  it('refuses a wrong key without echoing it, and what Runway cannot take before sending anything', async () => {
    const wrong = runway('key_wrong_SECRET_abcdefgh');
    const denied = await wrong
      .poll({ type: 'runway', provider: 'rw', id: 'x', model: 'veo3.1', createdAt: 0 })
      .catch((e: unknown) => e);
    seen.push(denied);
    // A 401 is thrown (the engine stops), never a job failure.
    expect(denied).toMatchObject({ kind: 'auth', status: 401 });
    emulator.clearLog();
    const refused = await runway()
      .submit(request({ referenceImages: [png(64, 64)] }), { idempotencyKey: 'intent-8' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'invalid-request', delivered: 'no' });
    expect(emulator.requestLog()).toEqual([]);
  });
});
