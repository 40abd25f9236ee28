/**
 * Veo 3.1 on Vertex AI through the real `@google/genai` SDK (`vertexai: true`) against the emulator over
 * loopback. Auth is an OAuth2Client holding a ready access token (no Google host is ever asked for one);
 * express mode (an API key) is covered too.
 */
import { GenerateVideosOperation, GoogleGenAI } from '@google/genai';
import type { ApiError } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, ScaledClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { makePng, probeMedia } from './helpers.ts';

const TOKEN = 'ya29.emulator-test-token';
const MODEL = 'veo-3.1-fast-generate-001';
let clock: FakeClock;
let emulator: EmulatorHandle;

function vertexClient(baseUrl: string, token = TOKEN): GoogleGenAI {
  const authClient = new OAuth2Client();
  // A token that never needs refreshing: google-auth-library hands it out without any network call.
  authClient.setCredentials({ access_token: token, expiry_date: Date.now() + 24 * 3600_000 });
  return new GoogleGenAI({
    vertexai: true,
    project: 'demo-project',
    location: 'us-central1',
    googleAuthOptions: { authClient },
    httpOptions: { baseUrl },
  });
}

/** Polls with the SDK, moving the emulator's clock instead of waiting. */
async function finish(ai: GoogleGenAI, op: GenerateVideosOperation): Promise<GenerateVideosOperation> {
  let current = op;
  for (let i = 0; i < 50 && current.done !== true; i++) {
    await clock.advance(10_000);
    current = await ai.operations.getVideosOperation({ operation: current });
  }
  return current;
}

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, seed: 14, createsPerMinute: Infinity, apiKeys: [TOKEN] });
});
afterAll(() => emulator.close());

