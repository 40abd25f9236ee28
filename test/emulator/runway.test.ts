/** Runway's task API through the real `@runwayml/sdk` against the emulator over loopback. */
import RunwayML from '@runwayml/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, ScaledClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { makePng, probeMedia } from './helpers.ts';

const KEY = 'key_runway_test_secret';
let clock: FakeClock;
let emulator: EmulatorHandle;
let client: RunwayML;
const dataUri = `data:image/png;base64,${makePng(64, 36).toString('base64')}`;

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, seed: 5, createsPerMinute: Infinity, apiKeys: [KEY] });
  client = new RunwayML({ apiKey: KEY, baseURL: emulator.url, maxRetries: 0 });
});
afterAll(() => emulator.close());

describe('Runway through @runwayml/sdk', () => {
  it('runs an image-to-video task from first and last frames to a downloadable, expiring MP4', async () => {
    emulator.clearLog();
    const { id } = await client.imageToVideo.create({
      model: 'veo3.1',
      promptImage: [
        { uri: dataUri, position: 'first' },
        { uri: dataUri, position: 'last' },
      ],
      promptText: 'A paper boat on a river',
      ratio: '720:1280',
      duration: 4,
      seed: 3,
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const seen = new Set<string>();
    let task = await client.tasks.retrieve(id);
    for (let i = 0; i < 60 && task.status !== 'SUCCEEDED'; i++) {
      seen.add(task.status);
      if (task.status === 'RUNNING') expect(task.progress).toBeGreaterThanOrEqual(0);
      await clock.advance(1000);
      task = await client.tasks.retrieve(id);
    }
    expect([...seen]).toEqual(['PENDING', 'RUNNING']);
    expect(task.status).toBe('SUCCEEDED');
    const url = (task as RunwayML.TaskRetrieveResponse.Succeeded).output[0]!;
    expect(url.startsWith(`${emulator.url}/runway/outputs/${id}/`)).toBe(true);
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const media = await probeMedia(new Uint8Array(await res.arrayBuffer()));
    expect(media).toMatchObject({ width: 720, height: 1280, videoCodec: 'avc' });
    expect(media.duration).toBeCloseTo(4, 0);
    // The URL dies within a day; reading the task again gives a fresh one.
    await clock.advance(25 * 3600_000);
    expect((await fetch(url)).status).toBe(403);
    const again = (await client.tasks.retrieve(id)) as RunwayML.TaskRetrieveResponse.Succeeded;
    expect((await fetch(again.output[0]!)).status).toBe(200);
    expect(emulator.requestLog()[0]).toMatchObject({
      method: 'POST',
      path: '/v1/image_to_video',
      status: 200,
    });
  });

  it('holds tasks over the concurrency limit as THROTTLED, and cancels one with DELETE', async () => {
    const ids = [];
    for (const promptText of ['one', 'two', 'three']) {
      ids.push(
        (await client.textToVideo.create({ model: 'gen4.5', promptText, ratio: '1280:720', duration: 2 })).id,
      );
    }
    expect((await client.tasks.retrieve(ids[2]!)).status).toBe('THROTTLED');
    await client.tasks.delete(ids[2]!);
    expect((await client.tasks.retrieve(ids[2]!)).status).toBe('CANCELLED');
    await clock.advance(15_000);
    expect((await client.tasks.retrieve(ids[0]!)).status).toBe('SUCCEEDED');
    expect((await client.tasks.retrieve(ids[2]!)).status).toBe('CANCELLED');
    await client.tasks.delete(ids[0]!); // a finished task is deleted
    await expect(client.tasks.retrieve(ids[0]!)).rejects.toMatchObject({ status: 404 });
  });

  it('fails a safety-blocked task with a failureCode', async () => {
    emulator.setFaults({ moderationWords: ['forbidden'] });
    try {
      const { id } = await client.textToVideo.create({
        model: 'veo3.1_fast',
        promptText: 'something forbidden',
        ratio: '1280:720',
      });
      await clock.advance(60_000);
      const task = await client.tasks.retrieve(id);
      expect(task).toMatchObject({
        status: 'FAILED',
        failureCode: 'SAFETY.INPUT.TEXT',
        cost: { credits: 0 },
      });
    } finally {
      emulator.setFaults({ moderationWords: [] });
    }
  });

  it('refuses bad bodies, a wrong key and a missing X-Runway-Version in its own error shape', async () => {
    await expect(
      client.textToVideo.create({ model: 'veo3.1', promptText: 'x', ratio: '1280:720', duration: 5 as 4 }),
    ).rejects.toMatchObject({ status: 400, error: { issues: [{ path: ['duration'] }] } });
    const wrong = new RunwayML({ apiKey: 'key_wrong', baseURL: emulator.url, maxRetries: 0 });
    const denied = await wrong.tasks.retrieve('x').catch((e: unknown) => e as Error);
    expect(denied).toMatchObject({ status: 401 });
    expect(String((denied as Error).message)).not.toContain('key_wrong');
    const raw = await fetch(`${emulator.url}/v1/tasks/x`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ error: 'You must provide a X-Runway-Version header.' });
  });
});

describe('Runway quota', () => {
  it('answers 429 with retry-after-ms, which the SDK waits out', async () => {
    const emu = await startEmulator({ clock: new ScaledClock({ speed: 600 }), createsPerMinute: 1 });
    try {
      const sdk = new RunwayML({ apiKey: KEY, baseURL: emu.url, maxRetries: 2 });
      const body = { model: 'gen4.5' as const, promptText: 'q', ratio: '1280:720' as const, duration: 2 };
      await sdk.textToVideo.create(body);
      const second = await sdk.textToVideo.create(body);
      expect(second.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(emu.requestLog().map((e) => e.status)).toEqual([200, 429, 200]);
    } finally {
      await emu.close();
    }
  });
});
