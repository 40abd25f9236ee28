import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ScaledClock, type Clock } from '../../src/core/clock.ts';
import { asVideoId, type VideoId } from '../../src/core/brand.ts';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/server.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { remoteFailure } from '../../src/provider/map-provider-error.ts';
import { ProviderError, type RemoteVideo, type VideoProvider } from '../../src/provider/types.ts';
import { providerConfig } from './provider-config.ts';

/** One emulator minute per 60 ms: a 4 s video renders in ~25 ms, a quota minute passes in 60 ms. */
const clock = new ScaledClock({ speed: 1000 });
const KEY = 'sk-emulator-test-key-0123456789';

let emulator: EmulatorHandle | undefined;
let provider: VideoProvider | undefined;
/** The embedded emulator's cache folder, when a test made one. */
let cacheDir: string | undefined;

afterEach(async () => {
  await provider?.close();
  await emulator?.close();
  if (cacheDir !== undefined) await rm(cacheDir, { recursive: true, force: true });
  provider = undefined;
  emulator = undefined;
  cacheDir = undefined;
});

/** An emulator started by the test (so it can read its log and set faults) and an `openai` provider on it. */
async function external(
  options: Parameters<typeof startEmulator>[0] = {},
  config: Parameters<typeof providerConfig>[0] = {},
  env: Record<string, string> = { OPENAI_API_KEY: KEY },
): Promise<{ emulator: EmulatorHandle; provider: VideoProvider }> {
  emulator = await startEmulator({ clock, createsPerMinute: 60, apiKeys: [KEY], seed: 7, ...options });
  provider = await createProvider({
    config: providerConfig({ baseUrl: `${emulator.url}/v1`, ...config }),
    env,
    // One clock for both sides: the provider turns the emulator's wall-time waits into its own clock's time.
    clock: options.clock ?? clock,
    cacheDir: '/x',
  });
  return { emulator, provider };
}

async function settle(p: VideoProvider, id: VideoId, c: Clock = clock): Promise<RemoteVideo> {
  for (let i = 0; i < 200; i++) {
    const video = await p.retrieve(id);
    if (video.status === 'completed' || video.status === 'failed') return video;
    await c.sleep(video.pollAfterMs ?? 1000);
  }
  throw new Error(`${id} did not finish`);
}

async function bytesOf(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  let text = `${(error as Error).message}\n${(error as Error).stack}`;
  for (let c: unknown = (error as Error).cause; c instanceof Error; c = c.cause)
    text += `\n${c.message}\n${c.stack}`;
  expect(text).not.toContain(KEY);
  return error as ProviderError;
}

const request = {
  model: 'sora-2',
  prompt: 'Wide shot of a misty harbor at dawn',
  size: '1280x720',
  seconds: 4,
};

