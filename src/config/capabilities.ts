import { FAL_MODELS } from './fal-models.ts';
import { RUNWAY_MODELS } from './runway-models.ts';
import type { ProviderConfig, ProviderType } from './types.ts';
import { VEO_CAPABILITIES } from './veo-capabilities.ts';

/**
 * What each model accepts, per provider type (design.md section 10): the analyzer checks every shot against
 * this table before any call, and the manifest's JSON Schema and the README's table are built from it. Used by
 * analysis, never by the network: an adapter translates (a model that thinks in aspect ratio and resolution
 * tier lists the pixel sizes it takes here, and its adapter maps them).
 *
 * Big per-provider tables may live in their own files under src/config/ and be imported here.
 */
export interface ModelCapabilities {
  /** Sizes in pixels, `WxH`. */
  readonly sizes: readonly string[];
  /** Durations in whole seconds: a set (Sora 2: 4, 8, 12; Veo: 4, 6, 8) or an inclusive range (Sora 1: 1–20). */
  readonly seconds: DurationRule;
  /**
   * The sound track: `always` (Sora 2: every video has one), `never` (Sora 1), `optional` (Veo on Vertex: the
   * shot's `audio:` turns it on or off). `audio:` that asks for what the model cannot do is refused.
   */
  readonly audio: AudioSupport;
  /** `remix_of` (OpenAI's remix: a new prompt over a finished video). */
  readonly remix: boolean;
  /** `extend_of` (a continuation of a finished video). */
  readonly extend: boolean;
  /** Images placed at frame positions (`frames:`; `input_reference` is a first frame); `null`: none. */
  readonly frames: FrameCapabilities | null;
  /** One input video placed at a frame index (`input_video:`); `null`: none. */
  readonly inputVideo: InputVideoCapabilities | null;
  /** Style/asset anchor images (`reference_images:`): the most a request takes; 0: none. */
  readonly referenceImages: number;
  /** Samples from one request (`variants:`). */
  readonly variants: VariantCapabilities;
  /** Takes `negative_prompt:`. */
  readonly negativePrompt: boolean;
  /** Takes `seed:` (best effort on every API: a seed never guarantees the same pixels). */
  readonly seed: boolean;
  /** Conditional limits the fields above cannot say ("8 s at 1080p"); each broken one is a diagnostic. */
  readonly rules: readonly CapabilityRule[];
}

/** Durations: one of a set, or a whole number in an inclusive range. */
export type DurationRule =
  { readonly set: readonly number[] } | { readonly min: number; readonly max: number };

export type AudioSupport = 'always' | 'never' | 'optional';

/** A frame position kind: the first frame, the last frame, or a 0-based frame index. */
export type FrameAt = 'first' | 'last' | 'index';

export interface FrameCapabilities {
  /** The positions an image may take. */
  readonly positions: readonly FrameAt[];
  /** Images per request. */
  readonly max: number;
  /** Takes a `crop` (fractions of the source) sent to the service as is (Sora 1 `crop_bounds`). */
  readonly crop: boolean;
  /** A last frame needs a first frame too (Veo `lastFrame`, Runway `position: last`). */
  readonly lastNeedsFirst: boolean;
  /** Frames per second of the output, to check a frame index against the clip; `null`: not known (unchecked). */
  readonly fps: number | null;
}

export interface InputVideoCapabilities {
  /** Longest input video, seconds (Sora 1: 5). */
  readonly maxSeconds: number;
  /** Takes a `crop` (fractions) sent to the service. */
  readonly crop: boolean;
}

export interface VariantCapabilities {
  /** Most samples per request at any size. */
  readonly max: number;
  /** Tighter limits at some sizes (Sora 1: 1 at 1080p, 2 at 720p); a size not listed takes `max`. */
  readonly bySize: Readonly<Record<string, number>>;
}

/**
 * A conditional limit: when every condition in `when` holds for a shot, every requirement in `require` must.
 * Example (Veo 3.1): `{when: {sizes: [1080p and 4k sizes]}, require: {seconds: {set: [8]}}, why: 'at 1080p and 4k'}`.
 */
export interface CapabilityRule {
  readonly when: RuleCondition;
  readonly require: RuleRequirement;
  /** The condition in words, completing "… for model M <why>": `at 1080p and 4k`, `with reference images`. */
  readonly why: string;
}

/** Conditions of a rule; all given ones must hold (none given: always). */
export interface RuleCondition {
  /** The shot's size is one of these. */
  readonly sizes?: readonly string[];
  /** The shot has at least one reference image. */
  readonly referenceImages?: true;
  /** The shot has a frame at one of these position kinds. */
  readonly framesAt?: readonly FrameAt[];
  /** The shot has an input video. */
  readonly inputVideo?: true;
  /** The shot extends another (`extend_of`). */
  readonly extend?: true;
}

/** What a rule requires when its condition holds. */
export interface RuleRequirement {
  /** The shot's seconds (for an extension: the seconds added) fit this. */
  readonly seconds?: DurationRule;
  /** No `frames` (nor `input_reference`). */
  readonly noFrames?: true;
  /** No `input_video`. */
  readonly noInputVideo?: true;
  /** No `reference_images`. */
  readonly noReferenceImages?: true;
}

/** Whether `seconds` fits a duration rule. */
export function secondsAllowed(rule: DurationRule, seconds: number): boolean {
  return 'set' in rule ? rule.set.includes(seconds) : seconds >= rule.min && seconds <= rule.max;
}

