/**
 * What fal.ai's video endpoints take (`type: fal`): a model is an endpoint id. The wire mapping of each
 * endpoint's input fields is in src/provider/fal-inputs.ts. `fal-ai/veo3.1` and `fal-ai/veo3.1/fast` are
 * families: the adapter picks the image-to-video, first-last-frame or reference endpoint from the shot.
 */
import type { ModelCapabilities } from './capabilities.ts';

const VEO_SIZES = ['1280x720', '720x1280', '1920x1080', '1080x1920'];
const KLING_SIZES = ['1920x1080', '1080x1920', '1080x1080'];

const veo: ModelCapabilities = {
  sizes: VEO_SIZES,
  seconds: [4, 6, 8],
  audio: true,
  remix: false,
  extend: false,
  inputReference: true,
};
const kling: ModelCapabilities = {
  sizes: KLING_SIZES,
  seconds: [5, 10],
  audio: false,
  remix: false,
  extend: false,
  inputReference: true,
};

export const FAL_MODELS: Readonly<Record<string, ModelCapabilities>> = {
  'fal-ai/veo3.1': veo,
  'fal-ai/veo3.1/fast': veo,
  'fal-ai/veo3.1/image-to-video': veo,
  'fal-ai/veo3.1/fast/image-to-video': veo,
  'fal-ai/veo3.1/first-last-frame-to-video': veo,
  'fal-ai/veo3.1/fast/first-last-frame-to-video': veo,
  'fal-ai/veo3.1/reference-to-video': veo,
  'fal-ai/kling-video/v2.1/master/text-to-video': { ...kling, inputReference: false },
  'fal-ai/kling-video/v4/image-to-video': kling,
};
