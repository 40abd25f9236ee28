/**
 * A thumbnail or spritesheet made here, from a video the store already holds. Used when a shot asks for an
 * asset after its video was built and the service can no longer provide it (expired after 24 h, or deleted):
 * the pixels are the user's own video, so a frame of it is as good as the service's still, and far better
 * than failing the shot or paying to generate the video again. The result has the service's formats
 * (a WebP thumbnail of the first frame; a JPEG spritesheet with one tile per second) and enters the store like
 * a download.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sha256 } from '../core/brand.ts';
import { resolveFfmpegPath, runFfmpeg } from '../core/ffmpeg.ts';
import { fail, ok } from '../core/result.ts';
import type { Result } from '../core/result.ts';
import { checkMp4 } from './mp4-check.ts';
import type { Store } from './store.ts';

export type DerivableAsset = 'thumbnail' | 'spritesheet';

export interface DeriveAssetOptions {
  readonly store: Store;
  /** The stored video to take frames from. */
  readonly video: Sha256;
  readonly variant: DerivableAsset;
  readonly signal?: AbortSignal;
  /** @default the binary from `@ffmpeg-installer/ffmpeg` */
  readonly ffmpegPath?: string;
}

export type DeriveFailure =
  /** The video is not in the store, or is not an MP4 the check can read. */
  | { readonly reason: 'no-video'; readonly message: string }
  /** ffmpeg failed (or is missing for this platform). */
  | { readonly reason: 'ffmpeg-failed'; readonly message: string }
  /** The image could not be stored. */
  | { readonly reason: 'store-failed'; readonly message: string };

/** Makes `variant` from the stored `video` and stores it; returns its digest and size. */
export async function deriveAsset(
  options: DeriveAssetOptions,
): Promise<Result<{ readonly digest: Sha256; readonly bytes: number }, DeriveFailure>> {
  const { store, video, variant } = options;
  const input = store.objectPath(video);
  const checked = await checkMp4(input);
  if (!checked.ok) {
    return fail({
      reason: 'no-video',
      message: `the stored video ${video} cannot be read: ${checked.error.message}`,
    });
  }
  const { width, height, durationSeconds } = checked.value;
  const dir = await mkdtemp(join(tmpdir(), 'sora-build-derive-'));
  try {
    const output = join(dir, variant === 'thumbnail' ? 'thumbnail.webp' : 'spritesheet.jpg');
    try {
      const binary = options.ffmpegPath ?? resolveFfmpegPath();
      await runFfmpeg(binary, deriveArgs(input, output, variant, { width, height, durationSeconds }), {
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      return fail({
        reason: 'ffmpeg-failed',
        message: error instanceof Error ? error.message : String(error),
      });
    }
    const stored = await store.ingest({ path: output }, options.signal ? { signal: options.signal } : {});
    if (!stored.ok)
      return fail({
        reason: 'store-failed',
        message: `the ${variant} made here could not be stored (${stored.error.reason})`,
      });
    return ok({ digest: stored.value.digest, bytes: stored.value.bytes });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Tiles per row and rows: one tile per second, in rows of up to four (the emulator's layout). */
function grid(seconds: number): { cols: number; rows: number } {
  if (seconds % 4 === 0) return { cols: 4, rows: seconds / 4 };
  if (seconds % 3 === 0) return { cols: 3, rows: seconds / 3 };
  return { cols: seconds, rows: 1 };
}

/** The ffmpeg arguments for one asset (exported for tests). */
export function deriveArgs(
  input: string,
  output: string,
  variant: DerivableAsset,
  video: { readonly width: number; readonly height: number; readonly durationSeconds: number },
): string[] {
  const head = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', input];
  if (variant === 'thumbnail') {
    return [...head, '-frames:v', '1', '-c:v', 'libwebp', '-quality', '70', output];
  }
  const seconds = Math.max(1, Math.round(video.durationSeconds));
  const { cols, rows } = grid(seconds);
  const tile = video.width >= video.height ? 'scale=256:-2' : 'scale=-2:256';
  return [...head, '-vf', `fps=1,${tile},tile=${cols}x${rows}`, '-frames:v', '1', '-q:v', '5', output];
}
