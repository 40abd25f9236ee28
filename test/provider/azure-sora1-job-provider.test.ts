/**
 * The native Sora 1 JobProvider over real HTTP against the emulator: variants, frames and an input video as
 * `inpaint_items`, each generation's video and thumbnail, failures as states, list and delete.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/core/clock.ts';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/server.ts';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { AzureSora1JobProvider } from '../../src/provider/azure-sora1-job-provider.ts';
import { createJobProvider } from '../../src/provider/create-provider.ts';
import type { GenerationRequest, JobHandle, JobState } from '../../src/provider/job-api.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';
import { ProviderError } from '../../src/provider/types.ts';
import { makePng } from '../emulator/helpers.ts';
import { tinyMp4 } from '../support/tiny-mp4.ts';
import { providerConfig } from './provider-config.ts';
import { startSora1TestServer } from './sora1-test-server.ts';

const clock = new ScaledClock({ speed: 1000 });
const KEY = 'azure-sora1-job-key-0123456789abcdef';

let emulator: EmulatorHandle | undefined;
let provider: AzureSora1JobProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await emulator?.close();
  provider = undefined;
  emulator = undefined;
});

async function setUp(options: Parameters<typeof startEmulator>[0] = {}) {
  emulator = await startEmulator({ clock, createsPerMinute: Infinity, apiKeys: [KEY], seed: 5, ...options });
  const redactor = new SecretRedactor();
  redactor.add(KEY);
  provider = new AzureSora1JobProvider({
    name: 'sora1',
    baseUrl: `${emulator.url}/openai/v1/`,
    auth: { mode: 'api-key', apiKey: KEY, variable: 'AZURE_OPENAI_API_KEY' },
    deployments: { sora: 'contoso-sora' },
    clock,
    redactor,
  });
  return { emulator, provider };
}

const base: GenerationRequest = {
  model: 'sora',
  prompt: 'A lighthouse at dusk, waves rolling in.',
  size: '854x480',
  seconds: 2,
  variants: 1,
  frames: [],
  referenceImages: [],
};

async function settle(p: AzureSora1JobProvider, handle: JobHandle): Promise<JobState> {
  for (let i = 0; i < 400; i++) {
    const state = await p.poll(handle);
    if (state.state === 'succeeded' || state.state === 'failed') return state;
    await clock.sleep(5000); // Sora 1 gives no hint; its documented clients poll every 5 s
  }
  throw new Error(`${handle.id} did not finish`);
}

async function bytesOf(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(KEY);
  return error as ProviderError;
}

/** The job as the service echoes it (with its inpaint_items). */
async function rawJob(emu: EmulatorHandle, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/openai/v1/video/generations/jobs/${id}?api-version=preview`, {
    headers: { 'api-key': KEY },
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('AzureSora1JobProvider against the emulator', () => {
  it('asks for two variants in one job and fetches each generation’s video and thumbnail', async () => {
    const { emulator, provider } = await setUp();
    const { handle, state } = await provider.submit({ ...base, variants: 2 }, { idempotencyKey: 'i-1' });
    expect(handle).toEqual({
      type: 'azure-sora1',
      provider: 'sora1',
      id: expect.stringMatching(/^task_/) as unknown,
      model: 'contoso-sora',
      createdAt: expect.any(Number) as unknown,
    });
    expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);
    expect(['queued', 'running']).toContain(state.state);
    const done = await settle(provider, handle);
    if (done.state !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(done)}`);
    expect(done.seconds).toBe(2);
    expect(done.expiresAt).toBeGreaterThan(handle.createdAt);
    expect(done.outputs.map((o) => o.index)).toEqual([0, 1]);
    const videos: Buffer[] = [];
    for (const output of done.outputs) {
      expect(output.video).toMatchObject({ kind: 'content', asset: 'video', index: output.index, handle });
      const video = await provider.fetch(output.video);
      const mp4 = await bytesOf(video.body);
      expect(mp4.length).toBe(video.contentLength);
      expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
      videos.push(mp4);
      const thumb = await bytesOf((await provider.fetch(output.thumbnail!)).body);
      expect([...thumb.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    }
    expect(videos[0]!.equals(videos[1]!)).toBe(false);
    const creates = emulator.requestLog().filter((e) => e.method === 'POST');
    expect(creates).toHaveLength(1);
    const content = emulator.requestLog().filter((e) => e.path.includes('/content/'));
    expect(new Set(content.map((e) => e.path.split('/')[5])).size).toBe(2); // one generation id per variant
    expect((await rawJob(emulator, handle.id)).n_variants).toBe(2);
  });

  it('places two frames and their crops as inpaint_items, first at 0 and last at the final frame', async () => {
    const { emulator, provider } = await setUp();
    const png = (w: number, h: number, name: string) => ({
      bytes: new Uint8Array(makePng(w, h)),
      mime: 'image/png' as const,
      filename: name,
      width: w,
      height: h,
    });
    const { handle } = await provider.submit(
      {
        ...base,
        frames: [
          { image: png(854, 480, 'dawn.png'), at: 'first' },
          {
            image: png(854, 480, 'dawn.png'),
            at: 'last',
            crop: { left: 0.1, top: 0, right: 0.9, bottom: 1 },
          },
        ],
      },
      { idempotencyKey: 'i-2' },
    );
    expect((await rawJob(emulator, handle.id)).inpaint_items).toEqual([
      { frame_index: 0, type: 'image', file_name: 'dawn.png' },
      {
        frame_index: 59,
        type: 'image',
        file_name: '2-dawn.png',
        crop_bounds: { left_fraction: 0.1, top_fraction: 0, right_fraction: 0.9, bottom_fraction: 1 },
      },
    ]);
    expect((await settle(provider, handle)).state).toBe('succeeded');
  });

  it('uploads an input video of at most 5 s; a longer one is refused by the service and nothing is made', async () => {
    const { emulator, provider } = await setUp();
    const video = (seconds: number) => ({
      bytes: tinyMp4(seconds),
      mime: 'video/mp4',
      filename: 'waves.mp4',
      at: 0,
      crop: { left: 0, top: 0.25, right: 1, bottom: 0.75 },
    });
    const { handle } = await provider.submit({ ...base, inputVideo: video(5) }, { idempotencyKey: 'i-3' });
    expect((await rawJob(emulator, handle.id)).inpaint_items).toEqual([
      {
        frame_index: 0,
        type: 'video',
        file_name: 'waves.mp4',
        crop_bounds: { left_fraction: 0, top_fraction: 0.25, right_fraction: 1, bottom_fraction: 0.75 },
      },
    ]);
    const error = await rejection(
      provider.submit({ ...base, inputVideo: video(6) }, { idempotencyKey: 'i-4' }),
    );
    expect(error).toMatchObject({
      kind: 'invalid-request',
      status: 400,
      param: 'inpaint_items[0].file_name',
    });
    expect(error.message).toContain('at most 5 seconds');
    const listed: string[] = [];
    for await (const job of provider.list()) listed.push(job.handle.id);
    expect(listed).toEqual([handle.id]);
  });

  it('refuses what Sora 1 cannot do before anything is sent', async () => {
    const { emulator, provider } = await setUp();
    const parent: JobHandle = {
      type: 'azure-sora1',
      provider: 'sora1',
      id: 'task_x',
      model: 'sora',
      createdAt: 0,
    };
    for (const [request, words] of [
      [{ ...base, parent: { relation: 'remix', handle: parent, variant: 0 } }, 'remix'],
      [{ ...base, seed: 7 }, 'seed'],
      [{ ...base, negativePrompt: 'blur' }, 'negative prompt'],
      [{ ...base, audio: true }, 'audio'],
    ] as const) {
      const error = await rejection(provider.submit(request, { idempotencyKey: 'x' }));
      expect(error).toMatchObject({ kind: 'invalid-request', delivered: 'no' });
      expect(error.message).toContain(words);
    }
    expect(emulator.requestLog()).toEqual([]);
  });

  it('reports moderation as safety and an internal error as upstream; lists and deletes', async () => {
    const { emulator, provider } = await setUp({ faults: { moderationWords: ['dubious'] } });
    const blocked = await provider.submit({ ...base, prompt: 'something dubious' }, { idempotencyKey: 'm' });
    expect(await settle(provider, blocked.handle)).toMatchObject({
      state: 'failed',
      kind: 'safety',
      code: 'input_moderation',
    });
    emulator.setFaults({ moderationWords: [], jobFailureRate: 1 });
    const broken = await provider.submit(base, { idempotencyKey: 'u' });
    expect(await settle(provider, broken.handle)).toMatchObject({
      state: 'failed',
      kind: 'upstream',
      code: 'internal_error',
    });
    const listed = [];
    for await (const job of provider.list()) listed.push(job);
    expect(listed).toEqual([
      {
        handle: { ...broken.handle },
        model: 'contoso-sora',
        size: '854x480',
        seconds: 2,
        prompt: base.prompt,
        parentId: null,
      },
      expect.objectContaining({ handle: blocked.handle, prompt: 'something dubious' }) as unknown,
    ]);
    await provider.delete(broken.handle);
    expect((await rejection(provider.poll(broken.handle))).kind).toBe('not-found');
  });

  it('sends a create once on a 500 and reads it as a thrown server error, never a failed state', async () => {
    const { emulator, provider } = await setUp({ faults: { serverErrorRate: 1 } });
    expect(await rejection(provider.submit(base, { idempotencyKey: 'e' }))).toMatchObject({
      kind: 'server',
      status: 500,
      delivered: 'yes',
    });
    expect(emulator.requestLog()).toHaveLength(1);
  });
});

