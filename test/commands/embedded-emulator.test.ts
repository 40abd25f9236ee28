/**
 * The embedded emulator behaves like a service that keeps videos for 24 hours (issue 11): after a build,
 * `videos list` shows what it made, `videos download` fetches a pinned video, and an asset added to a built
 * shot later is downloaded, not refused as expired. When the service has forgotten the video but the store
 * has it, the asset is made locally from the stored video, and the build says so.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLockfile } from '../../src/cache/lockfile.ts';
import type { ShotId } from '../../src/core/brand.ts';
import { runCli, withTempDir } from './cli-harness.ts';

const CONFIG = ['version: 1', 'provider: emulator', 'providers:', '  emulator:', '    type: emulator', ''];

function storyboard(assets: string[]): string {
  return [
    'version: 1',
    'shots:',
    '  harbor:',
    '    prompt: A misty harbor at dawn.',
    '    model: sora-2',
    '    size: 1280x720',
    '    seconds: 4',
    `    assets: [${assets.join(', ')}]`,
    '',
  ].join('\n');
}

async function pinnedVideo(dir: string): Promise<string> {
  const lock = await readLockfile(path.join(dir, 'storyboard.lock'));
  if (!lock.ok) throw new Error('bad lockfile');
  return lock.value.shots.get('harbor' as ShotId)!.videoId;
}

describe('a build on the embedded emulator', () => {
  it('leaves videos the next commands can list, download and fetch new assets of', async () => {
    await withTempDir(async (dir) => {
      // 1000x: a 4 s placeholder renders in 24 emulator seconds, 24 real ms.
      const env = { SORA_BUILD_CLOCK: `scaled:1000:${Date.now()}` };
      const run = (args: string[]): ReturnType<typeof runCli> => runCli(args, { cwd: dir, env });
      await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG.join('\n'));
      await writeFile(path.join(dir, 'storyboard.yaml'), storyboard(['video']));
      const built = await run(['build']);
      expect(built.stderr).toBe('');
      expect(built.code).toBe(0);
      const id = await pinnedVideo(dir);

      const listed = await run(['videos', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(
        new RegExp(`^${id} +completed +sora-2 +1280x720 +4 .* harbor \\(storyboard\\.lock\\)$`, 'm'),
      );

      const downloaded = await run(['videos', 'download', id, '-o', 'copy.mp4']);
      expect(downloaded.stderr).toBe('');
      expect(downloaded.code).toBe(0);
      const copy = await readFile(path.join(dir, 'copy.mp4'));
      expect(copy.toString('latin1', 4, 8)).toBe('ftyp');

      await writeFile(path.join(dir, 'storyboard.yaml'), storyboard(['video', 'spritesheet']));
      const withSprite = await run(['build']);
      expect(withSprite.stderr).toBe('');
      expect(withSprite.code).toBe(0);
      expect(withSprite.stdout).toContain('downloaded spritesheet');
      const sprite = await readFile(path.join(dir, 'out', 'harbor.spritesheet.jpg'));
      expect([sprite[0], sprite[1]]).toEqual([0xff, 0xd8]);
      expect(await pinnedVideo(dir)).toBe(id);

      // The service forgets the video (as after 24 h); the store still has it.
      await rm(path.join(dir, '.sora-build', 'emulator'), { recursive: true, force: true });
      await writeFile(path.join(dir, 'storyboard.yaml'), storyboard(['video', 'spritesheet', 'thumbnail']));
      const derived = await run(['build']);
      expect(derived.stderr).toBe('');
      expect(derived.code).toBe(0);
      expect(derived.stdout).toMatch(
        /^\[harbor\] made thumbnail from the stored video \([\d.]+ kB\): the finished video video_\w+ is no longer on the service/m,
      );
      // The spritesheet was recorded when it was downloaded: not fetched or made again.
      expect(derived.stdout).not.toContain('spritesheet');
      const thumb = await readFile(path.join(dir, 'out', 'harbor.thumbnail.webp'));
      expect([thumb.toString('latin1', 0, 4), thumb.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
      expect(await pinnedVideo(dir)).toBe(id);
      const again = await run(['build']);
      expect(again.stdout).not.toContain('made');
    });
  }, 60_000);
});
