import type { ModelCapabilities } from './capabilities.ts';

/**
 * Veo 3.1 on Vertex AI (spec/successor-apis.md sections 1.1-1.2, 5): 16:9 and 9:16 at 720p and 1080p, and 4k
 * on the full and fast models (Google added 4k on 2026-01-13; the lite model's page lists 720p and 1080p
 * only); 4, 6 or 8 seconds, 8 required at 1080p and 4k and with reference images; a first frame, and a last
 * frame only with a first; up to three ASSET reference images, not together with frames; `sampleCount` up to
 * 4 (Vertex's Veo 3 figure: none is published for 3.1); audio, negative prompt and seed on request.
 */
const HD = ['1280x720', '720x1280'] as const;
const FULL_HD = ['1920x1080', '1080x1920'] as const;
const UHD = ['3840x2160', '2160x3840'] as const;

function veo(sizes: readonly string[]): ModelCapabilities {
  const above720p = sizes.filter((s) => !(HD as readonly string[]).includes(s));
  return {
    sizes,
    seconds: { set: [4, 6, 8] },
    audio: 'optional',
    remix: false,
    // Extension on Vertex's Veo 3.1 is disputed (the SDK's own sample says "not supported yet"): not offered.
    extend: false,
    // Veo renders 24 frames per second; only first and last positions exist on its wire.
    frames: { positions: ['first', 'last'], max: 2, crop: false, lastNeedsFirst: true, fps: 24 },
    inputVideo: null,
    referenceImages: 3,
    variants: { max: 4, bySize: {} },
    negativePrompt: true,
    seed: true,
    rules: [
      {
        when: { sizes: above720p },
        require: { seconds: { set: [8] } },
        why: `at ${above720p.length > 2 ? '1080p and 4k' : '1080p'}`,
      },
      { when: { referenceImages: true }, require: { seconds: { set: [8] } }, why: 'with reference images' },
      { when: { referenceImages: true }, require: { noFrames: true }, why: 'with reference images' },
    ],
  };
}

const full = veo([...HD, ...FULL_HD, ...UHD]);

export const VEO_CAPABILITIES: Readonly<Record<string, ModelCapabilities>> = {
  'veo-3.1-generate-001': full,
  'veo-3.1-fast-generate-001': full,
  'veo-3.1-lite-generate-001': veo([...HD, ...FULL_HD]),
};
