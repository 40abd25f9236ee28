/**
 * What Runway's video models take (`type: runway`), from `@runwayml/sdk`'s request types
 * (resources/image-to-video.ts, text-to-video.ts): `ratio` is exact pixels, so sizes are listed as Runway names
 * them; `duration` is a set for Veo and a range for Gen-4.5.
 */
import type { ModelCapabilities } from './capabilities.ts';

const VEO_SIZES = ['1280x720', '720x1280', '1080x1920', '1920x1080'];
/** Gen-4 ratios with a first frame; text-to-video takes only the first two. */
const GEN4_SIZES = ['1280x720', '720x1280', '1104x832', '960x960', '832x1104', '1584x672'];
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const veo: ModelCapabilities = {
  sizes: VEO_SIZES,
  seconds: [4, 6, 8],
  audio: true,
  remix: false,
  extend: false,
  inputReference: true,
};

export const RUNWAY_MODELS: Readonly<Record<string, ModelCapabilities>> = {
  'gen4.5': {
    sizes: GEN4_SIZES,
    seconds: range(2, 10),
    audio: false,
    remix: false,
    extend: false,
    inputReference: true,
  },
  gen4_turbo: {
    sizes: GEN4_SIZES,
    seconds: [5, 10],
    audio: false,
    remix: false,
    extend: false,
    inputReference: true,
  },
  'veo3.1': veo,
  'veo3.1_fast': veo,
};
