/**
 * Keys written before issue 13 stay byte-identical (fixed values below, computed by the code before the new
 * fields existed), and each new field enters the key only when set.
 */
import { describe, expect, it } from 'vitest';
import { asSha256 } from '../../src/core/brand.ts';
import { canonicalJson } from '../../src/plan/canonical-json.ts';
import { shotKey, shotKeyData } from '../../src/plan/shot-key.ts';
import type { ShotKeyInputs } from '../../src/plan/shot-key.ts';

const harbor: ShotKeyInputs = {
  shot: { model: 'sora-2', prompt: 'A misty harbor at dawn.', size: '1280x720', seconds: 8 },
  family: 'openai-videos',
  referenceDigest: null,
  parent: null,
};
const waves: ShotKeyInputs = {
  shot: { model: 'sora', prompt: 'Waves.', size: '480x480', seconds: 5 },
  family: 'azure-sora1',
  referenceDigest: asSha256('a'.repeat(64)),
  parent: null,
};
const teal: ShotKeyInputs = {
  shot: { model: 'sora-2', prompt: 'Teal.', size: '720x1280', seconds: 12 },
  family: 'emulator',
  referenceDigest: null,
  parent: { relation: 'remix_of', output: asSha256('b'.repeat(64)) },
};
const HARBOR = '83f08e6960e64769b8bf80107f6ab657fb1b1bdf742993b50c3a6bb4f99f6952';
const WAVES = 'fab9dbe2191cbf256e27dff362ac0325c8080b1175bcbab38bb1d0875e2444d9';
const TEAL = 'fcce76051dcfebe8a0a6bf6cbf40677c9bbe9c6d422df046840c05fff331fcad';

const unset = {
  variants: 1,
  negativePrompt: undefined,
  seed: undefined,
  audio: undefined,
} as const;
const noMedia = { frames: [], inputVideo: null, referenceImages: [] } as const;

describe('key stability', () => {
  it('keeps the keys of version-1 shots byte-identical', () => {
    expect(shotKey(shotKeyData(harbor))).toBe(HARBOR);
    expect(shotKey(shotKeyData(waves))).toBe(WAVES);
    expect(shotKey(shotKeyData(teal))).toBe(TEAL);
  });

  it('keeps them when the new fields are absent, empty or at their defaults', () => {
    for (const [inputs, key] of [
      [harbor, HARBOR],
      [waves, WAVES],
      [teal, TEAL],
    ] as const) {
      const data = shotKeyData({ ...inputs, shot: { ...inputs.shot, ...unset }, media: noMedia });
      expect(shotKey(data)).toBe(key);
      expect(Object.keys(data).sort()).toEqual([
        'family',
        'model',
        'parent',
        'prompt',
        'reference',
        'seconds',
        'size',
        'v',
      ]);
    }
  });

  it('puts each new field in the key when it is set, and each one changes it', () => {
    const digest = asSha256('c'.repeat(64));
    const variations: Partial<ShotKeyInputs>[] = [
      { shot: { ...waves.shot, variants: 2 } },
      { shot: { ...waves.shot, negativePrompt: 'blur' } },
      { shot: { ...waves.shot, seed: 0 } },
      { shot: { ...waves.shot, audio: false } },
      { media: { ...noMedia, frames: [{ digest, at: 'last' }] } },
      { media: { ...noMedia, frames: [{ digest, at: 'first' }] } },
      {
        media: {
          ...noMedia,
          frames: [{ digest, at: 'last', crop: { left: 0.1, top: 0, right: 1, bottom: 1 } }],
        },
      },
      { media: { ...noMedia, inputVideo: { digest, at: 0 } } },
      { media: { ...noMedia, inputVideo: { digest, at: 30 } } },
      { media: { ...noMedia, referenceImages: [digest] } },
    ];
    const keys = variations.map((v) => shotKey(shotKeyData({ ...waves, ...v })));
    expect(new Set([...keys, WAVES]).size).toBe(variations.length + 1);
    expect(
      canonicalJson(
        shotKeyData({
          ...waves,
          shot: { ...waves.shot, variants: 2, seed: 7 },
          media: {
            frames: [{ digest, at: 12, crop: { bottom: 0.5, right: 1, top: 0, left: 0 } }],
            inputVideo: null,
            referenceImages: [],
          },
        }),
      ),
    ).toBe(
      `{"family":"azure-sora1","frames":[{"at":12,"crop":{"bottom":0.5,"left":0,"right":1,"top":0},"digest":"${'c'.repeat(64)}"}],"model":"sora","parent":null,"prompt":"Waves.","reference":"${'a'.repeat(64)}","seconds":5,"seed":7,"size":"480x480","v":1,"variants":2}`,
    );
  });
});
