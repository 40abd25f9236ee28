/**
 * What Runway's video models take (`type: runway`), from `@runwayml/sdk` 4.20's request types
 * (resources/image-to-video.ts, text-to-video.ts): `ratio` is exact pixels, so sizes are listed as Runway names
 * them; `duration` is a set for Veo and a range for Gen-4.5. One video per task; no reference images, remix
 * or extension on these endpoints.
 *
 * What the table cannot say, the adapter refuses before sending (runway-provider.ts): Gen-4.5 without a first
 * frame takes only 1280x720 and 720x1280, and Gen-4 Turbo needs a first frame.
 */
import type { ModelCapabilities } from './capabilities.ts';

const VEO_SIZES = ['1280x720', '720x1280', '1080x1920', '1920x1080'];
/** Gen-4 ratios with a first frame; text-to-video takes only the first two. */
const GEN4_SIZES = ['1280x720', '720x1280', '1104x832', '960x960', '832x1104', '1584x672'];
/** Declared here, not imported: capabilities.ts imports this file, so its values are not ready yet. */
const ONE_VARIANT = { max: 1, bySize: {} };

const gen4: ModelCapabilities = {
  sizes: GEN4_SIZES,
  seconds: { min: 2, max: 10 },
  audio: 'never',
  remix: false,
  extend: false,
  frames: { positions: ['first'], max: 1, crop: false, lastNeedsFirst: false, fps: null },
  inputVideo: null,
  referenceImages: 0,
  variants: ONE_VARIANT,
  negativePrompt: false,
  seed: true,
  rules: [],
};

const veo: ModelCapabilities = {
  sizes: VEO_SIZES,
  seconds: { set: [4, 6, 8] },
  audio: 'optional',
  remix: false,
  extend: false,
  // `promptImage: [{uri, position: first|last}]`; "does not support generating with only a last frame".
  frames: { positions: ['first', 'last'], max: 2, crop: false, lastNeedsFirst: true, fps: null },
  inputVideo: null,
  referenceImages: 0,
  variants: ONE_VARIANT,
  negativePrompt: true,
  seed: true,
  rules: [],
};

export const RUNWAY_MODELS: Readonly<Record<string, ModelCapabilities>> = {
  'gen4.5': gen4,
  gen4_turbo: { ...gen4, seconds: { set: [5, 10] } },
  'veo3.1': veo,
  'veo3.1_fast': veo,
};
