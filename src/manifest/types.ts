import type { Location } from '../core/diagnostic.ts';
import type { Sha256, ShotId } from '../core/brand.ts';
import type { CropBounds, FramePosition } from '../provider/job-api.ts';

/** What a shot asks the provider to deliver besides generation: files fetched from the content endpoint. */
export type Asset = 'video' | 'thumbnail' | 'spritesheet';
export const ASSETS: readonly Asset[] = ['video', 'thumbnail', 'spritesheet'];

/** How a reference image whose size differs from the shot's is resized locally before upload. */
export type Fit = 'none' | 'cover' | 'contain';

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp';

/** A reference image as checked by its bytes during analysis. */
export interface ReferenceImage {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the project root (the config's folder), POSIX separators; what users see. */
  readonly displayPath: string;
  readonly fit: Fit;
  /** Detected from the bytes, never from the name. */
  readonly mime: ImageMime;
  readonly width: number;
  readonly height: number;
  /** sha256 of the file's bytes as they are on disk. */
  readonly sourceDigest: Sha256;
  /** Where `input_reference` was written, for diagnostics raised later (e.g. while resizing). */
  readonly location: Location;
}

/** An image of `frames:`, placed at a position of the video. */
export interface FrameConfig {
  /** The image as checked; its `fit` is the item's own, else the shot's `fit`. */
  readonly image: ReferenceImage;
  readonly at: FramePosition;
  /** Sent to the service as is (Sora 1 `crop_bounds`); only where the model takes a crop. */
  readonly crop: CropBounds | undefined;
}

/** The `input_video:` of a shot, checked by its bytes (an MP4/QuickTime container and its duration). */
export interface InputVideoConfig {
  /** Absolute path. */
  readonly path: string;
  /** Relative to the project root, POSIX separators. */
  readonly displayPath: string;
  readonly mime: 'video/mp4' | 'video/quicktime';
  /** From the container's movie header. */
  readonly durationSeconds: number;
  /** sha256 of the file's bytes: enters the shot key. */
  readonly sourceDigest: Sha256;
  /** The frame index of the video it is placed at. @default 0 */
  readonly at: number;
  readonly crop: CropBounds | undefined;
  readonly location: Location;
}

/** A shot after analysis: defaults applied, variables interpolated, references resolved and checked. */
export interface ShotConfig {
  readonly id: ShotId;
  /** The prompt after `${var}` / `${env:NAME}` interpolation: exactly what is sent. */
  readonly prompt: string;
  /** The model name as written (the provider maps it to a deployment name). */
  readonly model: string;
  /** `WxH`, e.g. `1280x720`. For remix/extend children: inherited from the parent. */
  readonly size: string;
  readonly width: number;
  readonly height: number;
  /** Duration in whole seconds (sent to the API as a string). For extend: the seconds added. */
  readonly seconds: number;
  readonly inputReference: ReferenceImage | undefined;
  /** The `providers.<name>` that builds it: its own `provider:`, its parent's, `defaults.provider`, then `--provider` or the config's `provider:`. */
  readonly provider: string;
  /** Images at positions (`frames:`); `input_reference` stays in `inputReference` (it is a first frame). */
  readonly frames: readonly FrameConfig[];
  readonly inputVideo: InputVideoConfig | undefined;
  /** Style/asset anchors (`reference_images:`), sent as they are (no resize). */
  readonly referenceImages: readonly ReferenceImage[];
  /** Samples from the one request. @default 1 */
  readonly variants: number;
  /** After `${var}` interpolation. */
  readonly negativePrompt: string | undefined;
  readonly seed: number | undefined;
  /** `undefined`: the model's default. */
  readonly audio: boolean | undefined;
  /** Parent shot for `remix_of`. */
  readonly remixOf: ShotId | undefined;
  /** Parent shot for `extend_of`. */
  readonly extendOf: ShotId | undefined;
  /** Output path relative to `out_dir`, POSIX separators, normalised; default `<id>.mp4`. The first variant's. */
  readonly output: string;
  /**
   * One path per variant, in order (`outputs[0] === output`): with one variant `[output]`; with N, by default
   * `<id>/1.mp4 … <id>/N.mp4`, or the `output` pattern with `{n}` replaced by 1…N.
   */
  readonly outputs: readonly string[];
  /** Always contains `video`; sorted in ASSETS order, no duplicates. */
  readonly assets: readonly Asset[];
  /** Position of the shot's key in the manifest (the `harbor:` of `shots: harbor:`). */
  readonly location: Location;
  /** Positions of individual fields, for diagnostics raised after analysis (by the graph or the engine). */
  readonly fieldLocations: Readonly<Partial<Record<ShotField, Location>>>;
}

export type ShotField =
  | 'prompt'
  | 'model'
  | 'size'
  | 'seconds'
  | 'input_reference'
  | 'fit'
  | 'remix_of'
  | 'extend_of'
  | 'output'
  | 'assets'
  | 'provider'
  | 'frames'
  | 'input_video'
  | 'reference_images'
  | 'variants'
  | 'negative_prompt'
  | 'seed'
  | 'audio';

/** A whole analysed manifest. Shots are in id order (sorted by code unit), which every later stage relies on. */
export interface Manifest {
  /** Absolute path of the manifest file. */
  readonly path: string;
  /** `storyboard.yaml` -> `storyboard.lock`, beside the manifest. */
  readonly lockfilePath: string;
  readonly version: 1;
  readonly shots: ReadonlyMap<ShotId, ShotConfig>;
  /** Names of environment variables read through `${env:NAME}` (their values are in the prompts, hence the keys). */
  readonly envVarsUsed: readonly string[];
}
