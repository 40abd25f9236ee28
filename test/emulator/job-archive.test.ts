/**
 * Jobs outlive the emulator process when it has a state folder (issue 11): a later emulator on the same
 * folder retrieves, lists, renders and deletes them, a second one running at the same time sees jobs the
 * first made, and nothing is kept past 24 h of the emulator clock after creation.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { call, probeMedia } from './helpers.ts';

const START = Date.UTC(2026, 5, 1);
let dir: string;
let clock: FakeClock;
const open: EmulatorHandle[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-state-'));
  clock = new FakeClock(START);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
  await rm(dir, { recursive: true, force: true });
});

async function emulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const e = await startEmulator({ clock, stateDir: dir, createsPerMinute: Infinity, ...options });
  open.push(e);
  return e;
}

async function create(e: EmulatorHandle, prompt: string): Promise<string> {
  const r = await call(`${e.url}/v1/videos`, { method: 'POST', json: { prompt, seconds: '4' } });
  expect(r.status).toBe(200);
  return (r.body as { id: string }).id;
}

describe('an emulator with a state folder', () => {
  it('hands its jobs to the next emulator on the folder: retrieve, list, content, remix, delete', async () => {
    const first = await emulator({ seed: 1 });
    const a = await create(first, 'kept across runs');
    const b = await create(first, 'and this one too');
    await first.close();
    open.splice(0);

    await clock.advance(60_000);
    const second = await emulator({ seed: 2 });
    const v1 = `${second.url}/v1`;
    expect((await call(`${v1}/videos/${a}`)).body).toMatchObject({
      id: a,
      status: 'completed',
      prompt: 'kept across runs',
      created_at: START / 1000,
      expires_at: START / 1000 + 86_400,
    });
    const list = (await call(`${v1}/videos?order=asc`)).body as { data: { id: string }[] };
    expect(list.data.map((v) => v.id)).toEqual([a, b]);
    const content = await fetch(`${v1}/videos/${a}/content`, { headers: { authorization: 'Bearer k' } });
    expect(content.status).toBe(200);
    const facts = await probeMedia(new Uint8Array(await content.arrayBuffer()));
    expect([facts.width, facts.height, Math.round(facts.duration)]).toEqual([720, 1280, 4]);
    const sprite = await fetch(`${v1}/videos/${a}/content?variant=spritesheet`, {
      headers: { authorization: 'Bearer k' },
    });
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get('content-type')).toBe('image/jpeg');
    const remix = await call(`${v1}/videos/${a}/remix`, { method: 'POST', json: { prompt: 'teal' } });
    expect(remix.body).toMatchObject({ remixed_from_video_id: a });
    expect((await call(`${v1}/videos/${b}`, { method: 'DELETE' })).status).toBe(200);
    await second.close();
    open.splice(0);

    const third = await emulator({ seed: 3 });
    expect((await call(`${third.url}/v1/videos/${b}`)).status).toBe(404);
    const ids = ((await call(`${third.url}/v1/videos?order=asc`)).body as { data: { id: string }[] }).data;
    expect(ids.map((v) => v.id)).toEqual([a, (remix.body as { id: string }).id]);
  });

  it('keeps the reference image, so a later emulator still opens the video on it', async () => {
    const first = await emulator({ seed: 1, renderSecondsPerSecond: 0 });
    const red = await sharp({ create: { width: 720, height: 1280, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const created = await call(`${first.url}/v1/videos`, {
      method: 'POST',
      json: {
        prompt: 'red',
        input_reference: { image_url: `data:image/png;base64,${red.toString('base64')}` },
      },
    });
    expect(created.status).toBe(200);
    const id = (created.body as { id: string }).id;
    await first.close();
    open.splice(0);
    const second = await emulator({ seed: 2 });
    const thumb = await fetch(`${second.url}/v1/videos/${id}/content?variant=thumbnail`, {
      headers: { authorization: 'Bearer k' },
    });
    expect(thumb.status).toBe(200);
    const { data } = await sharp(Buffer.from(await thumb.arrayBuffer()))
      .extract({ left: 360, top: 640, width: 1, height: 1 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[1]).toBeLessThan(60);
  });

  it('sees jobs another emulator on the folder made after it started', async () => {
    const one = await emulator({ seed: 1 });
    const two = await emulator({ seed: 2 });
    const id = await create(one, 'made by the first');
    expect((await call(`${two.url}/v1/videos/${id}`)).body).toMatchObject({
      id,
      prompt: 'made by the first',
    });
    const later = await create(one, 'listed by the second');
    const list = (await call(`${two.url}/v1/videos`)).body as { data: { id: string }[] };
    expect(list.data.map((v) => v.id)).toEqual([later, id]);
  });

  it('keeps Sora 1 jobs too, and forgets every job 24 h after it was created', async () => {
    const first = await emulator({ seed: 1 });
    const video = await create(first, 'a day at most');
    const task = await call(`${first.url}/openai/v1/video/generations/jobs?api-version=preview`, {
      method: 'POST',
      headers: { 'api-key': 'k' },
      json: { model: 'sora', prompt: 'sora one', width: 480, height: 480, n_seconds: 5 },
    });
    expect(task.status).toBe(200);
    const taskId = (task.body as { id: string }).id;
    await first.close();
    open.splice(0);

    await clock.advance(86_400_000 - 1);
    const second = await emulator({ seed: 2 });
    expect((await call(`${second.url}/v1/videos/${video}`)).status).toBe(200);
    const job = await call(`${second.url}/openai/v1/video/generations/jobs/${taskId}?api-version=preview`, {
      headers: { 'api-key': 'k' },
    });
    expect(job.body).toMatchObject({ id: taskId, status: 'succeeded' });
    await second.close();
    open.splice(0);

    await clock.advance(1);
    const third = await emulator({ seed: 3 });
    expect((await call(`${third.url}/v1/videos/${video}`)).status).toBe(404);
    expect(await readdir(join(dir, 'jobs'))).toEqual([]);
  });
});
