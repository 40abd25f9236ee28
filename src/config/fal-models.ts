/**
 * What fal.ai's video endpoints take (`type: fal`): a model is an endpoint id. How each endpoint's input fields
 * are filled from a shot is in src/provider/fal-inputs.ts (and the README's fal table). `fal-ai/veo3.1` and
 * `fal-ai/veo3.1/fast` name a family: the adapter picks the image-to-video, first-last-frame or reference
 * endpoint from the shot, so their entries take everything the family does.
 *
 * What the table cannot say, the adapter refuses before sending: an image-to-video endpoint needs its first
 * frame, first-last-frame-to-video both frames, reference-to-video at least one reference image.
 */
import type { FrameCapabilities, ModelCapabilities } from './capabilities.ts';

const VEO_SIZES = ['1280x720', '720x1280', '1920x1080', '1080x1920'];
const KLING_SIZES = ['1920x1080', '1080x1920', '1080x1080'];
/** Declared here, not imported: capabilities.ts imports this file, so its values are not ready yet. */
const ONE_VARIANT = { max: 1, bySize: {} };
const FIRST: FrameCapabilities = {
  positions: ['first'],
  max: 1,
  crop: false,
  lastNeedsFirst: false,
  fps: null,
};
const FIRST_LAST: FrameCapabilities = {
  positions: ['first', 'last'],
  max: 2,
  crop: false,
  lastNeedsFirst: true,
  fps: null,
};

const veoText: ModelCapabilities = {
  sizes: VEO_SIZES,
  seconds: { set: [4, 6, 8] },
  audio: 'optional',
  remix: false,
  extend: false,
  frames: null,
  inputVideo: null,
  referenceImages: 0,
  variants: ONE_VARIANT,
  negativePrompt: true,
  seed: true,
  rules: [],
};
/** The family name: frames go to image-to-video / first-last-frame, reference images to reference-to-video. */
const veoFamily = (references: number): ModelCapabilities => ({
  ...veoText,
  frames: FIRST_LAST,
  referenceImages: references,
  rules:
    references > 0
      ? [{ when: { referenceImages: true }, require: { noFrames: true }, why: 'with reference images' }]
      : [],
});
const kling: ModelCapabilities = {
  sizes: KLING_SIZES,
  seconds: { set: [5, 10] },
  audio: 'never',
  remix: false,
  extend: false,
  frames: null,
  inputVideo: null,
  referenceImages: 0,
  variants: ONE_VARIANT,
  negativePrompt: true,
  seed: false,
  rules: [],
};

export const FAL_MODELS: Readonly<Record<string, ModelCapabilities>> = {
  'fal-ai/veo3.1': veoFamily(3),
  'fal-ai/veo3.1/fast': veoFamily(0),
  'fal-ai/veo3.1/image-to-video': { ...veoText, frames: FIRST },
  'fal-ai/veo3.1/fast/image-to-video': { ...veoText, frames: FIRST },
  'fal-ai/veo3.1/first-last-frame-to-video': { ...veoText, frames: FIRST_LAST },
  'fal-ai/veo3.1/fast/first-last-frame-to-video': { ...veoText, frames: FIRST_LAST },
  'fal-ai/veo3.1/reference-to-video': { ...veoText, referenceImages: 3 },
  'fal-ai/kling-video/v2.1/master/text-to-video': kling,
  'fal-ai/kling-video/v4/image-to-video': { ...kling, frames: FIRST_LAST },
};
