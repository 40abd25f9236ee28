import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScaledClock } from '../../src/core/clock.ts';
import { asVideoId } from '../../src/core/brand.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { remoteFailure } from '../../src/provider/map-provider-error.ts';
import { OpenAIProvider } from '../../src/provider/openai-provider.ts';
import { SecretRedactor } from '../../src/provider/redact.ts';
import { ProviderError, type VideoProvider } from '../../src/provider/types.ts';
import {
  sendJson,
  startCannedServer,
  videoJson,
  type CannedHandler,
  type CannedServer,
} from './canned-server.ts';
import { providerConfig } from './provider-config.ts';

const KEY = 'sk-test-0123456789abcdefSECRETKEY';
/** 10,000x: any clock wait takes well under a millisecond. */
const clock = new ScaledClock({ speed: 10_000 });

let server: CannedServer | undefined;
let provider: VideoProvider | undefined;
/** Every error a test saw, checked for secrets after each test. */
const seen: unknown[] = [];

afterEach(async () => {
  await provider?.close();
  await server?.close();
  provider = undefined;
  server = undefined;
  for (const e of seen.splice(0)) {
    const text = e instanceof Error ? `${e.message}\n${e.stack ?? ''}\n${causeText(e)}` : String(e);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('SECRETKEY');
  }
});

function causeText(e: Error): string {
  let out = '';
  let c: unknown = e.cause;
  while (c instanceof Error) {
    out += `${c.message}\n${c.stack ?? ''}\n`;
    c = c.cause;
  }
  return out;
}

async function setUp(handler: CannedHandler, env: Record<string, string> = { OPENAI_API_KEY: KEY }) {
  server = await startCannedServer(handler);
  provider = await createProvider({
    config: providerConfig({ baseUrl: `${server.url}/v1`, deployments: { 'sora-2': 'contoso-sora-2' } }),
    env,
    clock,
    cacheDir: '/nonexistent',
  });
  return { server, provider };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    seen.push(error);
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected the call to fail');
}

const request = { model: 'sora-2', prompt: 'a harbor at dawn', size: '1280x720', seconds: 8 };

