/**
 * A planned shot as the `GenerationRequest` a `JobProvider` submits (src/provider/job-api.ts): the prompt as
 * keyed, `input_reference` as a first frame followed by `frames:`, the input video, reference images, and the
 * sampling fields only when the shot sets them. Every file is read here and checked against the digest that
 * entered the key, so a file edited after planning can never be sent under the old key.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Sha256 } from '../core/brand.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { PreparedMedia } from '../plan/prepare-media.ts';
import type { PreparedReference } from '../plan/prepare-reference.ts';
import type { GenerationRequest, ImageInput } from '../provider/job-api.ts';

export interface GenerationRequestOptions {
  readonly shot: ShotConfig;
  /** The interpolated prompt, as keyed (`keyData.prompt`). */
  readonly prompt: string;
  /** The prepared `input_reference` (after fit), or null. */
  readonly reference: PreparedReference | null;
  /** The prepared frames, input video and reference images (`computePlan`'s `media`), or null for none. */
  readonly media: PreparedMedia | null;
  readonly parent?: GenerationRequest['parent'];
}

/** A file that could not be read as planned: the shot fails before anything is sent. */
export interface MediaReadFailure {
  readonly path: string;
  readonly message: string;
  readonly code: string | null;
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
};

export async function generationRequestFor(
  options: GenerationRequestOptions,
): Promise<Result<GenerationRequest, MediaReadFailure>> {
  const { shot, reference, media } = options;
  const read = async (path: string, digest: Sha256): Promise<Uint8Array> => {
    const bytes = await readFile(path);
    if (createHash('sha256').update(bytes).digest('hex') !== digest)
      throw Object.assign(new Error('the file changed after the build was planned'), { path });
    return bytes;
  };
  const image = async (
    prepared: PreparedReference,
    filename: string,
    size: { readonly width: number; readonly height: number },
  ): Promise<ImageInput> => ({
    bytes: await read(prepared.path, prepared.digest),
    mime: prepared.mime,
    filename: `${filename}.${EXTENSIONS[prepared.mime]!}`,
    width: size.width,
    height: size.height,
  });
  // Frames are the shot's size once prepared (the analyzer refused any other size without a `fit`).
  const shotSize = { width: shot.width, height: shot.height };
  let path = '';
  try {
    const frames: GenerationRequest['frames'][number][] = [];
    if (reference !== null) {
      path = reference.path;
      frames.push({ image: await image(reference, shot.id, shotSize), at: 'first' });
    }
    for (const [i, f] of (media?.frames ?? []).entries()) {
      path = f.image.path;
      frames.push({
        image: await image(f.image, `${shot.id}-frame-${i + 1}`, shotSize),
        at: f.at,
        ...(f.crop === undefined ? {} : { crop: f.crop }),
      });
    }
    const referenceImages: ImageInput[] = [];
    for (const [i, r] of (media?.referenceImages ?? []).entries()) {
      path = r.path;
      const source = shot.referenceImages[i];
      referenceImages.push(
        await image(r, `${shot.id}-ref-${i + 1}`, {
          width: source?.width ?? 0,
          height: source?.height ?? 0,
        }),
      );
    }
    const video = media?.inputVideo ?? null;
    let inputVideo: GenerationRequest['inputVideo'];
    if (video !== null) {
      path = video.path;
      inputVideo = {
        bytes: await read(video.path, video.digest),
        mime: video.mime,
        filename: `${shot.id}-video.${EXTENSIONS[video.mime]!}`,
        at: video.at,
        ...(video.crop === undefined ? {} : { crop: video.crop }),
      };
    }
    return ok({
      model: shot.model,
      prompt: options.prompt,
      size: shot.size,
      seconds: shot.seconds,
      variants: shot.variants,
      frames,
      ...(inputVideo === undefined ? {} : { inputVideo }),
      referenceImages,
      ...(shot.negativePrompt === undefined ? {} : { negativePrompt: shot.negativePrompt }),
      ...(shot.seed === undefined ? {} : { seed: shot.seed }),
      ...(shot.audio === undefined ? {} : { audio: shot.audio }),
      ...(options.parent === undefined ? {} : { parent: options.parent }),
    });
  } catch (error) {
    return fail({
      path,
      message: `could not read ${path}: ${(error as Error).message}`,
      code: (error as { code?: string }).code ?? null,
    });
  }
}
