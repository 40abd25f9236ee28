/** The capability check on its own: a table of shots against the Sora 1 and Sora 2 entries, exact messages. */
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, maxVariants } from '../../src/config/capabilities.ts';
import type { ShotFacts } from '../../src/manifest/check-capabilities.ts';
import { checkCapabilities } from '../../src/manifest/check-capabilities.ts';

const sora1 = CAPABILITIES['azure-sora1'].sora!;
const sora2 = CAPABILITIES.openai['sora-2']!;

const base: ShotFacts = {
  model: 'sora',
  providerType: 'azure-sora1',
  size: '1280x720',
  seconds: 5,
  relation: undefined,
  frames: [],
  inputVideo: undefined,
  referenceImages: 0,
  variants: undefined,
  negativePrompt: false,
  seed: false,
  audio: undefined,
};

describe('checkCapabilities', () => {
  it('Sora 1 takes 1 to 20 s, but at most 10 s at 1080p', () => {
    expect(checkCapabilities(sora1, { ...base, seconds: 20 })).toEqual([]);
    expect(checkCapabilities(sora1, { ...base, seconds: 21 })).toEqual([
      { field: 'seconds', message: 'Expected `seconds` to be from 1 to 20 for model sora, but found 21' },
    ]);
    expect(checkCapabilities(sora1, { ...base, size: '1920x1080', seconds: 10 })).toEqual([]);
    expect(checkCapabilities(sora1, { ...base, size: '1080x1920', seconds: 12 })).toEqual([
      {
        field: 'seconds',
        message: 'Expected `seconds` to be from 1 to 10 for model sora at 1080p, but found 12',
      },
    ]);
    // One mistake, one message: an unknown size does not also break the 1080p rule.
    expect(checkCapabilities(sora1, { ...base, size: '1000x1000', seconds: 12 }).map((p) => p.field)).toEqual(
      ['size'],
    );
  });

  it('Sora 1 variants: 1 at 1080p, 2 at 720p, 4 otherwise', () => {
    expect(maxVariants(sora1, '1920x1080')).toBe(1);
    expect(maxVariants(sora1, '1080x1080')).toBe(1);
    expect(maxVariants(sora1, '720x720')).toBe(2);
    expect(maxVariants(sora1, '1280x720')).toBe(2);
    expect(maxVariants(sora1, '480x854')).toBe(4);
  });

  it('Sora 2 keeps its set of seconds and its first-frame input_reference', () => {
    const s2 = { ...base, model: 'sora-2', providerType: 'openai', size: '720x1280' };
    expect(checkCapabilities(sora2, { ...s2, seconds: 8 })).toEqual([]);
    expect(checkCapabilities(sora2, { ...s2, seconds: 10 })).toEqual([
      {
        field: 'seconds',
        message: 'Expected `seconds` to be one of 4, 8, 12 for model sora-2, but found 10',
      },
    ]);
    expect(
      checkCapabilities(sora2, {
        ...s2,
        seconds: 8,
        frames: [{ at: 'first', crop: false, shortForm: true }],
      }),
    ).toEqual([]);
  });
});