/** A duration rule in words for messages: `one of 4, 8, 12`, `from 1 to 20`, `8`. */
export function describeSeconds(rule: DurationRule): string {
  if ('set' in rule) return rule.set.length === 1 ? String(rule.set[0]) : `one of ${rule.set.join(', ')}`;
  return `from ${rule.min} to ${rule.max}`;
}

/** The most variants a model makes at a size. */
export function maxVariants(caps: ModelCapabilities, size: string): number {
  return Object.hasOwn(caps.variants.bySize, size) ? caps.variants.bySize[size]! : caps.variants.max;
}

/** One variant, no per-size limits: what most models take. */
export const SINGLE_VARIANT: VariantCapabilities = { max: 1, bySize: {} };

const sora2: ModelCapabilities = {
  sizes: ['720x1280', '1280x720'],
  seconds: { set: [4, 8, 12] },
  audio: 'always',
  remix: true,
  extend: true,
  // `input_reference`: the first frame only, which must match the size (no crop on the wire).
  frames: { positions: ['first'], max: 1, crop: false, lastNeedsFirst: false, fps: null },
  inputVideo: null,
  referenceImages: 0,
  variants: SINGLE_VARIANT,
  negativePrompt: false,
  seed: false,
  rules: [],
};
const sora2Pro: ModelCapabilities = { ...sora2, sizes: ['720x1280', '1280x720', '1024x1792', '1792x1024'] };

/**
 * Frames per second of a Sora 1 video: Azure documents `frame_index` but not the rate; its sample videos are
 * 30 fps. The adapter sends `at: last` as the last frame at this rate (the emulator assumes the same).
 */
export const SORA1_FPS = 30;

/** Sora 1's limits (azure-sora1-contract.md section 4): by resolution class, the short side. */
const SORA1_1080P = ['1080x1080', '1080x1920', '1920x1080'];
const SORA1_720P = ['720x720', '720x1280', '1280x720'];
const sora1: ModelCapabilities = {
  sizes: ['480x480', '480x854', '854x480', ...SORA1_720P, ...SORA1_1080P],
  seconds: { min: 1, max: 20 },
  audio: 'never',
  remix: false,
  extend: false,
  // Up to two images the video interpolates between, at frame indices (`inpaint_items`), each with crop bounds.
  // The frame rate is not documented; SORA1_FPS is what `at: last` is sent as, and an index is checked against.
  frames: {
    positions: ['first', 'last', 'index'],
    max: 2,
    crop: true,
    lastNeedsFirst: false,
    fps: SORA1_FPS,
  },
  inputVideo: { maxSeconds: 5, crop: true },
  referenceImages: 0,
  // "1080p: variants disabled; 720p: max 2; other sizes: max 4" (the API itself says 1-5).
  variants: {
    max: 4,
    bySize: Object.fromEntries([
      ...SORA1_1080P.map((s): [string, number] => [s, 1]),
      ...SORA1_720P.map((s): [string, number] => [s, 2]),
    ]),
  },
  negativePrompt: false,
  seed: false,
  rules: [
    { when: { sizes: SORA1_1080P }, require: { seconds: { min: 1, max: 10 } }, why: 'at 1080p' },
    // "Up to two images (interpolated) or one video of at most 5 s" (azure-sora1-contract.md section 4).
    {
      when: { inputVideo: true },
      require: { noFrames: true },
      why: 'with an `input_video` (it starts from up to two images or one video)',
    },
  ],
};

const openaiVideos: Readonly<Record<string, ModelCapabilities>> = {
  'sora-2': sora2,
  'sora-2-2025-10-06': sora2,
  'sora-2-2025-12-08': sora2,
  'sora-2-pro': sora2Pro,
  'sora-2-pro-2025-10-06': sora2Pro,
};

/** Capability table per provider type. A model not in the table passes analysis with a warning. */
export const CAPABILITIES: Readonly<Record<ProviderType, Readonly<Record<string, ModelCapabilities>>>> = {
  openai: openaiVideos,
  emulator: openaiVideos,
  'azure-sora1': { sora: sora1, 'sora-1': sora1 },
  'vertex-veo': VEO_CAPABILITIES,
  runway: RUNWAY_MODELS,
  fal: FAL_MODELS,
};

/** The provider family that enters the shot key: placeholder videos must never satisfy a real build. */
export type ProviderFamily = 'openai-videos' | 'azure-sora1' | 'emulator' | 'vertex-veo' | 'runway' | 'fal';

/** Every family (a record, so a new family cannot be left out): what a lockfile entry's `family` may be. */
const FAMILY_SET: Readonly<Record<ProviderFamily, true>> = {
  'openai-videos': true,
  'azure-sora1': true,
  emulator: true,
  'vertex-veo': true,
  runway: true,
  fal: true,
};
export const PROVIDER_FAMILIES = Object.keys(FAMILY_SET) as readonly ProviderFamily[];

export function providerFamily(type: ProviderType): ProviderFamily {
  switch (type) {
    case 'openai':
      return 'openai-videos';
    case 'azure-sora1':
      return 'azure-sora1';
    case 'emulator':
      return 'emulator';
    case 'vertex-veo':
      return 'vertex-veo';
    case 'runway':
      return 'runway';
    case 'fal':
      return 'fal';
  }
}

/**
 * The provider type whose API (and capability table) a provider speaks: its own type, or for the embedded
 * emulator the `api:` it emulates (its key family stays `emulator`).
 */
export function apiType(provider: Pick<ProviderConfig, 'type' | 'api'>): ProviderType {
  return provider.type === 'emulator' && provider.api !== undefined ? provider.api : provider.type;
}
