/**
 * The emulator's `gateway` fault through the official `openai` SDK: the shapes LiteLLM and new-api give the
 * Videos API (spec/successor-apis.md section 2), which test/e2e/gateway.test.ts builds through.
 */
import OpenAI, { BadRequestError, InternalServerError, NotFoundError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { gatewayId, jobIdOf } from '../../src/emulator/gateway-shape.ts';

const START = Date.UTC(2026, 0, 1);
let emulator: EmulatorHandle | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function open(gateway: 'litellm' | 'new-api' | 'upper-case') {
  const clock = new FakeClock(START);
  emulator = await startEmulator({
    clock,
    seed: 3,
    createsPerMinute: Infinity,
    faults: { gateway, moderationWords: ['forbidden'] },
  });
  const client = new OpenAI({ baseURL: `${emulator.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  const create = (prompt: string) =>
    client.videos.create({ prompt, model: 'sora-2', size: '1280x720', seconds: '4' });
  return { clock, client, create };
}

describe('the gateway fault', () => {
  it('litellm: base64 ids naming provider and model, `processing`, a read echoing another id, no progress', async () => {
    const { clock, client, create } = await open('litellm');
    const video = await create('A harbor at dawn');
    expect(video.id).toMatch(/^video_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(video.id.slice(6), 'base64').toString()).toMatch(
      /^litellm:custom_llm_provider:gemini;model_id:sora-2;video_id:video_[0-9a-f]{32}$/,
    );
    expect(video.status).toBe('processing');
    expect(video).not.toHaveProperty('progress');
    expect(video).not.toHaveProperty('prompt');
    const read = await client.videos.retrieve(video.id);
    expect(read.id).not.toBe(video.id);
    expect(Buffer.from(read.id.slice(6), 'base64').toString()).toContain(';model_id:None;');
    // The echoed spelling works too, as LiteLLM decodes either.
    await clock.advance(24_000);
    expect((await client.videos.retrieve(read.id)).status).toBe('completed');
    const content = await client.videos.downloadContent(video.id).asResponse();
    expect(content.status).toBe(200);
    await expect(client.videos.remix(video.id, { prompt: 'teal' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(
      client.videos.extend({ prompt: 'more', seconds: '4', video: { id: video.id } }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('litellm: a moderated job reports completed without an error, and only its content fails (500)', async () => {
    const { clock, client, create } = await open('litellm');
    const video = await create('A forbidden harbor');
    await clock.advance(24_000);
    const read = await client.videos.retrieve(video.id);
    expect(read).toMatchObject({ status: 'completed', error: null });
    await expect(client.videos.downloadContent(video.id).asResponse()).rejects.toBeInstanceOf(
      InternalServerError,
    );
  });

  it('new-api: task ids, `unknown` before the task is handed upstream, then the four; empty content is a 400', async () => {
    const { clock, client, create } = await open('new-api');
    const video = await create('A harbor at dawn');
    expect(video).toMatchObject({ status: 'unknown', progress: 0 });
    expect(video.id).toMatch(/^task_[0-9a-f]{32}$/);
    expect((video as unknown as { task_id: string }).task_id).toBe(video.id);
    await clock.advance(1_500);
    expect((await client.videos.retrieve(video.id)).status).toBe('queued');
    await clock.advance(5_000);
    expect((await client.videos.retrieve(video.id)).status).toBe('in_progress');
    const filtered = await create('forbidden');
    await clock.advance(24_000);
    expect((await client.videos.retrieve(filtered.id)).status).toBe('completed');
    await expect(client.videos.downloadContent(filtered.id).asResponse()).rejects.toBeInstanceOf(
      BadRequestError,
    );
  });

  it('upper-case: NOT_START, QUEUED, IN_PROGRESS, SUCCESS with progress as "N%"', async () => {
    const { clock, client, create } = await open('upper-case');
    const video = await create('A harbor at dawn');
    const seen = [video.status as string];
    for (const step of [1_500, 5_000, 24_000]) {
      await clock.advance(step);
      seen.push((await client.videos.retrieve(video.id)).status);
    }
    expect(seen).toEqual(['NOT_START', 'QUEUED', 'IN_PROGRESS', 'SUCCESS']);
    expect((await client.videos.retrieve(video.id)).progress).toBe('100%');
  });

  it('maps ids both ways, including a path-encoded one', () => {
    const job = { id: 'video_0123456789abcdef0123456789abcdef', model: 'veo/3?' };
    for (const shape of ['litellm', 'new-api', 'upper-case'] as const) {
      const id = gatewayId(shape, job);
      expect(jobIdOf(id)).toBe(job.id);
      expect(jobIdOf(decodeURIComponent(encodeURIComponent(id)))).toBe(job.id);
    }
    expect(jobIdOf('video_not-ours')).toBe('video_not-ours');
  });
});
