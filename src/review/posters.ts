/**
 * Posters for videos without a provider thumbnail: one frame, scaled to 480 px wide, made with the ffmpeg
 * binary sora-build already ships (for the emulator), on demand (the page lazy-loads them as they scroll
 * into view), at most two at once, and kept in `<cacheDir>/review/posters/<video digest>.jpg`: a poster is
 * a function of the video's bytes, so it never goes stale.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Sha256 } from '../core/brand.ts';
import { resolveFfmpegPath, runFfmpeg } from '../core/ffmpeg.ts';

export class Posters {
  readonly #dir: string;
  readonly #ffmpeg: () => string;
  readonly #inProgress = new Map<Sha256, Promise<string | null>>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: { cacheDir: string; ffmpegPath?: string }) {
    this.#dir = path.join(options.cacheDir, 'review', 'posters');
    const fixed = options.ffmpegPath;
    this.#ffmpeg = () => fixed ?? resolveFfmpegPath();
  }

  /** The poster's path, made first if needed; null when no frame could be read. */
  poster(digest: Sha256, videoPath: string): Promise<string | null> {
    const file = path.join(this.#dir, `${digest}.jpg`);
    if (existsSync(file)) return Promise.resolve(file);
    let job = this.#inProgress.get(digest);
    if (job === undefined) {
      job = this.#make(file, videoPath).finally(() => this.#inProgress.delete(digest));
      this.#inProgress.set(digest, job);
    }
    return job;
  }

  async #make(file: string, videoPath: string): Promise<string | null> {
    if (this.#running >= 2) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp.jpg`;
    try {
      await mkdir(this.#dir, { recursive: true });
      const args = ['-v', 'error', '-ss', '0.5', '-i', videoPath, '-frames:v', '1'];
      await runFfmpeg(this.#ffmpeg(), [...args, '-vf', 'scale=480:-2', '-q:v', '5', '-y', temp]);
      await rename(temp, file);
      return file;
    } catch {
      await rm(temp, { force: true });
      return null;
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
