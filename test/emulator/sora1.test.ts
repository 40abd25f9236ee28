/** Azure's Sora 1 video generation jobs API, over raw HTTP with an `api-key` header, as Azure clients call it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { call, makePng, probeMedia } from './helpers.ts';
import { tinyMp4 } from '../support/tiny-mp4.ts';

const START = Date.UTC(2026, 3, 1);
let clock: FakeClock;
let emulator: EmulatorHandle;
let base: string;
const key = { 'api-key': 'azure-key' };
const q = '?api-version=preview';

beforeAll(async () => {
  clock = new FakeClock(START);
  emulator = await startEmulator({ clock, seed: 21, createsPerMinute: Infinity });
  base = `${emulator.url}/openai/v1/video/generations`;
});
afterAll(() => emulator.close());

interface Job {
  id: string;
  status: string;
  created_at: number;
  finished_at: number | null;
  expires_at: number | null;
  generations: {
    id: string;
    object: string;
    job_id: string;
    width: number;
    height: number;
    n_seconds: number;
  }[];
}

const getJob = async (id: string): Promise<Job> =>
  (await call(`${base}/jobs/${id}${q}`, { headers: key })).body as Job;

describe('Sora 1 jobs', () => {
  let job: Job;

  it('creates a job from JSON with the documented fields', async () => {
    const res = await call(`${base}/jobs${q}`, {
      method: 'POST',
      headers: key,
      json: {
        prompt: 'A cat playing piano in a jazz bar.',
        model: 'sora',
        width: 480,
        height: 480,
        n_seconds: 2,
        n_variants: 2,
      },
    });
    expect(res.status).toBe(200);
    job = res.body as Job;
    expect(res.body).toEqual({
      object: 'video.generation.job',
      id: expect.stringMatching(/^task_[0-9a-z]{26}$/) as unknown,
      status: 'queued',
      created_at: START / 1000,
      finished_at: null,
      expires_at: null,
      generations: [],
      prompt: 'A cat playing piano in a jazz bar.',
      model: 'sora',
      n_variants: 2,
      n_seconds: 2,
      height: 480,
      width: 480,
      failure_reason: null,
    });
    expect(res.headers.get('apim-request-id')).not.toBeNull();
  });

  it('goes queued -> preprocessing -> running -> processing -> succeeded with one generation per variant', async () => {
    // 2 s x 2 variants at 6 s/s: 2.4 s queued, 21.6 s rendering.
    const seen: string[] = [(await getJob(job.id)).status];
    for (const ms of [3_000, 9_000, 11_000, 1_000]) {
      await clock.advance(ms);
      seen.push((await getJob(job.id)).status);
    }
    expect(seen).toEqual(['queued', 'preprocessing', 'running', 'processing', 'succeeded']);
    const done = await getJob(job.id);
    expect(done.finished_at).toBe(START / 1000 + 24);
    expect(done.expires_at).toBe(START / 1000 + 86_400);
    expect(done.generations).toHaveLength(2);
    for (const g of done.generations) {
      expect(g).toMatchObject({
        object: 'video.generation',
        job_id: job.id,
        width: 480,
        height: 480,
        n_seconds: 2,
      });
      expect(g.id).toMatch(/^gen_[0-9a-z]{26}$/);
    }
    job = done;
  });

  it('serves each generation: JSON, an MP4 without audio (GET, HEAD, ranges) and a JPEG thumbnail', async () => {
    const [g1, g2] = job.generations;
    expect((await call(`${base}/${g1!.id}${q}`, { headers: key })).body).toMatchObject({
      id: g1!.id,
      job_id: job.id,
    });
    const res = await fetch(`${base}/${g1!.id}/content/video${q}&quality=high`, { headers: key });
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('last-modified')).toBe(new Date(START + 24_000).toUTCString());
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    const facts = await probeMedia(bytes);
    expect([facts.videoCodec, facts.width, facts.height, facts.audioCodec]).toEqual(['avc', 480, 480, null]);
    expect(Math.abs(facts.duration - 2)).toBeLessThan(0.1);
    const head = await fetch(`${base}/${g1!.id}/content/video${q}`, { method: 'HEAD', headers: key });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    const part = await fetch(`${base}/${g1!.id}/content/video${q}`, {
      headers: { ...key, range: 'bytes=0-99' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true);
    const other = Buffer.from(
      await (await fetch(`${base}/${g2!.id}/content/video${q}`, { headers: key })).arrayBuffer(),
    );
    expect(other.equals(bytes)).toBe(false);
    const thumb = await fetch(`${base}/${g1!.id}/content/thumbnail${q}`, { headers: key });
    expect(thumb.headers.get('content-type')).toBe('image/jpg');
    expect([...Buffer.from(await thumb.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const bad = await call(`${base}/${g1!.id}/content/video${q}&quality=medium`, { headers: key });
    expect(bad.status).toBe(400);
  });

  it('takes multipart with inpaint_items as a JSON string naming the files parts', async () => {
    const form = new FormData();
    form.append('prompt', 'from a first frame');
    form.append('model', 'sora');
    form.append('width', '1280');
    form.append('height', '720');
    form.append('n_seconds', '4');
    const items = [
      {
        frame_index: 0,
        type: 'image',
        file_name: 'first.png',
        crop_bounds: { left_fraction: 0.1, top_fraction: 0, right_fraction: 1, bottom_fraction: 1 },
      },
    ];
    form.append('inpaint_items', JSON.stringify(items));
    form.append('files', new File([makePng(64, 64)], 'first.png', { type: 'image/png' }));
    const res = await call(`${base}/jobs${q}`, { method: 'POST', headers: key, body: form });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      width: 1280,
      height: 720,
      n_seconds: 4,
      n_variants: 1,
      inpaint_items: items,
    });
    form.set('inpaint_items', JSON.stringify([{ ...items[0], file_name: 'missing.png' }]));
    const bad = await call(`${base}/jobs${q}`, { method: 'POST', headers: key, body: form });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: { param: 'inpaint_items[0].file_name', type: 'invalid_request_error' },
    });
  });

  it('validates sizes, durations, variants and fields', async () => {
    const post = async (json: Record<string, unknown>): Promise<{ status: number; param: unknown }> => {
      const res = await call(`${base}/jobs${q}`, {
        method: 'POST',
        headers: key,
        json: { prompt: 'p', model: 'sora', ...json },
      });
      return { status: res.status, param: (res.body as { error?: { param: unknown } }).error?.param };
    };
    expect(await post({ width: 500, height: 500 })).toEqual({ status: 400, param: 'width' });
    expect(await post({ width: 1920, height: 1080, n_seconds: 15 })).toEqual({
      status: 400,
      param: 'n_seconds',
    });
    expect(await post({ width: 1280, height: 720, n_variants: 3 })).toEqual({
      status: 400,
      param: 'n_variants',
    });
    expect(await post({ n_seconds: '5' })).toEqual({ status: 400, param: 'n_seconds' });
    expect(await post({ quality: 'high' })).toEqual({ status: 400, param: 'quality' });
    expect(await post({ model: undefined })).toEqual({ status: 400, param: 'model' });
    expect((await post({ width: 480, height: 854, n_seconds: 20, n_variants: 4 })).status).toBe(200);
  });

  it('lists newest first with limit, statuses, after and before; Videos API lists do not show Sora 1 jobs', async () => {
    const list = async (
      query: string,
    ): Promise<{
      data: { id: string; status: string }[];
      has_more: boolean;
      first_id: string | null;
      last_id: string | null;
    }> => (await call(`${base}/jobs${q}&${query}`, { headers: key })).body as never;
    const all = await list('limit=100');
    expect(all.data).toHaveLength(3);
    expect(all.data.at(-1)!.id).toBe(job.id);
    expect(await list('statuses=succeeded')).toMatchObject({ data: [{ id: job.id }], has_more: false });
    const first = await list('limit=1');
    expect(first).toMatchObject({ has_more: true, first_id: all.data[0]!.id, last_id: all.data[0]!.id });
    expect((await list(`limit=1&after=${all.data[0]!.id}`)).data[0]!.id).toBe(all.data[1]!.id);
    expect((await list(`limit=1&before=${all.data[2]!.id}`)).data[0]!.id).toBe(all.data[1]!.id);
    expect((await call(`${base}/jobs${q}&statuses=done`, { headers: key })).status).toBe(400);
    const videos = (await call(`${emulator.url}/v1/videos`)).body as { data: unknown[] };
    expect(videos.data).toEqual([]);
  });

  it('deletes with 204 and forgets jobs 24 h after creation', async () => {
    const del = await fetch(`${base}/jobs/${job.id}${q}`, { method: 'DELETE', headers: key });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect((await call(`${base}/jobs/${job.id}${q}`, { headers: key })).status).toBe(404);
    expect((await call(`${base}/${job.generations[0]!.id}/content/video${q}`, { headers: key })).status).toBe(
      404,
    );
    const remaining = ((await call(`${base}/jobs${q}`, { headers: key })).body as { data: { id: string }[] })
      .data;
    expect(remaining).toHaveLength(2);
    await clock.advance(86_400_000);
    expect((await call(`${base}/jobs/${remaining[0]!.id}${q}`, { headers: key })).status).toBe(404);
    expect(((await call(`${base}/jobs${q}`, { headers: key })).body as { data: unknown[] }).data).toEqual([]);
  });
});

/** Inputs and concurrency, on an emulator of their own (the jobs above are counted by the list test). */
describe('Sora 1 job inputs and concurrency', () => {
  const own = { clock: new FakeClock(START), emulator: undefined as unknown as EmulatorHandle, base: '' };
  beforeAll(async () => {
    own.emulator = await startEmulator({ clock: own.clock, seed: 22, createsPerMinute: Infinity });
    own.base = `${own.emulator.url}/openai/v1/video/generations`;
  });
  afterAll(() => own.emulator.close());
  const ownJob = async (id: string): Promise<Job> =>
    (await call(`${own.base}/jobs/${id}${q}`, { headers: key })).body as Job;

  it('checks what a job starts from: up to two images or one video of at most 5 s, crops, frame indices', async () => {
    const png = makePng(64, 64);
    const post = async (
      items: Record<string, unknown>[],
      files: Record<string, Uint8Array>,
    ): Promise<{ status: number; param: unknown; message?: string }> => {
      const form = new FormData();
      for (const [k, v] of Object.entries({
        prompt: 'p',
        model: 'sora',
        width: '480',
        height: '480',
        n_seconds: '4',
      }))
        form.append(k, v);
      form.append('inpaint_items', JSON.stringify(items));
      for (const [name, bytes] of Object.entries(files)) form.append('files', new File([bytes], name));
      const res = await call(`${own.base}/jobs${q}`, { method: 'POST', headers: key, body: form });
      const error = (res.body as { error?: { param: unknown; message: string } }).error;
      return { status: res.status, param: error?.param, ...(error && { message: error.message }) };
    };
    const image = (file_name: string, frame_index = 0) => ({ type: 'image', file_name, frame_index });
    const video = (file_name: string) => ({ type: 'video', file_name, frame_index: 0 });
    const before = own.emulator.requestLog().filter((e) => e.status === 200 && e.method === 'POST').length;
    const three = await post([image('a.png'), image('b.png', 60), image('c.png', 119)], {
      'a.png': png,
      'b.png': png,
      'c.png': png,
    });
    expect(three).toMatchObject({ status: 400, param: 'inpaint_items' });
    expect(three.message).toContain('up to 2 images or one video, but got 3 image(s) and 0 video(s)');
    expect(await post([image('a.png'), video('v.mp4')], { 'a.png': png, 'v.mp4': tinyMp4(2) })).toMatchObject(
      {
        status: 400,
        param: 'inpaint_items',
      },
    );
    expect(await post([video('v.mp4'), video('v.mp4')], { 'v.mp4': tinyMp4(2) })).toMatchObject({
      status: 400,
      param: 'inpaint_items',
    });
    const long = await post([video('v.mp4')], { 'v.mp4': tinyMp4(5.5) });
    expect(long).toMatchObject({ status: 400, param: 'inpaint_items[0].file_name' });
    expect(long.message).toContain('at most 5 seconds long, but it is 5.50 seconds');
    expect(await post([video('v.mp4')], { 'v.mp4': png })).toMatchObject({
      status: 400,
      param: 'inpaint_items[0].file_name',
    });
    const crop = (bounds: Record<string, unknown>) => ({ ...image('a.png'), crop_bounds: bounds });
    expect(await post([crop({ left_fraction: 1.5 })], { 'a.png': png })).toMatchObject({
      status: 400,
      param: 'inpaint_items[0].crop_bounds.left_fraction',
    });
    expect(await post([crop({ left_fraction: 0.6, right_fraction: 0.4 })], { 'a.png': png })).toMatchObject({
      status: 400,
      param: 'inpaint_items[0].crop_bounds',
    });
    expect(await post([crop({ width: 1 })], { 'a.png': png })).toMatchObject({
      status: 400,
      param: 'inpaint_items[0].crop_bounds.width',
    });
    const late = await post([image('a.png', 120)], { 'a.png': png });
    expect(late).toMatchObject({ status: 400, param: 'inpaint_items[0].frame_index' });
    expect(late.message).toContain('at most 119 (the last frame of 4 s at 30 fps)');
    // Nothing refused made a job; the limits themselves pass.
    expect(own.emulator.requestLog().filter((e) => e.status === 200 && e.method === 'POST').length).toBe(
      before,
    );
    expect((await post([image('a.png'), image('b.png', 119)], { 'a.png': png, 'b.png': png })).status).toBe(
      200,
    );
    expect((await post([video('v.mp4')], { 'v.mp4': tinyMp4(5) })).status).toBe(200);
  });

  it('runs two jobs at once: a third waits queued until one of them finishes', async () => {
    const create = async (): Promise<string> =>
      (
        (
          await call(`${own.base}/jobs${q}`, {
            method: 'POST',
            headers: key,
            json: { prompt: 'p', model: 'sora', width: 480, height: 480, n_seconds: 1 },
          })
        ).body as Job
      ).id;
    await own.clock.advance(600_000); // earlier jobs are done
    const [a, b, c] = [await create(), await create(), await create()];
    // 1 s at 6 s/s: 0.6 s queued, 5.4 s rendering; the third starts its own 6 s when the first ends.
    await own.clock.advance(3_000);
    expect([(await ownJob(a)).status, (await ownJob(b)).status, (await ownJob(c)).status]).toEqual([
      'running',
      'running',
      'queued',
    ]);
    await own.clock.advance(3_100);
    expect((await ownJob(a)).status).toBe('succeeded');
    expect((await ownJob(c)).status).toBe('queued');
    await own.clock.advance(6_000);
    expect((await ownJob(c)).status).toBe('succeeded');
  });
});