describe('createJobProvider for azure-sora1', () => {
  it('builds the native adapter: Entra ID bearer, api-version=preview, the deployment as model, a 401 retried once with a new token', async () => {
    const server = await startSora1TestServer({ token: 'sora1-entra-token-xyz' });
    let calls = 0;
    const credential: TokenCredential = {
      getToken: (): Promise<AccessToken> => {
        calls++;
        // The first token is refused (rotated): the adapter asks again once and succeeds.
        const token = calls === 1 ? 'stale-token' : 'sora1-entra-token-xyz';
        return Promise.resolve({ token, expiresOnTimestamp: clock.now() + 3_600_000 });
      },
    };
    try {
      const p = await createJobProvider({
        config: providerConfig({
          name: 'legacy',
          type: 'azure-sora1',
          auth: 'entra',
          baseUrl: `${server.url}/openai/v1`,
          deployments: { sora: 'contoso-sora' },
        }),
        env: {},
        clock,
        cacheDir: '/x',
        credential,
      });
      expect(p).toBeInstanceOf(AzureSora1JobProvider);
      const { handle, state } = await p.submit(base, { idempotencyKey: 'k' });
      expect(state.state).toBe('queued');
      expect(handle).toMatchObject({ type: 'azure-sora1', provider: 'legacy', model: 'contoso-sora' });
      const sent = server.requests.at(-1)!;
      expect(sent.query.get('api-version')).toBe('preview');
      expect(sent.headers.authorization).toBe('Bearer sora1-entra-token-xyz');
      expect(sent.headers['api-key']).toBeUndefined();
      expect(JSON.parse(sent.body.toString())).toMatchObject({ model: 'contoso-sora', n_variants: 1 });
      expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2); // 401, then the create
      await p.close();
    } finally {
      await server.close();
    }
  });
});
