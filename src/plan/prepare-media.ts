/**
 * The media a shot sends besides its `input_reference`, as it will be uploaded, and the digests that enter its
 * key: frame images after `fit` (resized like a reference image, see prepare-reference.ts), reference images
 * and the input video as they are on disk (their digests are the ones the analyzer computed from the bytes).
 */
import type { Diagnostic } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { CropBounds, FramePosition } from '../provider/job-api.ts';
import { prepareReference } from './prepare-reference.ts';
import type { PreparedReference } from './prepare-reference.ts';
import type { ShotMediaDigests } from './shot-key.ts';

/** What the engine uploads for a shot's media fields (files by absolute path; digests are checked on read). */
export interface PreparedMedia {
  readonly frames: readonly {
    readonly image: PreparedReference;
    readonly at: FramePosition;
    readonly crop?: CropBounds;
  }[];
  readonly inputVideo:
    | (PreparedReferenceLike & {
        readonly mime: 'video/mp4' | 'video/quicktime';
        readonly at: number;
        readonly crop?: CropBounds;
      })
    | null;
  readonly referenceImages: readonly PreparedReference[];
  readonly digests: ShotMediaDigests;
}

type PreparedReferenceLike = Pick<PreparedReference, 'digest' | 'path'>;

/** No frames, input video or reference images: what every shot written before issue 13 has. */
export const NO_MEDIA: PreparedMedia = {
  frames: [],
  inputVideo: null,
  referenceImages: [],
  digests: { frames: [], inputVideo: null, referenceImages: [] },
};

export function hasMedia(shot: ShotConfig): boolean {
  return shot.frames.length > 0 || shot.inputVideo !== undefined || shot.referenceImages.length > 0;
}

export async function prepareMedia(options: {
  readonly shot: ShotConfig;
  /** Absolute cache folder; resized frames go to its `refs/`. */
  readonly cacheDir: string;
}): Promise<Result<PreparedMedia, Diagnostic[]>> {
  const { shot, cacheDir } = options;
  if (!hasMedia(shot)) return ok(NO_MEDIA);
  const problems: Diagnostic[] = [];
  const frames = await Promise.all(
    shot.frames.map((f) =>
      prepareReference({ reference: f.image, width: shot.width, height: shot.height, cacheDir }),
    ),
  );
  const prepared: PreparedMedia['frames'][number][] = [];
  for (const [i, result] of frames.entries()) {
    const f = shot.frames[i]!;
    if (!result.ok) problems.push(result.error);
    else prepared.push({ image: result.value, at: f.at, ...(f.crop === undefined ? {} : { crop: f.crop }) });
  }
  if (problems.length > 0) return fail(problems);
  const video = shot.inputVideo;
  const inputVideo =
    video === undefined
      ? null
      : {
          digest: video.sourceDigest,
          path: video.path,
          mime: video.mime,
          at: video.at,
          ...(video.crop === undefined ? {} : { crop: video.crop }),
        };
  const referenceImages = shot.referenceImages.map((r) => ({
    digest: r.sourceDigest,
    path: r.path,
    mime: r.mime,
  }));
  return ok({
    frames: prepared,
    inputVideo,
    referenceImages,
    digests: {
      frames: prepared.map((f) => ({
        digest: f.image.digest,
        at: f.at,
        ...(f.crop === undefined ? {} : { crop: f.crop }),
      })),
      inputVideo:
        inputVideo === null
          ? null
          : {
              digest: inputVideo.digest,
              at: inputVideo.at,
              ...(inputVideo.crop === undefined ? {} : { crop: inputVideo.crop }),
            },
      referenceImages: referenceImages.map((r) => r.digest),
    },
  });
}
