import type { ModelCapabilities } from './capabilities.ts';

/**
 * Veo 3.1 on Vertex AI (spec/successor-apis.md sections 1.1-1.2): 16:9 and 9:16 at 720p and 1080p, and 4k on
 * the full and fast models (Google added 4k on 2026-01-13; the lite model's page lists 720p and 1080p only);
 * 4, 6 or 8 seconds, 8 required at 1080p and 4k and with reference images; audio on request.
 */
const HD = ['1280x720', '720x1280', '1920x1080', '1080x1920'] as const;
const UHD = ['3840x2160', '2160x3840'] as const;

const veo: ModelCapabilities = {
  sizes: [...HD, ...UHD],
  seconds: [4, 6, 8],
  audio: true,
  remix: false,
  // Extension on Vertex's Veo 3.1 is disputed (the SDK's sample says "not supported yet"): not offered.
  extend: false,
  inputReference: true,
};

export const VEO_CAPABILITIES: Readonly<Record<string, ModelCapabilities>> = {
  'veo-3.1-generate-001': veo,
  'veo-3.1-fast-generate-001': veo,
  'veo-3.1-lite-generate-001': { ...veo, sizes: HD },
};
