import type { ProviderType } from './types.ts';

/** What a model accepts, per provider family (design.md section 2). Used by analysis, never by the network. */
export interface ModelCapabilities {
  readonly sizes: readonly string[];
  readonly seconds: readonly number[];
  /** Generates an audio track (Sora 2). */
  readonly audio: boolean;
  readonly remix: boolean;
  readonly extend: boolean;
  readonly inputReference: boolean;
}

const SORA2_SECONDS = [4, 8, 12] as const;
const sora2: ModelCapabilities = {
  sizes: ['720x1280', '1280x720'],
  seconds: SORA2_SECONDS,
  audio: true,
  remix: true,
  extend: true,
  inputReference: true,
};
const sora2Pro: ModelCapabilities = { ...sora2, sizes: ['720x1280', '1280x720', '1024x1792', '1792x1024'] };
const sora1: ModelCapabilities = {
  sizes: [
    '480x480',
    '480x854',
    '854x480',
    '720x720',
    '720x1280',
    '1280x720',
    '1080x1080',
    '1080x1920',
    '1920x1080',
  ],
  seconds: Array.from({ length: 20 }, (_, i) => i + 1),
  audio: false,
  remix: false,
  extend: false,
  inputReference: true,
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
};

/** The provider family that enters the shot key: placeholder videos must never satisfy a real build. */
export type ProviderFamily = 'openai-videos' | 'azure-sora1' | 'emulator';

export function providerFamily(type: ProviderType): ProviderFamily {
  switch (type) {
    case 'openai':
      return 'openai-videos';
    case 'azure-sora1':
      return 'azure-sora1';
    case 'emulator':
      return 'emulator';
  }
}
