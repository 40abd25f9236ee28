/**
 * The placeholder renderer's output, checked by the download check the engine uses: every Sora 2 size and
 * duration has sound for its whole length (issue 11: `-frames:v` once cut the AAC stream to 0.06 s).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMp4, compareMp4ToRequest } from '../../src/cache/mp4-check.ts';
import { Renderer } from '../../src/emulator/renderer.ts';

let dir: string;
const renderer = new Renderer({ concurrency: 2 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'renderer-test-'));
});
afterAll(async () => {
  await renderer.close();
  await rm(dir, { recursive: true, force: true });
});

const SIZES = ['1280x720', '720x1280', '1792x1024', '1024x1792'] as const;
const SECONDS = [4, 8, 12] as const;

describe('Sora 2 placeholders have sound for the whole video', () => {
  it.each(SIZES.flatMap((size) => SECONDS.map((seconds) => [size, seconds] as const)))(
    '%s, %i s',
    async (size, seconds) => {
      const [width, height] = size.split('x').map(Number) as [number, number];
      const assets = await renderer.render({
        width,
        height,
        seconds,
        audio: true,
        segments: [{ prompt: `audio check ${size} ${seconds}`, seconds }],
        caption: `sora-2 · ${size} · ${seconds}s`,
        look: 0,
      });
      const path = join(dir, `${size}-${seconds}.mp4`);
      await writeFile(path, assets.video);
      const checked = await checkMp4(path);
      expect(checked.ok).toBe(true);
      if (!checked.ok) return;
      expect(checked.value.audioCodec).toBe('mp4a');
      expect(Math.abs(checked.value.durationSeconds - seconds)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(checked.value.audioDurationSeconds! - seconds)).toBeLessThanOrEqual(0.1);
      expect(compareMp4ToRequest(checked.value, { size, seconds })).toEqual([]);
    },
    60_000,
  );
});
