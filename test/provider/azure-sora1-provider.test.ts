import { afterEach, describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ScaledClock } from '../../src/core/clock.ts';
import { asVideoId } from '../../src/core/brand.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { remoteFailure } from '../../src/provider/map-provider-error.ts';
import { ProviderError, type VideoProvider } from '../../src/provider/types.ts';
import { startSora1TestServer, type Sora1TestServer } from './sora1-test-server.ts';
import { providerConfig } from './provider-config.ts';

const KEY = 'azure-key-0123456789abcdef0123456789';
const clock = new ScaledClock({ speed: 10_000 });

let server: Sora1TestServer | undefined;
let provider: VideoProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await server?.close();
  provider = undefined;
  server = undefined;
});

async function setUp(): Promise<{ server: Sora1TestServer; provider: VideoProvider }> {
  server = await startSora1TestServer({ key: KEY });
  provider = await createProvider({
    config: providerConfig({
      name: 'legacy',
      type: 'azure-sora1',
      baseUrl: `${server.url}/openai/v1/`,
      deployments: { sora: 'contoso-sora' },
    }),
    env: { AZURE_OPENAI_API_KEY: KEY },
    clock,
    cacheDir: '/x',
  });
  return { server, provider };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const text = `${(error as Error).message}\n${(error as Error).stack}`;
  expect(text).not.toContain(KEY);
  return error as ProviderError;
}

const request = { model: 'sora', prompt: 'A cat playing piano in a jazz bar.', size: '854x480', seconds: 5 };

