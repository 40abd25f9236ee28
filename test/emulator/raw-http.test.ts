/**
 * What the SDK hides, over raw HTTP: JSON and multipart bodies (bracket keys, uploads), exact error bodies,
 * headers, credentials, Azure's path, pagination edges, the state rules and expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { call, expectSchema, makePng } from './helpers.ts';

const START = Date.UTC(2026, 1, 1);
let clock: FakeClock;
let emulator: EmulatorHandle;
let v1: string;

beforeAll(async () => {
  clock = new FakeClock(START);
  emulator = await startEmulator({
    clock,
    seed: 11,
    createsPerMinute: Infinity,
    apiKeys: ['sk-test', 'azure-key'],
    bearerTokens: ['entra-token'],
  });
  v1 = `${emulator.url}/v1`;
});
afterAll(() => emulator.close());

function form(fields: Record<string, string | Blob>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
}

function expectError(
  res: { status: number; body: unknown },
  status: number,
  error: { message: string | RegExp; type?: string; param: string | null; code: string | null },
): void {
  expect(res.status).toBe(status);
  expectSchema('ErrorResponse', res.body);
  const e = (res.body as { error: Record<string, unknown> }).error;
  if (typeof error.message === 'string') expect(e.message).toBe(error.message);
  else expect(e.message).toMatch(error.message);
  expect(e.type).toBe(error.type ?? 'invalid_request_error');
  expect(e.param).toBe(error.param);
  expect(e.code).toBe(error.code);
}

async function createDone(
  body: Record<string, unknown> = { prompt: 'a lighthouse', size: '720x1280' },
): Promise<string> {
  const res = await call(`${v1}/videos`, { method: 'POST', json: body });
  expect(res.status).toBe(200);
  const id = (res.body as { id: string }).id;
  await clock.advance(100_000);
  return id;
}

describe('create', () => {
  it('accepts JSON with the spec defaults: sora-2, 720x1280, "4"', async () => {
    const res = await call(`${v1}/videos`, { method: 'POST', json: { prompt: 'a harbor at dawn' } });
    expect(res.status).toBe(200);
    expectSchema('VideoResource', res.body);
    expect(res.body).toMatchObject({ model: 'sora-2', size: '720x1280', seconds: '4', status: 'queued' });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get('x-ratelimit-limit-requests')).not.toBeNull();
  });

  it('accepts multipart with bracket-nested keys: input_reference[image_url] as a data URL', async () => {
    const png = makePng(720, 1280).toString('base64');
    const res = await call(`${v1}/videos`, {
      method: 'POST',
      body: form({ prompt: 'first frame', 'input_reference[image_url]': `data:image/png;base64,${png}` }),
    });
    expect(res.status).toBe(200);
    expectSchema('VideoResource', res.body);
  });

  it('accepts an uploaded reference image of the right size and sora-2-pro sizes', async () => {
    const res = await call(`${v1}/videos`, {
      method: 'POST',
      body: form({
        prompt: 'wide',
        model: 'sora-2-pro',
        size: '1792x1024',
        seconds: '8',
        input_reference: new File([makePng(1792, 1024)], 'ref.png', { type: 'image/png' }),
      }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model: 'sora-2-pro', size: '1792x1024', seconds: '8' });
  });

  it('refuses a reference image whose size differs, in the service words', async () => {
    const res = await call(`${v1}/videos`, {
      method: 'POST',
      body: form({
        prompt: 'x',
        size: '1280x720',
        input_reference: new File([makePng(720, 1280)], 'ref.png', { type: 'image/png' }),
      }),
    });
    expectError(res, 400, {
      message: 'Inpaint image must match the requested width and height',
      param: null,
      code: null,
    });
  });

  it('refuses a non-image reference and a string where a file belongs', async () => {
    expectError(
      await call(`${v1}/videos`, {
        method: 'POST',
        body: form({ prompt: 'x', input_reference: new File(['GIF89a...'], 'ref.gif') }),
      }),
      400,
      {
        message: /^Invalid file format for 'input_reference'/,
        param: 'input_reference',
        code: 'invalid_value',
      },
    );
    expectError(
      await call(`${v1}/videos`, {
        method: 'POST',
        body: form({ prompt: 'x', input_reference: 'https://example.com/a.png' }),
      }),
      400,
      {
        message: "Invalid type for 'input_reference': expected a file, but got a string instead.",
        param: 'input_reference',
        code: 'invalid_type',
      },
    );
    expectError(
      await call(`${v1}/videos`, {
        method: 'POST',
        body: form({ prompt: 'x', 'input_reference[file_id]': 'file-123' }),
      }),
      404,
      { message: 'No such File object: file-123', param: 'input_reference.file_id', code: null },
    );
  });

  it('checks prompt, enums and unknown parameters, naming the param', async () => {
    const post = (json: unknown): ReturnType<typeof call> => call(`${v1}/videos`, { method: 'POST', json });
    expectError(await post({}), 400, {
      message: "Missing required parameter: 'prompt'.",
      param: 'prompt',
      code: 'missing_required_parameter',
    });
    expectError(await post({ prompt: '' }), 400, {
      message: /string too short/,
      param: 'prompt',
      code: 'string_below_min_length',
    });
    expectError(await post({ prompt: 'x'.repeat(32_001) }), 400, {
      message:
        "Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a string with length 32001 instead.",
      param: 'prompt',
      code: 'string_above_max_length',
    });
    expectError(await post({ prompt: 'x', seconds: 8 }), 400, {
      message: "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an integer instead.",
      param: 'seconds',
      code: 'invalid_type',
    });
    expectError(await post({ prompt: 'x', seconds: '10' }), 400, {
      message: "Invalid value: '10'. Supported values are: '4', '8', and '12'.",
      param: 'seconds',
      code: 'invalid_value',
    });
    expectError(await post({ prompt: 'x', size: '1920x1080' }), 400, {
      message:
        "Invalid value: '1920x1080'. Supported values are: '720x1280', '1280x720', '1024x1792', and '1792x1024'.",
      param: 'size',
      code: 'invalid_value',
    });
    expectError(await post({ prompt: 'x', model: 'sora-3' }), 400, {
      message: /^Invalid value: 'sora-3'/,
      param: 'model',
      code: 'invalid_value',
    });
    expectError(await post({ prompt: 'x', remix_video_id: 'video_1' }), 400, {
      message: "Unknown parameter: 'remix_video_id'.",
      param: 'remix_video_id',
      code: 'unknown_parameter',
    });
  });

  it('refuses bodies it cannot read', async () => {
    expectError(
      await call(`${v1}/videos`, {
        method: 'POST',
        body: '{nope',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      { message: /^We could not parse the JSON body of your request/, param: null, code: null },
    );
    expectError(
      await call(`${v1}/videos`, {
        method: 'POST',
        body: 'prompt=x',
        headers: { 'content-type': 'text/plain' },
      }),
      400,
      { message: /^Unsupported content type: 'text\/plain'/, param: null, code: null },
    );
  });
});

describe('credentials', () => {
  it('answers 401 for missing or wrong credentials without echoing the key', async () => {
    const missing = await fetch(`${v1}/videos`);
    expect(missing.status).toBe(401);
    const body = await missing.json();
    expectSchema('ErrorResponse', body);
    const wrong = await call(`${v1}/videos`, { headers: { authorization: 'Bearer sk-wrong-secret' } });
    expectError(wrong, 401, { message: /^Incorrect API key provided/, param: null, code: 'invalid_api_key' });
    expect(JSON.stringify(wrong.body)).not.toContain('sk-wrong-secret');
    expect(emulator.requestLog().at(-1)).toMatchObject({ method: 'GET', path: '/v1/videos', status: 401 });
  });

  it('accepts the api-key header and extra bearer tokens', async () => {
    expect((await call(`${v1}/videos`, { headers: { 'api-key': 'azure-key' } })).status).toBe(200);
    expect((await call(`${v1}/videos`, { headers: { authorization: 'Bearer entra-token' } })).status).toBe(
      200,
    );
    expect((await call(`${v1}/videos`, { headers: { 'api-key': 'entra-token' } })).status).toBe(401);
  });

  it("serves Azure's /openai/v1 path, ignoring api-version, with apim-request-id", async () => {
    const res = await call(`${emulator.url}/openai/v1/videos?api-version=preview&limit=1`, {
      headers: { 'api-key': 'azure-key' },
    });
    expect(res.status).toBe(200);
    expectSchema('VideoListResource', res.body);
    expect(res.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const created = await call(`${emulator.url}/openai/v1/videos?api-version=v1`, {
      method: 'POST',
      headers: { 'api-key': 'azure-key' },
      json: { prompt: 'azure' },
    });
    expect(created.status).toBe(200);
    const id = (created.body as { id: string }).id;
    expect((await call(`${v1}/videos/${id}`)).status).toBe(200);
  });

  it('takes deployment names as the model on the Azure path', async () => {
    const azure = `${emulator.url}/openai/v1/videos`;
    const any = await call(azure, {
      method: 'POST',
      headers: { 'api-key': 'azure-key' },
      json: { prompt: 'x', model: 'my-sora' },
    });
    expect(any.body).toMatchObject({ model: 'my-sora', size: '720x1280' });
    const strict = await startEmulator({
      clock,
      createsPerMinute: Infinity,
      azureDeployments: { 'contoso-sora-2': 'sora-2' },
    });
    try {
      const url = `${strict.url}/openai/v1/videos?api-version=preview`;
      const ok = await call(url, {
        method: 'POST',
        headers: { 'api-key': 'k' },
        json: { prompt: 'x', model: 'contoso-sora-2' },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ model: 'contoso-sora-2' });
      expectError(
        await call(url, {
          method: 'POST',
          headers: { 'api-key': 'k' },
          json: { prompt: 'x', model: 'sora-2' },
        }),
        404,
        {
          message:
            "The API deployment 'sora-2' for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
          type: 'video_generation_user_error',
          param: null,
          code: null,
        },
      );
      const big = await call(url, {
        method: 'POST',
        headers: { 'api-key': 'k' },
        json: { prompt: 'x', model: 'contoso-sora-2', size: '1792x1024' },
      });
      expectError(big, 400, {
        message:
          "Invalid value: '1792x1024'. Supported values for model 'contoso-sora-2' are: '720x1280' and '1280x720'.",
        param: 'size',
        code: 'invalid_value',
      });
    } finally {
      await strict.close();
    }
  });

  it('answers unknown paths like the service', async () => {
    expectError(await call(`${v1}/nothing`), 404, {
      message: 'Invalid URL (GET /v1/nothing)',
      param: null,
      code: null,
    });
    expectError(await call(`${v1}/videos//content`), 404, {
      message: 'Invalid URL (GET /v1/videos//content)',
      param: null,
      code: null,
    });
    expectError(await call(`${v1}/videos`, { method: 'PUT' }), 404, {
      message: 'Invalid URL (PUT /v1/videos)',
      param: null,
      code: null,
    });
  });
});

describe('list pagination edges', () => {
  it('validates limit, order and after', async () => {
    expectError(await call(`${v1}/videos?limit=101`), 400, {
      message: "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
      param: 'limit',
      code: 'integer_above_max_value',
    });
    expectError(await call(`${v1}/videos?limit=-1`), 400, {
      message: /below minimum/,
      param: 'limit',
      code: 'integer_below_min_value',
    });
    expectError(await call(`${v1}/videos?limit=ten`), 400, {
      message: /^Invalid type for 'limit'/,
      param: 'limit',
      code: 'invalid_type',
    });
    expectError(await call(`${v1}/videos?order=up`), 400, {
      message: "Invalid value: 'up'. Supported values are: 'asc' and 'desc'.",
      param: 'order',
      code: 'invalid_value',
    });
    expectError(await call(`${v1}/videos?after=video_missing`), 400, {
      message: /video_missing/,
      param: 'after',
      code: 'invalid_value',
    });
  });

  it('pages exactly: limit=0, the last page, and asc vs desc', async () => {
    const all = (await call(`${v1}/videos?limit=100&order=asc`)).body as {
      data: { id: string }[];
      has_more: boolean;
    };
    expect(all.has_more).toBe(false);
    const n = all.data.length;
    expect(n).toBeGreaterThanOrEqual(4);
    const empty = await call(`${v1}/videos?limit=0`);
    expectSchema('VideoListResource', empty.body);
    expect(empty.body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: true });
    const ids = all.data.map((v) => v.id);
    const tail = (await call(`${v1}/videos?order=asc&limit=2&after=${ids[n - 3]}`)).body;
    expectSchema('VideoListResource', tail);
    expect(tail).toMatchObject({ first_id: ids[n - 2], last_id: ids[n - 1], has_more: false });
    const desc = (await call(`${v1}/videos?limit=${n}`)).body as { data: { id: string }[] };
    expect(desc.data.map((v) => v.id)).toEqual([...ids].reverse());
    const after = (await call(`${v1}/videos?after=${ids[0]}`)).body as { data: unknown[]; has_more: boolean };
    expect(after).toMatchObject({ data: [], first_id: null, last_id: null, has_more: false });
  });
});

describe('state rules and expiry', () => {
  it('refuses content, remix and delete of a running video, and 404s unknown ids', async () => {
    const res = await call(`${v1}/videos`, {
      method: 'POST',
      json: { prompt: 'slow', seconds: '12', size: '1280x720' },
    });
    const id = (res.body as { id: string }).id;
    expectError(await call(`${v1}/videos/${id}/content`), 400, {
      message: /is not ready yet \(status: queued\)/,
      param: null,
      code: null,
    });
    expectError(await call(`${v1}/videos/${id}/remix`, { method: 'POST', json: { prompt: 'again' } }), 400, {
      message: /is not completed \(status: queued\)/,
      param: null,
      code: null,
    });
    expectError(await call(`${v1}/videos/${id}`, { method: 'DELETE' }), 400, {
      message: /only completed or failed videos can be deleted/,
      param: null,
      code: null,
    });
    expectError(
      await call(`${v1}/videos/extensions`, {
        method: 'POST',
        json: { prompt: 'more', seconds: '4', video: { id } },
      }),
      400,
      { message: /is not completed/, param: 'video.id', code: null },
    );
    for (const path of ['video_0000', 'video_0000/content', 'video_0000/remix']) {
      const r = await call(
        `${v1}/videos/${path}`,
        path.endsWith('remix') ? { method: 'POST', json: { prompt: 'x' } } : {},
      );
      expectError(r, 404, { message: "Video with id 'video_0000' not found.", param: null, code: null });
    }
  });

  it('checks variant and extension bodies', async () => {
    const id = await createDone();
    expectError(await call(`${v1}/videos/${id}/content?variant=gif`), 400, {
      message: "Invalid value: 'gif'. Supported values are: 'video', 'thumbnail', and 'spritesheet'.",
      param: 'variant',
      code: 'invalid_value',
    });
    expectError(
      await call(`${v1}/videos/extensions`, { method: 'POST', json: { prompt: 'more', video: { id } } }),
      400,
      {
        message: "Missing required parameter: 'seconds'.",
        param: 'seconds',
        code: 'missing_required_parameter',
      },
    );
    const multipart = await call(`${v1}/videos/extensions`, {
      method: 'POST',
      body: form({ prompt: 'more', seconds: '8', 'video[id]': id }),
    });
    expect(multipart.status).toBe(200);
    expect(multipart.body).toMatchObject({ seconds: '12', size: '720x1280' });
    const remix = await call(`${v1}/videos/${id}/remix`, {
      method: 'POST',
      body: form({ prompt: 'multipart remix' }),
    });
    expect(remix.body).toMatchObject({ remixed_from_video_id: id, prompt: 'multipart remix' });
  });

  it('expires assets 24 h after creation: content and remix 404, the video itself stays', async () => {
    await clock.advance(500); // creation off a whole second: expiry still follows the reported expires_at
    const id = await createDone();
    const head = await fetch(`${v1}/videos/${id}/content`, {
      headers: { authorization: 'Bearer sk-test', accept: 'application/binary' },
    });
    expect(head.status).toBe(200);
    await head.body?.cancel();
    const video = (await call(`${v1}/videos/${id}`)).body as { expires_at: number; created_at: number };
    expect(video.expires_at - video.created_at).toBe(86_400);
    await clock.advance(video.expires_at * 1000 - clock.now() - 1);
    const last = await fetch(`${v1}/videos/${id}/content`, { headers: { authorization: 'Bearer sk-test' } });
    expect(last.status).toBe(200);
    await last.body?.cancel();
    await clock.advance(1);
    const message = `Video '${id}' has expired; its assets are no longer available.`;
    expectError(await call(`${v1}/videos/${id}/content`), 404, { message, param: null, code: null });
    expectError(await call(`${v1}/videos/${id}/remix`, { method: 'POST', json: { prompt: 'x' } }), 404, {
      message,
      param: null,
      code: null,
    });
    expect((await call(`${v1}/videos/${id}`)).body).toMatchObject({
      status: 'completed',
      expires_at: video.expires_at,
    });
    expect((await call(`${v1}/videos/${id}`, { method: 'DELETE' })).status).toBe(200);
  });
});