describe('Veo on Vertex AI through @google/genai', () => {
  it('generates from first and last frames with audio, polled with fetchPredictOperation', async () => {
    const ai = vertexClient(emulator.url);
    const png = makePng(64, 36).toString('base64');
    emulator.clearLog();
    const op = await ai.models.generateVideos({
      model: MODEL,
      source: { prompt: 'A lighthouse at dusk', image: { imageBytes: png, mimeType: 'image/png' } },
      config: {
        lastFrame: { imageBytes: png, mimeType: 'image/png' },
        durationSeconds: 4,
        aspectRatio: '9:16',
        resolution: '720p',
        negativePrompt: 'rain',
        seed: 7,
        generateAudio: true,
        numberOfVideos: 1,
      },
    });
    expect(op.name).toMatch(
      /^projects\/demo-project\/locations\/us-central1\/publishers\/google\/models\/veo-3\.1-fast-generate-001\/operations\/[0-9a-f-]{36}$/,
    );
    const done = await finish(ai, op);
    expect(done.error).toBeUndefined();
    const videos = done.response?.generatedVideos ?? [];
    expect(videos).toHaveLength(1);
    expect(videos[0]!.video?.mimeType).toBe('video/mp4');
    const media = await probeMedia(Buffer.from(videos[0]!.video!.videoBytes!, 'base64'));
    expect(media).toMatchObject({ width: 720, height: 1280, videoCodec: 'avc', audioCodec: 'aac' });
    expect(media.duration).toBeCloseTo(4, 0);
    const paths = emulator.requestLog().map((e) => `${e.method} ${e.path} ${e.status}`);
    expect(paths[0]).toBe(
      `POST /v1beta1/projects/demo-project/locations/us-central1/publishers/google/models/${MODEL}:predictLongRunning 200`,
    );
    expect(paths.at(-1)).toBe(
      `POST /v1beta1/projects/demo-project/locations/us-central1/publishers/google/models/${MODEL}:fetchPredictOperation 200`,
    );
  });

  it('resumes from a saved operation name, returns sampleCount videos, and 404s a plain GET', async () => {
    const ai = vertexClient(emulator.url);
    const started = await ai.models.generateVideos({
      model: 'veo-3.1-generate-001',
      source: { prompt: 'Two cats' },
      config: {
        numberOfVideos: 2,
        durationSeconds: 8,
        referenceImages: [
          { image: { imageBytes: makePng(32, 32).toString('base64'), mimeType: 'image/png' } },
        ],
      },
    });
    // After a restart: a fresh SDK object with only the name (a plain object would crash the SDK).
    const resumed = new GenerateVideosOperation();
    resumed.name = started.name!;
    const done = await finish(ai, resumed);
    expect(done.response?.generatedVideos).toHaveLength(2);
    const a = done.response!.generatedVideos![0]!.video!.videoBytes!;
    const b = done.response!.generatedVideos![1]!.video!.videoBytes!;
    expect(a).not.toBe(b);
    expect(await probeMedia(Buffer.from(b, 'base64'))).toMatchObject({ width: 1280, height: 720 });
    const res = await fetch(`${emulator.url}/v1beta1/${started.name}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('NOT_FOUND');
  });

  it('reports a safety-filtered result under response, with the reasons and no videos', async () => {
    emulator.setFaults({ moderationWords: ['forbidden'] });
    try {
      const ai = vertexClient(emulator.url);
      const op = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'A forbidden scene' } });
      const done = await finish(ai, op);
      expect(done.error).toBeUndefined();
      expect(done.response?.generatedVideos).toBeUndefined();
      expect(done.response?.raiMediaFilteredCount).toBe(1);
      expect(done.response?.raiMediaFilteredReasons?.[0]).toMatch(/usage guidelines.*Support codes/);
    } finally {
      emulator.setFaults({ moderationWords: [] });
    }
  });

  it("refuses bad input in Google's error shape before making a job", async () => {
    const ai = vertexClient(emulator.url);
    const error = (await ai.models
      .generateVideos({ model: MODEL, source: { prompt: 'x' }, config: { durationSeconds: 5 } })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(400);
    expect(JSON.parse(error.message)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const bad = vertexClient(emulator.url, 'wrong-token');
    const denied = (await bad.models
      .generateVideos({ model: MODEL, source: { prompt: 'x' } })
      .catch((e: unknown) => e)) as ApiError;
    expect(denied.status).toBe(401);
    expect(denied.message).not.toContain('wrong-token');
    expect(JSON.parse(denied.message)).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
  });

  it('serves express mode (API key in x-goog-api-key, no project in the path)', async () => {
    const ai = new GoogleGenAI({ vertexai: true, apiKey: TOKEN, httpOptions: { baseUrl: emulator.url } });
    const op = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'Express' } });
    expect(op.name).toMatch(/^projects\/.+\/operations\//);
    const done = await finish(ai, op);
    expect(done.response?.generatedVideos).toHaveLength(1);
  });
});

describe('Veo quota', () => {
  it('answers 429 RESOURCE_EXHAUSTED when the per-minute window is full, and takes the create once it frees', async () => {
    const fast = new ScaledClock({ speed: 600 }); // a minute of quota window is 100 real ms
    const emu = await startEmulator({ clock: fast, createsPerMinute: 1, bearerTokens: [TOKEN] });
    try {
      const ai = vertexClient(emu.url);
      await ai.models.generateVideos({ model: MODEL, source: { prompt: 'one' } });
      const error = (await ai.models
        .generateVideos({ model: MODEL, source: { prompt: 'two' } })
        .catch((e: unknown) => e)) as ApiError;
      expect(error.status).toBe(429);
      expect(JSON.parse(error.message)).toMatchObject({ error: { status: 'RESOURCE_EXHAUSTED' } });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const op = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'two' } });
      expect(op.name).toContain('/operations/');
    } finally {
      await emu.close();
    }
  });
});

describe('the metadata server that Application Default Credentials read', () => {
  it('hands out a token the Vertex routes accept, only with Metadata-Flavor: Google', async () => {
    const flavor = { 'metadata-flavor': 'Google' };
    const ping = await fetch(`${emulator.url}/computeMetadata/v1/instance`, { headers: flavor });
    expect(ping.status).toBe(200);
    expect(ping.headers.get('metadata-flavor')).toBe('Google');
    const refused = await fetch(`${emulator.url}/computeMetadata/v1/instance/service-accounts/default/token`);
    expect(refused.status).toBe(403);
    const res = await fetch(
      `${emulator.url}/computeMetadata/v1/instance/service-accounts/default/token?scopes=x`,
      { headers: flavor },
    );
    const token = (await res.json()) as { access_token: string; token_type: string };
    expect(token).toMatchObject({ access_token: TOKEN, token_type: 'Bearer' });
    const ai = vertexClient(emulator.url, token.access_token);
    const op = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'With ADC' } });
    expect(op.name).toContain('/operations/');
  });
});