describe('AzureSora1Provider against a Sora 1 contract server', () => {
  it('creates a job as JSON with the deployment, width, height and n_seconds', async () => {
    const { server, provider } = await setUp();
    expect(provider.family).toBe('azure-sora1');
    const video = await provider.create(request);
    expect(video).toEqual({
      id: 'task_00000000000000000000000001',
      status: 'queued',
      progress: null,
      createdAt: 1_748_469_876_000,
      completedAt: null,
      expiresAt: null,
      model: 'contoso-sora',
      size: '854x480',
      seconds: 5,
      prompt: 'A cat playing piano in a jazz bar.',
      remixedFrom: null,
      error: null,
      pollAfterMs: null,
    });
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/openai/v1/video/generations/jobs');
    expect(sent.query.get('api-version')).toBe('preview');
    expect(sent.headers['api-key']).toBe(KEY);
    expect(JSON.parse(sent.body.toString())).toEqual({
      prompt: 'A cat playing piano in a jazz bar.',
      model: 'contoso-sora',
      width: 854,
      height: 480,
      n_seconds: 5,
      n_variants: 1,
    });
  });

  it('sends a reference image as multipart with inpaint_items naming the files part', async () => {
    const { server, provider } = await setUp();
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 9, 9]);
    const video = await provider.create({
      ...request,
      inputReference: { bytes, mime: 'image/jpeg', filename: 'first.jpg' },
    });
    const job = server.jobs.get(video.id)!;
    expect(job.inpaint).toEqual([{ frame_index: 0, type: 'image', file_name: 'first.jpg' }]);
    expect(job.files).toEqual([{ name: 'first.jpg', type: 'image/jpeg', bytes: Buffer.from(bytes) }]);
    expect(job.width).toBe(854);
    expect(job.model).toBe('contoso-sora');
  });

  it('maps the job statuses onto queued / in_progress / completed and downloads generation 0', async () => {
    const { server, provider } = await setUp();
    const { id } = await provider.create(request);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await provider.retrieve(id)).status);
    // Create answered `queued`; then preprocessing, running, processing, succeeded.
    expect(seen).toEqual(['queued', 'in_progress', 'in_progress', 'completed']);
    const done = await provider.retrieve(id);
    expect(done.completedAt).toBe(done.createdAt + 60_000);
    expect(done.expiresAt).toBe(done.createdAt + 86_400_000);

    const video = await provider.download(id, 'video');
    expect(video.contentType).toBe('video/mp4');
    expect(await new Response(video.body).text()).toBe(
      'video of gen_00000000000000000000000001 quality=high',
    );
    expect(server.requests.at(-1)!.path).toBe(
      '/openai/v1/video/generations/gen_00000000000000000000000001/content/video',
    );
    const thumb = await provider.download(id, 'thumbnail');
    expect(await new Response(thumb.body).text()).toBe(
      'thumbnail of gen_00000000000000000000000001 quality=null',
    );
    const sprite = await failure(provider.download(id, 'spritesheet'));
    expect(sprite).toMatchObject({ kind: 'invalid-request', delivered: 'no' });
  });

  it('refuses to download a job that has not succeeded', async () => {
    const { provider } = await setUp();
    const { id } = await provider.create(request);
    const error = await failure(provider.download(id, 'video'));
    expect(error.kind).toBe('invalid-request');
    expect(error.message).toBe(
      `legacy: download video of ${id}: the job is preprocessing and has no generation to download`,
    );
  });

  it('reports a moderation failure reason as moderation-blocked', async () => {
    const { provider } = await setUp();
    const { id } = await provider.create({ ...request, prompt: 'something forbidden' });
    const video = await provider.retrieve(id);
    expect(video.status).toBe('failed');
    expect(video.error).toEqual({ code: 'input_moderation', message: 'the job failed (input_moderation)' });
    expect(remoteFailure('legacy', video)?.kind).toBe('moderation-blocked');
  });

  it('lists all jobs across pages and deletes with 204', async () => {
    const { server, provider } = await setUp();
    for (let i = 0; i < 3; i++) await provider.create(request);
    const ids: string[] = [];
    for await (const v of provider.list({ limit: 2 })) ids.push(v.id);
    expect(ids).toEqual([
      'task_00000000000000000000000003',
      'task_00000000000000000000000002',
      'task_00000000000000000000000001',
    ]);
    const lists = server.requests.filter((r) => r.method === 'GET');
    expect(lists.map((r) => r.query.get('after'))).toEqual([null, 'task_00000000000000000000000002']);
    await provider.delete(asVideoId('task_00000000000000000000000002'));
    expect(server.jobs.has('task_00000000000000000000000002')).toBe(false);
    const gone = await failure(provider.retrieve(asVideoId('task_00000000000000000000000002')));
    expect(gone).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('rejects remix and extend without a request', async () => {
    const { server, provider } = await setUp();
    const remix = await failure(provider.remix(asVideoId('task_1'), 'teal'));
    expect(remix).toMatchObject({ kind: 'invalid-request', delivered: 'no' });
    expect(remix.message).toBe(
      'legacy: remix of task_1: Azure Sora 1 supports neither remix nor extend; `remix_of` needs an `openai` provider (Sora 2)',
    );
    expect((await failure(provider.extend(asVideoId('task_1'), 'more', 4))).kind).toBe('invalid-request');
    expect(server.requests).toHaveLength(0);
  });

  it('maps flat and wrapped error bodies, and makes one attempt per call (the engine retries)', async () => {
    const { server, provider } = await setUp();
    const bad = await failure(provider.create({ ...request, size: '999x480' }));
    expect(bad).toMatchObject({
      kind: 'invalid-request',
      status: 400,
      code: 'invalid_request',
      param: 'width',
    });
    expect(bad.message).toBe('legacy: create: 400 Unsupported width 999 (code invalid_request, param width)');

    server.injected.push({
      status: 429,
      body: { error: { code: '429', message: 'Rate limit is exceeded.' } },
      headers: { 'retry-after': '7' },
    });
    expect(await failure(provider.create(request))).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 7000 * clock.speed,
    });

    const before = server.requests.length;
    server.injected.push({ status: 500, body: { error: { code: 'InternalServerError', message: 'oops' } } });
    expect(await failure(provider.create(request))).toMatchObject({
      kind: 'server',
      status: 500,
      delivered: 'yes',
    });
    expect(server.requests.length - before).toBe(1);

    const { id } = await provider.create(request);
    server.injected.push({ status: 503, body: { error: { code: 'ServiceUnavailable', message: 'busy' } } });
    const mid = server.requests.length;
    expect(await failure(provider.retrieve(id))).toMatchObject({ kind: 'server', status: 503 });
    expect(server.requests.length - mid).toBe(1);
    expect((await provider.retrieve(id)).status).toBe('queued');
    expect(server.requests.length - mid).toBe(2);
  });

  it('authenticates with an Entra ID bearer token', async () => {
    server = await startSora1TestServer({ token: 'sora1-entra-token-xyz' });
    const credential: TokenCredential = {
      getToken: (): Promise<AccessToken> =>
        Promise.resolve({ token: 'sora1-entra-token-xyz', expiresOnTimestamp: clock.now() + 3_600_000 }),
    };
    provider = await createProvider({
      config: providerConfig({ type: 'azure-sora1', auth: 'entra', baseUrl: `${server.url}/openai/v1` }),
      env: {},
      clock,
      cacheDir: '/x',
      credential,
    });
    const video = await provider.create(request);
    expect(video.status).toBe('queued');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sora1-entra-token-xyz');
    expect(server.requests[0]!.headers['api-key']).toBeUndefined();
  });

  it('needs a base URL', async () => {
    const error = await failure(
      createProvider({
        config: providerConfig({ type: 'azure-sora1' }),
        env: { AZURE_OPENAI_API_KEY: KEY },
        clock,
        cacheDir: '/x',
      }),
    );
    expect(error.message).toContain('an azure-sora1 provider needs `base_url`');
  });
});
