import type { Location } from '../core/diagnostic.ts';
import type { Sha256, ShotId } from '../core/brand.ts';

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
  /** Parent shot for `remix_of`. */
  readonly remixOf: ShotId | undefined;
  /** Parent shot for `extend_of`. */
  readonly extendOf: ShotId | undefined;
  /** Output path relative to `out_dir`, POSIX separators, normalised; default `<id>.mp4`. */
  readonly output: string;
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
  | 'assets';

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
