import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ScaledClock } from '../../src/core/clock.ts';
import type { VideoId } from '../../src/core/brand.ts';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/server.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { remoteFailure } from '../../src/provider/map-provider-error.ts';
import { ProviderError, type RemoteVideo, type VideoProvider } from '../../src/provider/types.ts';
import { providerConfig } from './provider-config.ts';

const clock = new ScaledClock({ speed: 1000 });
const KEY = 'azure-sora1-emulator-key-0123456789';

let emulator: EmulatorHandle | undefined;
let provider: VideoProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await emulator?.close();
  provider = undefined;
  emulator = undefined;
});

async function setUp(options: Parameters<typeof startEmulator>[0] = {}) {
  emulator = await startEmulator({ clock, createsPerMinute: 60, apiKeys: [KEY], seed: 3, ...options });
  provider = await createProvider({
    config: providerConfig({ name: 'legacy', type: 'azure-sora1', baseUrl: `${emulator.url}/openai/v1/` }),
    env: { AZURE_OPENAI_API_KEY: KEY },
    clock,
    cacheDir: '/x',
  });
  return { emulator, provider };
}

async function settle(p: VideoProvider, id: VideoId): Promise<RemoteVideo> {
  for (let i = 0; i < 400; i++) {
    const video = await p.retrieve(id);
    if (video.status === 'completed' || video.status === 'failed') return video;
    // Sora 1 gives no hint; the documented clients poll every 5 s.
    await clock.sleep(5000);
  }
  throw new Error(`${id} did not finish`);
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(KEY);
  return error as ProviderError;
}

const request = { model: 'sora', prompt: 'A cat playing piano in a jazz bar.', size: '854x480', seconds: 3 };

describe('AzureSora1Provider against the real emulator', () => {
  it('creates, polls through the Sora 1 states, downloads generation 0, lists and deletes', async () => {
    const { emulator, provider } = await setUp();
    const job = await provider.create(request);
    expect(job.id).toMatch(/^task_/);
    // The create answers `queued`; on a scaled clock a slow machine may already see it preprocessing or
    // running (mapped to in_progress) by the time the response is parsed.
    expect(['queued', 'in_progress']).toContain(job.status);
    expect(job).toMatchObject({
      progress: null,
      size: '854x480',
      seconds: 3,
      model: 'sora',
    });
    const done = await settle(provider, job.id);
    expect(done).toMatchObject({ status: 'completed', progress: null, error: null });
    expect(done.expiresAt).not.toBeNull();

    const video = await provider.download(job.id, 'video');
    const mp4 = Buffer.from(await new Response(video.body).arrayBuffer());
    expect(mp4.length).toBe(video.contentLength);
    expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const thumb = await provider.download(job.id, 'thumbnail');
    const jpeg = Buffer.from(await new Response(thumb.body).arrayBuffer());
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const contentPaths = emulator
      .requestLog()
      .filter((e) => e.path.includes('/content/'))
      .map((e) => e.path.replace(/gen_[A-Za-z0-9]+/, 'GEN'));
    expect(contentPaths).toEqual([
      '/openai/v1/video/generations/GEN/content/video',
      '/openai/v1/video/generations/GEN/content/thumbnail',
    ]);

    const second = await provider.create({ ...request, prompt: 'A dog on a skateboard.' });
    const ids: string[] = [];
    for await (const v of provider.list({ limit: 1 })) ids.push(v.id);
    expect(ids.sort()).toEqual([job.id, second.id].sort());

    await provider.delete(job.id);
    expect((await failure(provider.retrieve(job.id))).kind).toBe('not-found');
  });

  it('uploads a reference image as multipart inpaint_items + files', async () => {
    const { emulator, provider } = await setUp();
    const png = await sharp({ create: { width: 854, height: 480, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const job = await provider.create({
      ...request,
      inputReference: { bytes: new Uint8Array(png), mime: 'image/png', filename: 'first-frame.png' },
    });
    expect(job.status).toBe('queued');
    expect(emulator.requestLog()[0]).toMatchObject({ method: 'POST', status: 200 });
    expect((await settle(provider, job.id)).status).toBe('completed');
  });

  it('reports input moderation as moderation-blocked, and sends a create once on a 500', async () => {
    const { emulator, provider } = await setUp({ faults: { moderationWords: ['dubious'] } });
    const job = await provider.create({ ...request, prompt: 'something dubious' });
    const failed = await settle(provider, job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('input_moderation');
    expect(remoteFailure('legacy', failed)?.kind).toBe('moderation-blocked');

    emulator.setFaults({ serverErrorRate: 1 });
    emulator.clearLog();
    expect(await failure(provider.create(request))).toMatchObject({
      kind: 'server',
      status: 500,
      delivered: 'yes',
    });
    expect(emulator.requestLog()).toHaveLength(1);
  });
});
