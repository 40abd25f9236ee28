/**
 * The `vertex-veo` adapter with the real `@google/genai` SDK against the emulator over loopback: submit, poll
 * with fetchPredictOperation, inline videos, variants, a safety-filtered operation, a 429, resuming from a
 * persisted handle in a fresh provider, and requests refused before any byte is sent. Auth is an OAuth2Client
 * holding a ready token (no Google host is ever asked), as test/emulator/vertex.test.ts does.
 */
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock, ScaledClock } from '../../src/core/clock.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { GenerationRequest, ImageInput, JobHandle, JobState } from '../../src/provider/job-api.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';
import { ProviderError } from '../../src/provider/types.ts';
import { VertexVeoProvider } from '../../src/provider/vertex-veo-provider.ts';
import { makePng, probeMedia } from '../emulator/helpers.ts';

const TOKEN = 'ya29.vertex-adapter-test-token';
const OPERATION =
  /^projects\/demo-project\/locations\/us-central1\/publishers\/google\/models\/veo-3\.1-fast-generate-001\/operations\/[0-9a-f-]{36}$/;
let clock: FakeClock;
let emulator: EmulatorHandle;

function provider(url: string, options: { token?: string; clock?: Clock } = {}): VertexVeoProvider {
  const authClient = new OAuth2Client();
  // A token that never needs refreshing: google-auth-library hands it out without any network call.
  authClient.setCredentials({
    access_token: options.token ?? TOKEN,
    expiry_date: Date.now() + 24 * 3600_000,
  });
  return new VertexVeoProvider({
    name: 'veo',
    project: 'demo-project',
    location: 'us-central1',
    baseUrl: url,
    googleAuthOptions: { authClient },
    clock: options.clock ?? clock,
    redactor: new SecretRedactor(),
  });
}

function png(width: number, height: number): ImageInput {
  return { bytes: makePng(width, height), mime: 'image/png', filename: 'f.png', width, height };
}

function request(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    model: 'veo-3.1-fast-generate-001',
    prompt: 'A lighthouse at dusk',
    size: '1280x720',
    seconds: 4,
    variants: 1,
    frames: [],
    referenceImages: [],
    ...overrides,
  };
}

/** Polls until the service ends the job, moving the emulator's clock instead of waiting. */
async function finish(p: VertexVeoProvider, handle: JobHandle): Promise<JobState> {
  for (let i = 0; i < 50; i++) {
    const state = await p.poll(handle);
    if (state.state !== 'queued' && state.state !== 'running') return state;
    await clock.advance(10_000);
  }
  throw new Error('the operation never finished');
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const creates = (): number =>
  emulator.requestLog().filter((e) => e.path.endsWith(':predictLongRunning') && e.status === 200).length;

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({
    clock,
    seed: 41,
    createsPerMinute: Infinity,
    renderFps: 2,
    apiKeys: [TOKEN],
  });
});
afterAll(() => emulator.close());

