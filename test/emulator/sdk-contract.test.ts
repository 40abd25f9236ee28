/**
 * Contract tests through the official `openai` SDK, as a real client would use the service: every response
 * body is checked against the spec's schemas, and downloaded videos are parsed.
 */
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { expectSchema, probeMedia } from './helpers.ts';

const START = Date.UTC(2026, 0, 1);
let clock: FakeClock;
let emulator: EmulatorHandle;
let client: OpenAI;

beforeAll(async () => {
  clock = new FakeClock(START);
  emulator = await startEmulator({ clock, seed: 7, createsPerMinute: Infinity });
  client = new OpenAI({ baseURL: `${emulator.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => emulator.close());

async function bytesOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('through the openai SDK', () => {
  let first: OpenAI.Videos.Video;

  it('creates a job (multipart, as the SDK sends it) that starts queued with every schema field', async () => {
    first = await client.videos.create({
      prompt: 'A calico cat playing a piano on stage',
      model: 'sora-2',
      size: '1280x720',
      seconds: '4',
    });
    expectSchema('VideoResource', first);
    expect(first).toEqual({
      id: expect.stringMatching(/^video_[0-9a-f]{32}$/) as unknown,
      object: 'video',
      model: 'sora-2',
      status: 'queued',
      progress: 0,
      created_at: START / 1000,
      completed_at: null,
      expires_at: null,
      prompt: 'A calico cat playing a piano on stage',
      size: '1280x720',
      seconds: '4',
      remixed_from_video_id: null,
      error: null,
    });
    const log = emulator.requestLog();
    expect(log.at(-1)).toMatchObject({ method: 'POST', path: '/v1/videos', status: 200, videoId: first.id });
  });

  it('moves queued -> in_progress -> completed with rising progress on the emulator clock', async () => {
    // 4 s of video at 6 s per second: 2.4 s queued, then 21.6 s rendering.
    const seen: { status: string; progress: number }[] = [];
    for (let t = 0; t < 6; t++) {
      const { data, response } = await client.videos.retrieve(first.id).withResponse();
      expectSchema('VideoResource', data);
      seen.push({ status: data.status, progress: data.progress });
      if (data.status === 'completed') expect(response.headers.get('openai-poll-after-ms')).toBeNull();
      else expect(Number(response.headers.get('openai-poll-after-ms'))).toBeGreaterThanOrEqual(500);
      await clock.advance(5_000);
    }
    expect(seen[0]).toEqual({ status: 'queued', progress: 0 });
    const running = seen.filter((s) => s.status === 'in_progress').map((s) => s.progress);
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect([...running].sort((a, b) => a - b)).toEqual(running);
    expect(new Set(running).size).toBe(running.length);
    expect(seen.at(-1)).toEqual({ status: 'completed', progress: 100 });
    const done = await client.videos.retrieve(first.id);
    expect(done.completed_at).toBe(START / 1000 + 24);
    expect(done.expires_at).toBe(done.created_at + 86_400);
  });

  it('downloads an H.264 MP4 with AAC audio of exactly the requested size and duration', async () => {
    const response = await client.videos.downloadContent(first.id);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const bytes = await bytesOf(response);
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const facts = await probeMedia(bytes);
    expect(facts.mimeType).toMatch(/^video\/mp4/);
    expect(facts.videoCodec).toBe('avc');
    expect(facts.audioCodec).toBe('aac');
    expect([facts.width, facts.height]).toEqual([1280, 720]);
    expect(Math.abs(facts.duration - 4)).toBeLessThan(0.1);
  });

  it('serves a WebP thumbnail and a JPEG spritesheet', async () => {
    const thumb = await client.videos.downloadContent(first.id, { variant: 'thumbnail' });
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const t = await bytesOf(thumb);
    expect(t.toString('latin1', 0, 4)).toBe('RIFF');
    expect(t.toString('latin1', 8, 12)).toBe('WEBP');
    const sprite = await client.videos.downloadContent(first.id, { variant: 'spritesheet' });
    expect(sprite.headers.get('content-type')).toBe('image/jpeg');
    const s = await bytesOf(sprite);
    expect([s[0], s[1], s[2]]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('gives two samples of one prompt different bytes', async () => {
    const again = await client.videos.create({
      prompt: first.prompt!,
      model: 'sora-2',
      size: '1280x720',
      seconds: '4',
    });
    await clock.advance(30_000);
    const a = await bytesOf(await client.videos.downloadContent(first.id));
    const b = await bytesOf(await client.videos.downloadContent(again.id));
    expect(a.equals(b)).toBe(false);
    expect((await probeMedia(b)).width).toBe(1280);
  });

  it('remixes a completed video: the child inherits model, size and seconds', async () => {
    const remix = await client.videos.remix(first.id, { prompt: 'Shift the palette to teal' });
    expectSchema('VideoResource', remix);
    expect(remix).toMatchObject({
      status: 'queued',
      model: 'sora-2',
      size: '1280x720',
      seconds: '4',
      prompt: 'Shift the palette to teal',
      remixed_from_video_id: first.id,
    });
    expect(remix.id).not.toBe(first.id);
  });

  it('extends a completed video: seconds is the stitched total, and the download is that long', async () => {
    const ext = await client.videos.extend({
      prompt: 'The cat takes a bow',
      seconds: '4',
      video: { id: first.id },
    });
    expectSchema('VideoResource', ext);
    expect(ext).toMatchObject({
      status: 'queued',
      seconds: '8',
      size: '1280x720',
      remixed_from_video_id: null,
    });
    await clock.advance(30_000);
    expect((await client.videos.retrieve(ext.id)).status).toBe('completed');
    const facts = await probeMedia(await bytesOf(await client.videos.downloadContent(ext.id)));
    expect(Math.abs(facts.duration - 8)).toBeLessThan(0.1);
    expect(facts.audioCodec).toBe('aac');
  });

  it('lists every video across pages, newest first, with the SDK following the cursor', async () => {
    const ids: string[] = [];
    for await (const video of client.videos.list({ limit: 2 })) {
      expectSchema('VideoResource', video);
      ids.push(video.id);
    }
    expect(ids).toHaveLength(4);
    expect(ids.at(-1)).toBe(first.id);
    const raw = (await (await client.videos.list({ limit: 2, order: 'asc' }).asResponse()).json()) as {
      data: { id: string }[];
      first_id: string;
      has_more: boolean;
    };
    expectSchema('VideoListResource', raw);
    expect(raw.data.map((v) => v.id)).toEqual([ids[3], ids[2]]);
    expect(raw.first_id).toBe(first.id);
    expect(raw.has_more).toBe(true);
    const requests = emulator.requestLog().filter((e) => e.path === '/v1/videos' && e.method === 'GET');
    expect(requests.map((e) => e.query)).toEqual([
      'limit=2',
      // The second page says has_more: false, so the SDK stops there.
      `limit=2&after=${ids[1]}`,
      'limit=2&order=asc',
    ]);
  });

  it('deletes a completed video; it is gone afterwards', async () => {
    const deleted = await client.videos.delete(first.id);
    expectSchema('DeletedVideoResource', deleted);
    expect(deleted).toEqual({ id: first.id, object: 'video.deleted', deleted: true });
    const error = await client.videos.retrieve(first.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).message).toBe(`404 Video with id '${first.id}' not found.`);
    expect((error as NotFoundError).requestID).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('surfaces validation errors as BadRequestError with the offending param', async () => {
    const error = await client.videos
      .create({ prompt: 'x', model: 'sora-2', size: '1792x1024', seconds: '4' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('size');
    expect((error as BadRequestError).code).toBe('invalid_value');
    expectSchema('ErrorResponse', { error: (error as BadRequestError).error });
  });
});