describe('the openai adapter against the real emulator', () => {
  it('type emulator: starts the embedded emulator, creates, polls, downloads, remixes, extends, lists and deletes', async () => {
    provider = await createProvider({
      config: providerConfig({
        name: 'emulator',
        type: 'emulator',
        quota: { createsPerMinute: 60, maxInFlight: 4 },
      }),
      env: {},
      clock,
      // The embedded emulator keeps its jobs under <cacheDir>/emulator.
      cacheDir: (cacheDir = await mkdtemp(join(tmpdir(), 'emulator-provider-'))),
    });
    expect(provider.family).toBe('emulator');

    const created = await provider.create(request);
    expect(created).toMatchObject({
      status: 'queued',
      size: '1280x720',
      seconds: 4,
      model: 'sora-2',
      progress: 0,
    });
    expect(created.id).toMatch(/^video_[0-9a-f]{32}$/);
    const done = await settle(provider, created.id);
    expect(done).toMatchObject({ status: 'completed', progress: 100, error: null });
    expect(done.expiresAt! - done.createdAt).toBe(86_400_000);

    const download = await provider.download(created.id, 'video');
    expect(download.contentType).toBe('video/mp4');
    const mp4 = await bytesOf(download.body);
    expect(mp4.length).toBe(download.contentLength);
    expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const thumb = await provider.download(created.id, 'thumbnail');
    expect(thumb.contentType).toBe('image/webp');
    const webp = await bytesOf(thumb.body);
    expect(webp.subarray(8, 12).toString('latin1')).toBe('WEBP');

    const remix = await provider.remix(created.id, 'Shift the palette to teal');
    expect(remix.remixedFrom).toBe(created.id);
    expect((await settle(provider, remix.id)).status).toBe('completed');

    const extended = await provider.extend(created.id, 'The camera keeps rising', 4);
    const extDone = await settle(provider, extended.id);
    expect(extDone.status).toBe('completed');
    // For extensions `seconds` is the stitched total.
    expect(extDone.seconds).toBe(8);

    const listed: string[] = [];
    for await (const v of provider.list({ limit: 1, order: 'asc' })) listed.push(v.id);
    expect(listed).toEqual([created.id, remix.id, extended.id]);

    await provider.delete(remix.id);
    expect((await failure(provider.retrieve(remix.id))).kind).toBe('not-found');

    // Closing the provider stops the embedded emulator: nothing listens any more.
    await provider.close();
    const refused = await failure(provider.retrieve(created.id));
    expect(refused).toMatchObject({ kind: 'connection', delivered: 'no' });
    provider = undefined;
  });

  it("maps the emulator's 429 to rate-limited with the server's wait", async () => {
    // Real time here, so the quota minute cannot run out between the two creates on a loaded machine.
    const { emulator, provider } = await external({
      createsPerMinute: 1,
      clock: new ScaledClock({ speed: 1 }),
    });
    await provider.create(request);
    const limited = await failure(provider.create(request));
    expect(limited).toMatchObject({ kind: 'rate-limited', status: 429, delivered: 'yes' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Not retried by the adapter: two creates, two requests.
    expect(
      emulator
        .requestLog()
        .filter((e) => e.method === 'POST')
        .map((e) => e.status),
    ).toEqual([200, 429]);
  });

  it('sends a create exactly once when the server answers 500 or drops the connection', async () => {
    const { emulator, provider } = await external({ faults: { serverErrorRate: 1 } });
    expect(await failure(provider.create(request))).toMatchObject({
      kind: 'server',
      status: 500,
      delivered: 'yes',
    });
    expect(emulator.requestLog()).toHaveLength(1);

    emulator.setFaults({ serverErrorRate: 0, dropConnectionRate: 1 });
    emulator.clearLog();
    expect(await failure(provider.create(request))).toMatchObject({ kind: 'connection', delivered: 'maybe' });
    expect(
      await failure(provider.remix(asVideoId('video_00000000000000000000000000000000'), 'x')),
    ).toMatchObject({
      delivered: 'maybe',
    });
    expect(emulator.requestLog()).toHaveLength(2);

    // Reads too are one attempt each: the engine is the one layer that retries (with an event each time).
    emulator.clearLog();
    expect((await failure(provider.retrieve(asVideoId('video_00000000000000000000000000000000')))).kind).toBe(
      'connection',
    );
    expect(emulator.requestLog()).toHaveLength(1);
  });

  it('a lost create response is maybe-delivered, and the job it started is found by List', async () => {
    const { emulator, provider } = await external({ faults: { lostCreateResponseRate: 1 } });
    const lost = await failure(provider.create(request));
    expect(lost).toMatchObject({ kind: 'connection', delivered: 'maybe' });
    const [entry] = emulator.requestLog();
    expect(entry).toMatchObject({ method: 'POST', fault: 'lost-response' });
    const listed: RemoteVideo[] = [];
    for await (const v of provider.list()) listed.push(v);
    expect(listed.map((v) => v.id)).toEqual([entry!.videoId]);
    expect(listed[0]).toMatchObject({ prompt: request.prompt, size: request.size, seconds: 4 });
  });

  it('maps moderation: a synchronous 400 and a job that fails with moderation_blocked', async () => {
    const { provider } = await external({
      faults: { moderationRejectWords: ['forbidden'], moderationWords: ['dubious'] },
    });
    const rejected = await failure(provider.create({ ...request, prompt: 'something forbidden' }));
    expect(rejected).toMatchObject({ kind: 'moderation-blocked', status: 400, code: 'moderation_blocked' });
    const job = await provider.create({ ...request, prompt: 'something dubious' });
    const failed = await settle(provider, job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('moderation_blocked');
    expect(remoteFailure('test', failed)?.kind).toBe('moderation-blocked');
  });

  it('maps 401 for a wrong key, and 404 for an unknown video', async () => {
    const wrong = await external({}, {}, { OPENAI_API_KEY: 'sk-wrong-key-0123456789abcdef' });
    expect(await failure(wrong.provider.retrieve(asVideoId('video_1')))).toMatchObject({
      kind: 'auth',
      status: 401,
    });
    await wrong.provider.close();
    provider = await createProvider({
      config: providerConfig({ baseUrl: `${emulator!.url}/v1` }),
      env: { OPENAI_API_KEY: KEY },
      clock,
      cacheDir: '/x',
    });
    const missing = await failure(provider.retrieve(asVideoId('video_00000000000000000000000000000000')));
    expect(missing).toMatchObject({ kind: 'not-found', status: 404, delivered: 'yes' });
  });

  it('talks to the Azure path with AZURE_OPENAI_API_KEY and a deployment name', async () => {
    emulator = await startEmulator({ clock, createsPerMinute: 60, apiKeys: [KEY] });
    provider = await createProvider({
      config: providerConfig({ baseUrl: `${emulator.url}/openai/v1/`, deployments: { 'my-sora': 'sora-2' } }),
      env: { AZURE_OPENAI_API_KEY: KEY },
      clock,
      cacheDir: '/x',
    });
    const video = await provider.create({ ...request, model: 'my-sora' });
    expect(video.model).toBe('sora-2');
    expect((await settle(provider, video.id)).status).toBe('completed');
    expect(emulator.requestLog()[0]).toMatchObject({
      method: 'POST',
      path: '/openai/v1/videos',
      status: 200,
    });
  });

  it('Entra ID: the emulator accepts the bearer token a test credential issued, and refuses others', async () => {
    const issued: string[] = [];
    const credentialIssuing = (prefix: string): TokenCredential => ({
      getToken: (): Promise<AccessToken> => {
        const token = `${prefix}-${issued.length + 1}`;
        issued.push(token);
        return Promise.resolve({ token, expiresOnTimestamp: clock.now() + 24 * 3_600_000 });
      },
    });
    emulator = await startEmulator({
      clock,
      createsPerMinute: 60,
      apiKeys: [KEY],
      bearerTokens: ['entra-emulator-token-1'],
    });
    provider = await createProvider({
      config: providerConfig({ baseUrl: `${emulator.url}/openai/v1`, auth: 'entra' }),
      env: {},
      clock,
      cacheDir: '/x',
      credential: credentialIssuing('entra-emulator-token'),
    });
    const video = await provider.create(request);
    expect((await settle(provider, video.id)).status).toBe('completed');
    expect(issued).toEqual(['entra-emulator-token-1']);
    await provider.close();

    // A credential whose tokens the emulator does not know: 401, after one retry with a fresh token.
    provider = await createProvider({
      config: providerConfig({ baseUrl: `${emulator.url}/openai/v1`, auth: 'entra' }),
      env: {},
      clock,
      cacheDir: '/x',
      credential: credentialIssuing('stranger-token'),
    });
    emulator.clearLog();
    const error = await failure(provider.retrieve(video.id));
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
    expect(issued.slice(1)).toEqual(['stranger-token-2', 'stranger-token-3']);
    expect(emulator.requestLog().map((e) => e.status)).toEqual([401, 401]);
    expect(`${error.message}${error.stack}`).not.toMatch(/token-\d/);
  });
});