describe('VertexVeoProvider against the emulator', () => {
  it('submits first and last frames with audio, polls to an inline video, and fetches its bytes', async () => {
    const p = provider(emulator.url);
    emulator.clearLog();
    const { handle, state } = await p.submit(
      request({
        size: '720x1280',
        frames: [
          { image: png(72, 128), at: 'first' },
          { image: png(72, 128), at: 'last' },
        ],
        negativePrompt: 'rain',
        seed: 7,
        audio: true,
      }),
      { idempotencyKey: 'intent-1' },
    );
    expect(handle).toMatchObject({ type: 'vertex-veo', provider: 'veo', model: 'veo-3.1-fast-generate-001' });
    expect(handle.id).toMatch(OPERATION);
    expect(handle.extra?.['resourceName']).toBe(handle.id.split('/operations/')[0]);
    expect(state.state).toBe('queued');
    const done = await finish(p, handle);
    if (done.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(done)}`);
    expect(done.outputs).toHaveLength(1);
    const video = done.outputs[0]!.video;
    expect(video.kind).toBe('inline');
    const fetched = await p.fetch(video);
    const bytes = await bytesOf(fetched.body);
    expect(fetched.contentLength).toBe(bytes.length);
    expect(fetched.contentType).toBe('video/mp4');
    const media = await probeMedia(bytes);
    expect(media).toMatchObject({ width: 720, height: 1280, videoCodec: 'avc', audioCodec: 'aac' });
    expect(media.duration).toBeCloseTo(4, 0);
    const calls = emulator
      .requestLog()
      .map((e) => `${e.method} ${e.path.replace(/.*\/models\//, '')} ${e.status}`);
    expect(calls[0]).toBe('POST veo-3.1-fast-generate-001:predictLongRunning 200');
    expect(
      calls.slice(1).every((c) => c === 'POST veo-3.1-fast-generate-001:fetchPredictOperation 200'),
    ).toBe(true);
  });

  it('sends reference images and sampleCount at 1080p, and returns one output per variant', async () => {
    const p = provider(emulator.url);
    const { handle } = await p.submit(
      request({
        model: 'veo-3.1-generate-001',
        size: '1920x1080',
        seconds: 8,
        variants: 2,
        referenceImages: [png(32, 32), png(48, 32)],
      }),
      { idempotencyKey: 'intent-2' },
    );
    const done = await finish(p, handle);
    if (done.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(done)}`);
    expect(done.outputs.map((o) => o.index)).toEqual([0, 1]);
    const [a, b] = await Promise.all(done.outputs.map(async (o) => bytesOf((await p.fetch(o.video)).body)));
    expect(a!.equals(b!)).toBe(false);
    expect(await probeMedia(b!)).toMatchObject({ width: 1920, height: 1080 });
  });

  it('resumes from a persisted handle in a fresh provider instance: the same operation, no second submit', async () => {
    const first = provider(emulator.url);
    emulator.clearLog();
    const { handle } = await first.submit(request({ prompt: 'Resume me' }), { idempotencyKey: 'intent-3' });
    await first.close();
    // What the journal wrote and the next process reads back.
    const persisted = JSON.parse(JSON.stringify(handle)) as JobHandle;
    const second = provider(emulator.url);
    const done = await finish(second, persisted);
    expect(done.state).toBe('succeeded');
    expect(creates()).toBe(1);
    const polled = emulator.requestLog().filter((e) => e.path.endsWith(':fetchPredictOperation'));
    expect(new Set(polled.map((e) => e.videoId))).toEqual(new Set([handle.id.split('/operations/')[1]]));
  });

  it('a finished operation whose videos were all filtered is a safety failure naming the reasons', async () => {
    emulator.setFaults({ moderationWords: ['forbidden'] });
    try {
      const p = provider(emulator.url);
      const { handle } = await p.submit(request({ prompt: 'A forbidden scene', variants: 2 }), {
        idempotencyKey: 'intent-4',
      });
      const done = await finish(p, handle);
      expect(done).toMatchObject({ state: 'failed', kind: 'safety', code: 'rai_media_filtered' });
      expect(done.state === 'failed' && done.message).toMatch(
        /^Veo filtered 2 videos \(Responsible AI\): Veo could not generate 2 videos .*usage guidelines.*Support codes: \d+/,
      );
    } finally {
      emulator.setFaults({ moderationWords: [] });
    }
  });

  it('a prompt refused at submit is moderation-blocked, and an unknown operation is not-found', async () => {
    emulator.setFaults({ moderationRejectWords: ['banned'] });
    try {
      const p = provider(emulator.url);
      const refused = await p
        .submit(request({ prompt: 'A banned act' }), { idempotencyKey: 'i5' })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProviderError);
      expect(refused).toMatchObject({ kind: 'moderation-blocked', status: 400, code: 'INVALID_ARGUMENT' });
      expect((refused as Error).message).toMatch(/^veo: create: 400 .*Responsible AI/);
    } finally {
      emulator.setFaults({ moderationRejectWords: [] });
    }
    const p = provider(emulator.url);
    const handle: JobHandle = {
      type: 'vertex-veo',
      provider: 'veo',
      id: 'projects/demo-project/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/00000000-0000-0000-0000-000000000000',
      model: 'veo-3.1-fast-generate-001',
      createdAt: 0,
    };
    await expect(p.poll(handle)).rejects.toMatchObject({ kind: 'not-found', status: 404, delivered: 'yes' });
  });

  it('refuses what Veo cannot take before sending anything, naming every problem', async () => {
    const p = provider(emulator.url);
    emulator.clearLog();
    const error = (await p
      .submit(
        request({
          size: '1024x1792',
          seconds: 5,
          variants: 5,
          frames: [{ image: png(8, 8), at: 'last' }],
          referenceImages: [png(8, 8), png(8, 8), png(8, 8), png(8, 8)],
        }),
        { idempotencyKey: 'i6' },
      )
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ kind: 'invalid-request', delivered: 'no' });
    for (const words of [
      'size 1024x1792',
      'seconds must be one of 4, 6, 8, but was 5',
      'only 8 seconds',
      'variants must be 1 to 4',
      'at most 3 reference images',
      'a last frame needs a first frame',
      'not both',
    ])
      expect(error.message).toContain(words);
    expect(emulator.requestLog()).toEqual([]);
  });

  it('a refused credential is an auth error that never shows the token', async () => {
    const p = provider(emulator.url, { token: 'ya29.not-the-right-token-123456' });
    const error = (await p
      .submit(request(), { idempotencyKey: 'i7' })
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'UNAUTHENTICATED' });
    expect(JSON.stringify({ m: error.message, c: String(error.cause) })).not.toContain('not-the-right-token');
  });

  it('a gs:// output is refused with what to do instead', async () => {
    const p = provider(emulator.url);
    await expect(p.fetch({ kind: 'gcs', uri: 'gs://bucket/v/sample_0.mp4', asset: 'video' })).rejects.toThrow(
      /gs:\/\/bucket\/v\/sample_0\.mp4, which sora-build does not read.*gcloud storage cp/,
    );
  });
});

describe('VertexVeoProvider and the per-minute quota', () => {
  it('a 429 is rate-limited with the RetryInfo wait in clock time; the create goes through once it frees', async () => {
    const fast = new ScaledClock({ speed: 600 }); // a minute of quota window is 100 real ms
    const emu = await startEmulator({ clock: fast, createsPerMinute: 1, apiKeys: [TOKEN] });
    try {
      const p = provider(emu.url, { clock: fast });
      await p.submit(request({ prompt: 'one' }), { idempotencyKey: 'q1' });
      const error = (await p
        .submit(request({ prompt: 'two' }), { idempotencyKey: 'q2' })
        .catch((e: unknown) => e)) as ProviderError;
      expect(error).toMatchObject({
        kind: 'rate-limited',
        status: 429,
        code: 'RESOURCE_EXHAUSTED',
        delivered: 'yes',
      });
      // The emulator says real ms (at most ~100 here); the adapter hands the engine clock ms (x600).
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(61_000);
      await fast.sleep(error.retryAfterMs!);
      const { handle } = await p.submit(request({ prompt: 'two' }), { idempotencyKey: 'q2' });
      expect(handle.id).toContain('/operations/');
      expect(emu.requestLog().map((e) => e.status)).toEqual([200, 429, 200]);
    } finally {
      await emu.close();
    }
  });
});

describe('VertexVeoProvider and the SDK’s console notes', () => {
  it('prints nothing when a Gemini API key is in the environment beside the project', async () => {
    const saved = {
      GOOGLE_API_KEY: process.env['GOOGLE_API_KEY'],
      GEMINI_API_KEY: process.env['GEMINI_API_KEY'],
    };
    process.env['GOOGLE_API_KEY'] = 'AIza-not-used-1';
    process.env['GEMINI_API_KEY'] = 'AIza-not-used-2';
    const debug = vi.spyOn(console, 'debug');
    const warn = vi.spyOn(console, 'warn');
    try {
      const p = provider(emulator.url);
      const { handle } = await p.submit(request({ prompt: 'Quiet' }), { idempotencyKey: 'quiet' });
      expect(handle.id).toContain('/operations/');
      expect(debug).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      debug.mockRestore();
      warn.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