describe('OpenAIProvider over HTTP', () => {
  it('creates with the deployment name and seconds as a string, and normalises the Video', async () => {
    const { server, provider } = await setUp((_req, res) =>
      sendJson(res, 200, videoJson({ model: 'contoso-sora-2', progress: 3 }), {
        'openai-poll-after-ms': '1500',
      }),
    );
    const video = await provider.create(request);
    expect(video).toEqual({
      id: 'video_0001',
      status: 'queued',
      progress: 3,
      createdAt: 1_760_000_000_000,
      completedAt: null,
      expiresAt: null,
      model: 'contoso-sora-2',
      size: '1280x720',
      seconds: 8,
      prompt: 'a harbor at dawn',
      remixedFrom: null,
      error: null,
      // The header is real time; the adapter speaks its clock's time (10,000x here).
      pollAfterMs: 1500 * clock.speed,
    });
    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/videos');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    // Not an Azure endpoint: no api-key header.
    expect(sent.headers['api-key']).toBeUndefined();
    const body = sent.body.toString();
    expect(body).toMatch(/name="model"\r\n\r\ncontoso-sora-2\r\n/);
    expect(body).toMatch(/name="seconds"\r\n\r\n8\r\n/);
    expect(body).toMatch(/name="size"\r\n\r\n1280x720\r\n/);
  });

  it('uploads input_reference as a file part', async () => {
    const { server, provider } = await setUp((_req, res) => sendJson(res, 200, videoJson()));
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await provider.create({
      ...request,
      inputReference: { bytes: png, mime: 'image/png', filename: 'mug.png' },
    });
    const body = server.requests[0]!.body;
    const text = body.toString('latin1');
    expect(text).toMatch(/name="input_reference"; filename="mug.png"\r\nContent-Type: image\/png\r\n\r\n/);
    expect(body.includes(Buffer.from(png))).toBe(true);
  });

  it('completed videos carry completion and expiry times in milliseconds', async () => {
    const { provider } = await setUp((_req, res) =>
      sendJson(
        res,
        200,
        videoJson({
          status: 'completed',
          progress: 100,
          completed_at: 1_760_000_090,
          expires_at: 1_760_086_400,
        }),
      ),
    );
    const video = await provider.retrieve(asVideoId('video_0001'));
    expect(video.completedAt).toBe(1_760_000_090_000);
    expect(video.expiresAt).toBe(1_760_086_400_000);
    expect(video.pollAfterMs).toBeNull();
  });

  it('never retries a create that got a 500: exactly one request', async () => {
    const { server, provider } = await setUp((_req, res) =>
      sendJson(res, 500, {
        error: { message: 'upstream broke', type: 'server_error', param: null, code: null },
      }),
    );
    const error = await failure(provider.create(request));
    expect(server.requests).toHaveLength(1);
    expect(error.kind).toBe('server');
    expect(error.status).toBe(500);
    expect(error.delivered).toBe('yes');
    expect(error.message).toBe('test: create: 500 upstream broke');
  });

  it('never retries a create whose connection dropped after sending: delivered maybe', async () => {
    const { server, provider } = await setUp((_req, res) => {
      res.socket?.destroy();
    });
    const error = await failure(provider.create(request));
    expect(server.requests).toHaveLength(1);
    expect(error.kind).toBe('connection');
    expect(error.delivered).toBe('maybe');
    expect(error.status).toBeUndefined();
  });

  it('never retries remix or extend either, and maps 429 with retry-after-ms / retry-after', async () => {
    const { server, provider } = await setUp((req, res) => {
      const headers: Record<string, string> = req.path.endsWith('/remix')
        ? { 'retry-after-ms': '1500' }
        : { 'retry-after': '3' };
      sendJson(
        res,
        429,
        { error: { message: 'Too many requests', type: 'rate_limit', param: null, code: null } },
        headers,
      );
    });
    const remix = await failure(provider.remix(asVideoId('video_parent'), 'teal'));
    expect(server.requests).toHaveLength(1);
    expect(remix).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 1500 * clock.speed,
      delivered: 'yes',
    });
    const extend = await failure(provider.extend(asVideoId('video_parent'), 'and then', 4));
    expect(server.requests).toHaveLength(2);
    expect(extend).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 3000 * clock.speed });
    expect(extend.message).toBe('test: extend video_parent: 429 Too many requests (retry after 3000 ms)');
  });

  it('sends remix as POST /videos/{id}/remix and extend as /videos/extensions with video[id]', async () => {
    const { server, provider } = await setUp((req, res) =>
      sendJson(res, 200, videoJson({ id: 'video_child', remixed_from_video_id: 'video_parent' })),
    );
    const child = await provider.remix(asVideoId('video_parent'), 'teal palette');
    expect(child.remixedFrom).toBe('video_parent');
    expect(server.requests[0]!.path).toBe('/v1/videos/video_parent/remix');
    expect(JSON.parse(server.requests[0]!.body.toString())).toEqual({ prompt: 'teal palette' });
    await provider.extend(asVideoId('video_parent'), 'the camera keeps rising', 4);
    const ext = server.requests[1]!;
    expect(ext.path).toBe('/v1/videos/extensions');
    const body = ext.body.toString();
    expect(body).toMatch(/name="video\[id\]"\r\n\r\nvideo_parent\r\n/);
    expect(body).toMatch(/name="seconds"\r\n\r\n4\r\n/);
    expect(body).toMatch(/name="prompt"\r\n\r\nthe camera keeps rising\r\n/);
  });

  it('makes one attempt per read: a 5xx or a dropped connection goes to the engine, which retries', async () => {
    const { server, provider } = await setUp((_req, res, n) => {
      if (n === 0) return sendJson(res, 502, { error: { message: 'bad gateway', type: 'server_error' } });
      if (n === 1) return void res.socket?.destroy();
      sendJson(res, 200, videoJson({ status: 'in_progress', progress: 40 }));
    });
    expect(await failure(provider.retrieve(asVideoId('video_0001')))).toMatchObject({
      kind: 'server',
      status: 502,
    });
    expect(server.requests).toHaveLength(1);
    expect(await failure(provider.retrieve(asVideoId('video_0001')))).toMatchObject({ kind: 'connection' });
    expect(server.requests).toHaveLength(2);
    expect((await provider.retrieve(asVideoId('video_0001'))).progress).toBe(40);
    expect(server.requests).toHaveLength(3);
  });

  it('maps 404 to not-found and does not retry it', async () => {
    const { server, provider } = await setUp((_req, res) =>
      sendJson(res, 404, {
        error: {
          message: "Video 'video_gone' not found",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      }),
    );
    const error = await failure(provider.retrieve(asVideoId('video_gone')));
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'not-found', status: 404, delivered: 'yes' });
    expect(error.message).toBe("test: retrieve video_gone: 404 Video 'video_gone' not found");
  });

  it('maps 401 to auth and never shows the key, even when the server echoes it', async () => {
    const { provider } = await setUp((req, res) =>
      sendJson(res, 401, {
        error: {
          message: `Incorrect API key provided: ${KEY}. Header was ${req.headers.authorization}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      }),
    );
    const error = await failure(provider.retrieve(asVideoId('video_0001')));
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'invalid_api_key' });
    expect(error.message).toContain('Incorrect API key provided: [redacted]');
    // afterEach checks message, stack and cause chain of every error for the key.
  });

  it('maps moderation_blocked to moderation-blocked and keeps code and param', async () => {
    const { provider } = await setUp((req, res) =>
      req.path.endsWith('/videos')
        ? sendJson(res, 400, {
            error: {
              message: 'Your request was blocked by moderation.',
              type: 'invalid_request_error',
              param: 'prompt',
              code: 'moderation_blocked',
            },
          })
        : sendJson(res, 400, {
            error: {
              message: 'Invalid type for input_reference',
              type: 'invalid_request_error',
              param: 'input_reference',
              code: 'invalid_type',
            },
          }),
    );
    const blocked = await failure(provider.create(request));
    expect(blocked).toMatchObject({
      kind: 'moderation-blocked',
      status: 400,
      code: 'moderation_blocked',
      param: 'prompt',
    });
    const invalid = await failure(provider.remix(asVideoId('video_1'), 'x'));
    expect(invalid).toMatchObject({
      kind: 'invalid-request',
      code: 'invalid_type',
      param: 'input_reference',
    });
  });

  it('turns a failed job with a moderation code into a moderation-blocked failure', async () => {
    const { provider } = await setUp((_req, res) =>
      sendJson(
        res,
        200,
        videoJson({ status: 'failed', error: { code: 'moderation_blocked', message: 'blocked' } }),
      ),
    );
    const video = await provider.retrieve(asVideoId('video_0001'));
    expect(video.error).toEqual({ code: 'moderation_blocked', message: 'blocked' });
    expect(remoteFailure('test', video)).toMatchObject({
      kind: 'moderation-blocked',
      code: 'moderation_blocked',
    });
    expect(remoteFailure('test', { ...video, error: { code: 'internal_error', message: 'x' } })?.kind).toBe(
      'server',
    );
    expect(remoteFailure('test', { ...video, status: 'completed' })).toBeUndefined();
  });

  it('lists every page by following the after cursor', async () => {
    const ids = ['video_a', 'video_b', 'video_c', 'video_d', 'video_e'];
    const { server, provider } = await setUp((req, res) => {
      const after = req.query.get('after');
      const limit = Number(req.query.get('limit'));
      const start = after === null ? 0 : ids.indexOf(after) + 1;
      const page = ids.slice(start, start + limit);
      sendJson(res, 200, {
        object: 'list',
        data: page.map((id) => videoJson({ id })),
        first_id: page[0] ?? null,
        last_id: page.at(-1) ?? null,
        has_more: start + limit < ids.length,
      });
    });
    const got: string[] = [];
    for await (const v of provider.list({ limit: 2, order: 'asc' })) got.push(v.id);
    expect(got).toEqual(ids);
    expect(server.requests.map((r) => r.query.toString())).toEqual([
      'order=asc&limit=2',
      'order=asc&limit=2&after=video_b',
      'order=asc&limit=2&after=video_d',
    ]);
  });

  it('deletes in one attempt; a dropped connection is reported, not repeated', async () => {
    const { server, provider } = await setUp((_req, res, n) => {
      if (n === 0) return sendJson(res, 200, { id: 'video_1', object: 'video.deleted', deleted: true });
      res.socket?.destroy();
    });
    await provider.delete(asVideoId('video_1'));
    expect(server.requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/videos/video_1' });
    expect(await failure(provider.delete(asVideoId('video_2')))).toMatchObject({ kind: 'connection' });
    expect(server.requests).toHaveLength(2);
  });

  it('streams a download without buffering it, with Accept: application/binary', async () => {
    let finish: () => void = () => {};
    const released = new Promise<void>((resolve) => (finish = resolve));
    const { server, provider } = await setUp(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '8' });
      res.write(Buffer.from('FIRST'));
      // The rest is held back until the test has read the first chunk: a buffering client would hang here.
      await released;
      res.end(Buffer.from('END'));
    });
    const download = await provider.download(asVideoId('video_1'), 'thumbnail');
    expect(download.contentLength).toBe(8);
    expect(download.contentType).toBe('video/mp4');
    const reader = download.body.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('FIRST');
    finish();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += Buffer.from(r.value).toString();
    expect(rest).toBe('END');
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/videos/video_1/content');
    expect(sent.query.get('variant')).toBe('thumbnail');
    expect(sent.headers.accept).toBe('application/binary');
  });

  it('reports a refused connection as not delivered', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    provider = await createProvider({
      config: providerConfig({ baseUrl: `http://127.0.0.1:${port}/v1` }),
      env: { OPENAI_API_KEY: KEY },
      clock,
      cacheDir: '/nonexistent',
    });
    const error = await failure(provider.create(request));
    expect(error).toMatchObject({ kind: 'connection', delivered: 'no', status: undefined });
    expect(error.message).toMatch(
      /^test: create: could not connect \(.*ECONNREFUSED.*\); the request was not sent$/,
    );
  });

  it('names both variables when no key is set, and prefers AZURE_OPENAI_API_KEY for Azure URLs', async () => {
    const missing = await failure(
      createProvider({
        config: providerConfig({ baseUrl: 'https://contoso.openai.azure.com/openai/v1/' }),
        env: {},
        clock,
        cacheDir: '/x',
      }),
    );
    expect(missing).toMatchObject({ kind: 'auth', delivered: 'no' });
    expect(missing.message).toBe(
      'test: no API key for https://contoso.openai.azure.com/openai/v1/: set AZURE_OPENAI_API_KEY or OPENAI_API_KEY, ' +
        'or use `auth: entra` in sora.config.yaml for Microsoft Entra ID',
    );
    server = await startCannedServer((_req, res) => sendJson(res, 200, videoJson()));
    provider = await createProvider({
      config: providerConfig({ baseUrl: `${server.url}/openai/v1` }),
      env: { OPENAI_API_KEY: 'sk-openai-not-this-one', AZURE_OPENAI_API_KEY: KEY },
      clock,
      cacheDir: '/x',
    });
    await provider.retrieve(asVideoId('video_0001'));
    expect(server.requests[0]!.path).toBe('/openai/v1/videos/video_0001');
    expect(server.requests[0]!.headers['api-key']).toBe(KEY);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('uses OPENAI_BASE_URL when the config names no base_url', async () => {
    server = await startCannedServer((_req, res) => sendJson(res, 200, videoJson()));
    provider = await createProvider({
      config: providerConfig(),
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/gateway/v1` },
      clock,
      cacheDir: '/x',
    });
    await provider.retrieve(asVideoId('video_0001'));
    expect(server.requests[0]!.path).toBe('/gateway/v1/videos/video_0001');
  });
});

describe('OpenAIProvider timeouts and cancellation', () => {
  it('reports a timed-out create as maybe delivered, after one request', async () => {
    server = await startCannedServer(() => {
      // Never answers.
    });
    provider = new OpenAIProvider({
      name: 'slow',
      family: 'openai-videos',
      baseUrl: `${server.url}/v1`,
      auth: { mode: 'api-key', apiKey: KEY, variable: 'OPENAI_API_KEY' },
      deployments: {},
      clock,
      redactor: new SecretRedactor(),
      timeoutMs: 150,
    });
    const error = await failure(provider.create(request));
    expect(error).toMatchObject({ kind: 'connection', delivered: 'maybe' });
    expect(error.message).toBe('slow: create: the request timed out');
    expect(server.requests).toHaveLength(1);
  });

  it("rejects with the caller's abort reason, not a ProviderError", async () => {
    const { server, provider } = await setUp(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pending = provider.create(request, controller.signal);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('interrupted by SIGINT');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
