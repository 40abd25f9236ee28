/** The Veo 3.1 entries of the capability table, through the analyzer's own check: the 8 s rules, frames, references. */
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../src/config/capabilities.ts';
import type { ShotFacts } from '../../src/manifest/check-capabilities.ts';
import { checkCapabilities } from '../../src/manifest/check-capabilities.ts';

const veo = CAPABILITIES['vertex-veo'];
const fast = veo['veo-3.1-fast-generate-001']!;
const lite = veo['veo-3.1-lite-generate-001']!;
const base: ShotFacts = {
  model: 'veo-3.1-fast-generate-001',
  providerType: 'vertex-veo',
  size: '1280x720',
  seconds: 4,
  relation: undefined,
  frames: [],
  inputVideo: undefined,
  referenceImages: 0,
  variants: undefined,
  negativePrompt: true,
  seed: true,
  audio: false,
};
const first = { at: 'first', crop: false, shortForm: false } as const;
const last = { at: 'last', crop: false, shortForm: false } as const;
const messages = (facts: Partial<ShotFacts>, caps = fast): string[] =>
  checkCapabilities(caps, { ...base, ...facts }).map((p) => `${p.field}: ${p.message}`);

describe('Veo 3.1 capabilities', () => {
  it('lists the three models; 4k on the full and fast models only', () => {
    expect(Object.keys(veo).sort()).toEqual([
      'veo-3.1-fast-generate-001',
      'veo-3.1-generate-001',
      'veo-3.1-lite-generate-001',
    ]);
    expect(fast.sizes).toContain('3840x2160');
    expect(lite.sizes).not.toContain('3840x2160');
  });

  it('takes 4, 6 or 8 s at 720p, only 8 s at 1080p and 4k and with reference images', () => {
    expect(messages({ seconds: 6, frames: [first, last], variants: 4 })).toEqual([]);
    expect(messages({ size: '1080x1920', seconds: 8, referenceImages: 3 })).toEqual([]);
    expect(messages({ size: '3840x2160', seconds: 6 })).toEqual([
      'seconds: Expected `seconds` to be 8 for model veo-3.1-fast-generate-001 at 1080p and 4k, but found 6',
    ]);
    expect(messages({ size: '1920x1080', seconds: 4 }, lite)).toEqual([
      'seconds: Expected `seconds` to be 8 for model veo-3.1-fast-generate-001 at 1080p, but found 4',
    ]);
    expect(messages({ referenceImages: 1 })).toEqual([
      'seconds: Expected `seconds` to be 8 for model veo-3.1-fast-generate-001 with reference images, but found 4',
    ]);
  });

  it('says what the analyzer checks frames, references and variants against', () => {
    expect(fast).toMatchObject({
      audio: 'optional',
      remix: false,
      extend: false,
      frames: { positions: ['first', 'last'], max: 2, crop: false, lastNeedsFirst: true },
      inputVideo: null,
      referenceImages: 3,
      variants: { max: 4, bySize: {} },
      negativePrompt: true,
      seed: true,
    });
    expect(fast.rules).toContainEqual({
      when: { referenceImages: true },
      require: { noFrames: true },
      why: 'with reference images',
    });
  });
});
