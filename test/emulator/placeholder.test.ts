/**
 * What the placeholder shows (issue 11): a shot with a reference image opens on that image (frame 0 and the
 * thumbnail are the image), and a remix or extension names its parent's id and prompt.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { resolveFfmpegPath, runFfmpeg } from '../../src/core/ffmpeg.ts';
import { parentLines } from '../../src/emulator/renderer.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import { call } from './helpers.ts';

let dir: string;
let emulator: EmulatorHandle;
const clock = new FakeClock(Date.UTC(2026, 6, 1));
const auth = { authorization: 'Bearer sk-test' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'placeholder-'));
  emulator = await startEmulator({ clock, createsPerMinute: Infinity, renderSecondsPerSecond: 0, seed: 5 });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

/** The RGB of the pixel at the centre of an image. */
async function centre(image: Buffer): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

/** The video's frame at `seconds`, as PNG. */
async function frameAt(video: Buffer, seconds: number): Promise<Buffer> {
  const input = join(dir, `v-${seconds}.mp4`);
  const output = join(dir, `f-${seconds}.png`);
  await writeFile(input, video);
  await runFfmpeg(resolveFfmpegPath(), [
    '-loglevel',
    'error',
    '-y',
    '-ss',
    String(seconds),
    '-i',
    input,
    '-frames:v',
    '1',
    output,
  ]);
  return readFile(output);
}

const isRed = ([r, g, b]: [number, number, number]): boolean => r > 200 && g < 60 && b < 60;

describe('placeholders', () => {
  it('open on the reference image: frame 0 and the thumbnail are the image, later frames are not', async () => {
    const red = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('prompt', 'A red mug on a table');
    form.append('size', '1280x720');
    form.append('seconds', '4');
    form.append('input_reference', new File([red], 'mug.png', { type: 'image/png' }));
    const created = await call(`${emulator.url}/v1/videos`, { method: 'POST', body: form });
    expect(created.status).toBe(200);
    const id = (created.body as { id: string }).id;
    await clock.advance(1000);
    const get = async (variant: string): Promise<Buffer> => {
      const res = await fetch(`${emulator.url}/v1/videos/${id}/content?variant=${variant}`, {
        headers: auth,
      });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    expect(isRed(await centre(await get('thumbnail')))).toBe(true);
    const video = await get('video');
    expect(isRed(await centre(await frameAt(video, 0)))).toBe(true);
    expect(isRed(await centre(await frameAt(video, 2)))).toBe(false);
  }, 60_000);

  it("name a remix's or extension's parent by id and prompt", () => {
    expect(parentLines({ kind: 'remix', id: 'video_1', prompt: 'Slow dolly-in on the mug' }, 40)).toEqual([
      'remix of video_1',
      '“Slow dolly-in on the mug”',
    ]);
    const long = parentLines({ kind: 'extension', id: 'video_2', prompt: 'word '.repeat(40) }, 20);
    expect(long[0]).toBe('extends video_2');
    expect(long).toHaveLength(3);
    expect(long[2]!.endsWith('…')).toBe(true);
  });

  it('render remixes and extensions with their lineage line', async () => {
    const parent = await call(`${emulator.url}/v1/videos`, {
      method: 'POST',
      json: { prompt: 'mug', size: '720x1280', seconds: '4' },
    });
    const id = (parent.body as { id: string }).id;
    await clock.advance(1000);
    const remix = await call(`${emulator.url}/v1/videos/${id}/remix`, {
      method: 'POST',
      json: { prompt: 'teal' },
    });
    const extension = await call(`${emulator.url}/v1/videos/extensions`, {
      method: 'POST',
      json: { prompt: 'and on', seconds: '4', video: { id } },
    });
    await clock.advance(1000);
    for (const child of [remix, extension]) {
      const childId = (child.body as { id: string }).id;
      const res = await fetch(`${emulator.url}/v1/videos/${childId}/content`, { headers: auth });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).toString('latin1', 4, 8)).toBe('ftyp');
    }
  }, 60_000);
});
