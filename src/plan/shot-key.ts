import { createHash } from 'node:crypto';
import type { Sha256, ShotKey } from '../core/brand.ts';
import { asSha256, asShotKey } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { ParentRelation } from '../graph/shot-graph.ts';
import type { CropBounds, FramePosition } from '../provider/job-api.ts';
import { canonicalJson } from './canonical-json.ts';

/**
 * Bumped whenever the meaning or shape of `ShotKeyData` changes, so every old key stops matching and the
 * plan says `key format changed` instead of silently reusing a video made under other rules.
 */
export const KEY_FORMAT_VERSION = 1;

/**
 * Everything that can change the pixels of a shot, and nothing else (design.md section 4). The shot key is
 * the sha256 of the canonical JSON of this object (sorted keys, no whitespace), so field order in the
 * manifest, map iteration order and YAML formatting can never change a key.
 *
 * Deliberately NOT in the key, because none of them changes what the provider generates:
 * - the shot id (renaming a shot must not pay for it again),
 * - the output path (moving a file is a copy from the store),
 * - the assets list (fetching a missing thumbnail is a download, not a generation),
 * - the endpoint URL, deployment names and credentials (the same model behind another resource or key
 *   renders the same thing; and secrets must never reach a file).
 */
export interface ShotKeyData {
  /** Key format version: a change of these rules invalidates every key at once. */
  readonly v: number;
  /**
   * Provider family (`openai-videos`, `azure-sora1`, `emulator`), not the provider's config name: the
   * emulator's placeholder videos must never satisfy a real build, and Sora 1 and Sora 2 are different
   * generators, but two Azure resources serving the same API are interchangeable.
   */
  readonly family: ProviderFamily;
  /** The model as written in the manifest (`sora-2`, `sora-2-pro`): different models, different pixels. */
  readonly model: string;
  /** The prompt after `${var}` / `${env:NAME}` interpolation: exactly what is sent, so a var edit rebuilds. */
  readonly prompt: string;
  /** `WxH`: resolution and orientation are part of the request. */
  readonly size: string;
  /** Duration in whole seconds (for `extend_of`, the seconds added). */
  readonly seconds: number;
  /**
   * sha256 of the reference image's bytes *as uploaded*, i.e. after `fit` (cover/contain) resized it, or
   * null without one. The uploaded bytes are what the model sees: a new crop is a new first frame, while
   * renaming or touching the file changes nothing.
   */
  readonly reference: Sha256 | null;
  /**
   * For `remix_of` / `extend_of`: which relation (a remix and an extension of the same video differ) and
   * the sha256 of the parent's chosen *output video*, not the parent's key, so rerolling the parent
   * (same key, new sample) rebuilds the child. null for a shot generated from scratch.
   */
  readonly parent: { readonly relation: ParentRelation; readonly output: Sha256 } | null;

  // The fields below (issue 13) are present only when the shot sets them, so every key made before they
  // existed stays byte-identical (a test pins key values). Each can change the pixels.

  /**
   * `frames:` in order: each image's sha256 *as uploaded* (after `fit`), its position (`first`, `last` or a
   * frame index) and the crop sent with it. `input_reference` stays in `reference` (the short form).
   */
  readonly frames?: readonly FrameKeyData[];
  /** `input_video:`: the video's sha256, the frame index it is placed at and its crop. */
  readonly inputVideo?: { readonly digest: Sha256; readonly at: number; readonly crop?: CropBounds };
  /** `reference_images:` in order, each image's sha256 (sent as is). */
  readonly referenceImages?: readonly Sha256[];
  /** `variants:` above 1: N samples from one request are another request than one (and another price). */
  readonly variants?: number;
  /** `negative_prompt:` after interpolation. */
  readonly negativePrompt?: string;
  /** `seed:`: best effort on every API, but a different seed is certainly a different video. */
  readonly seed?: number;
  /** `audio:` when written (absent: the model's default). */
  readonly audio?: boolean;
}

export interface FrameKeyData {
  readonly digest: Sha256;
  readonly at: FramePosition;
  readonly crop?: CropBounds;
}

/** The media a shot sends, digested as sent (see `prepareMedia`). */
export interface ShotMediaDigests {
  /** One per `frames:` item, in order. */
  readonly frames: readonly FrameKeyData[];
  readonly inputVideo: { readonly digest: Sha256; readonly at: number; readonly crop?: CropBounds } | null;
  readonly referenceImages: readonly Sha256[];
}

export interface ShotKeyInputs {
  readonly shot: Pick<ShotConfig, 'model' | 'prompt' | 'size' | 'seconds'> &
    Partial<Pick<ShotConfig, 'variants' | 'negativePrompt' | 'seed' | 'audio'>>;
  readonly family: ProviderFamily;
  /** Digest of the prepared (post-fit) reference image, null when the shot has none. */
  readonly referenceDigest: Sha256 | null;
  /** The parent edge and the parent's chosen output digest; null when the shot has no parent. */
  readonly parent: { readonly relation: ParentRelation; readonly output: Sha256 } | null;
  /** The shot's frames, input video and reference images as sent. @default none */
  readonly media?: ShotMediaDigests;
}

/** Assembles the key data of a shot. Seconds are normalised to a number (`"8"` and `8` are one request). */
export function shotKeyData(inputs: ShotKeyInputs): ShotKeyData {
  return {
    v: KEY_FORMAT_VERSION,
    family: inputs.family,
    model: inputs.shot.model,
    prompt: inputs.shot.prompt,
    size: inputs.shot.size,
    seconds: Number(inputs.shot.seconds),
    reference: inputs.referenceDigest,
    parent:
      inputs.parent === null ? null : { relation: inputs.parent.relation, output: inputs.parent.output },
    ...optionalKeyFields(inputs),
  };
}

/** The issue-13 fields, each only when set: absent fields leave the canonical JSON (hence old keys) unchanged. */
function optionalKeyFields(inputs: ShotKeyInputs): Partial<ShotKeyData> {
  const { shot, media } = inputs;
  const crop = (c: CropBounds | undefined): { crop?: CropBounds } =>
    c === undefined ? {} : { crop: { left: c.left, top: c.top, right: c.right, bottom: c.bottom } };
  return {
    ...(media !== undefined && media.frames.length > 0
      ? { frames: media.frames.map((f) => ({ digest: f.digest, at: f.at, ...crop(f.crop) })) }
      : {}),
    ...(media?.inputVideo != null
      ? {
          inputVideo: {
            digest: media.inputVideo.digest,
            at: media.inputVideo.at,
            ...crop(media.inputVideo.crop),
          },
        }
      : {}),
    ...(media !== undefined && media.referenceImages.length > 0
      ? { referenceImages: [...media.referenceImages] }
      : {}),
    ...(shot.variants !== undefined && shot.variants !== 1 ? { variants: shot.variants } : {}),
    ...(shot.negativePrompt !== undefined ? { negativePrompt: shot.negativePrompt } : {}),
    ...(shot.seed !== undefined ? { seed: shot.seed } : {}),
    ...(shot.audio !== undefined ? { audio: shot.audio } : {}),
  };
}

/** The shot key: lowercase hex sha256 of the canonical JSON of the key data. */
export function shotKey(data: ShotKeyData): ShotKey {
  return asShotKey(sha256Hex(canonicalJson(data)));
}

/** sha256 of a string's UTF-8 bytes; the lockfile keeps prompts only as this digest. */
export function sha256Hex(text: string): Sha256 {
  return asSha256(createHash('sha256').update(text, 'utf8').digest('hex'));
}
