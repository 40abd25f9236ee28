import { describe, expect, it } from 'vitest';
import { KEY_FORMAT_VERSION, shotKey, shotKeyData } from '../../src/plan/shot-key.ts';
import type { ShotKeyData, ShotKeyInputs } from '../../src/plan/shot-key.ts';
import { canonicalJson } from '../../src/plan/canonical-json.ts';
import { createHash } from 'node:crypto';
import { digestOf, manifestOf } from './builders.ts';
import type { ShotSpec } from './builders.ts';
import { asShotId } from '../../src/core/brand.ts';

const base: ShotKeyInputs = {
  shot: { model: 'sora-2', prompt: 'A misty harbor at dawn.', size: '1280x720', seconds: 8 },
  family: 'openai-videos',
  referenceDigest: null,
  parent: null,
};
const baseKey = shotKey(shotKeyData(base));

describe('shot key', () => {
  it('is the sha256 of the canonical JSON of the versioned key data', () => {
    const data = shotKeyData(base);
    expect(data).toEqual({
      v: KEY_FORMAT_VERSION,
      family: 'openai-videos',
      model: 'sora-2',
      prompt: 'A misty harbor at dawn.',
      size: '1280x720',
      seconds: 8,
      reference: null,
      parent: null,
    });
    expect(canonicalJson(data)).toBe(
      '{"family":"openai-videos","model":"sora-2","parent":null,"prompt":"A misty harbor at dawn.","reference":null,"seconds":8,"size":"1280x720","v":1}',
    );
    expect(baseKey).toBe(createHash('sha256').update(canonicalJson(data)).digest('hex'));
    expect(baseKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order of fields or of map iteration', () => {
    const data = shotKeyData(base);
    const reversed = Object.fromEntries(Object.entries(data).reverse()) as unknown as ShotKeyData;
    expect(Object.keys(reversed)[0]).toBe('parent');
    expect(shotKey(reversed)).toBe(baseKey);
    const viaMap = Object.fromEntries(new Map(Object.entries(data).sort(() => -1))) as unknown as ShotKeyData;
    expect(shotKey(viaMap)).toBe(baseKey);
    const child = (parent: { relation: 'remix_of'; output: ReturnType<typeof digestOf> }): string =>
      shotKey(shotKeyData({ ...base, parent }));
    const out = digestOf('out');
    expect(child({ relation: 'remix_of', output: out })).toBe(
      shotKey({ ...shotKeyData(base), parent: { output: out, relation: 'remix_of' } }),
    );
  });

  it('treats seconds "8" and 8 as one request', () => {
    const asString = { ...base, shot: { ...base.shot, seconds: '8' as unknown as number } };
    expect(shotKey(shotKeyData(asString))).toBe(baseKey);
  });

  const changes: [string, ShotKeyInputs][] = [
    ['provider family', { ...base, family: 'emulator' }],
    ['provider family (Sora 1)', { ...base, family: 'azure-sora1' }],
    ['model', { ...base, shot: { ...base.shot, model: 'sora-2-pro' } }],
    ['prompt', { ...base, shot: { ...base.shot, prompt: 'A misty harbor at dusk.' } }],
    ['prompt whitespace', { ...base, shot: { ...base.shot, prompt: 'A misty harbor at dawn. ' } }],
    ['size', { ...base, shot: { ...base.shot, size: '720x1280' } }],
    ['seconds', { ...base, shot: { ...base.shot, seconds: 12 } }],
    ['reference image added', { ...base, referenceDigest: digestOf('ref-1') }],
    ['parent (remix)', { ...base, parent: { relation: 'remix_of', output: digestOf('out-1') } }],
    ['parent (extend)', { ...base, parent: { relation: 'extend_of', output: digestOf('out-1') } }],
  ];

  it.each(changes)('changes when the %s changes', (_, inputs) => {
    expect(shotKey(shotKeyData(inputs))).not.toBe(baseKey);
  });

  it('changes with the reference digest and the parent output digest', () => {
    const withRef = (d: string): string => shotKey(shotKeyData({ ...base, referenceDigest: digestOf(d) }));
    expect(withRef('ref-1')).not.toBe(withRef('ref-2'));
    const withParent = (d: string): string =>
      shotKey(shotKeyData({ ...base, parent: { relation: 'remix_of', output: digestOf(d) } }));
    expect(withParent('out-1')).not.toBe(withParent('out-2'));
  });

  it('gives every input a distinct key (no two changes collide)', () => {
    const keys = new Set([baseKey, ...changes.map(([, inputs]) => shotKey(shotKeyData(inputs)))]);
    expect(keys.size).toBe(changes.length + 1);
  });

  it('ignores the shot id, output path, assets, endpoint URL and credentials', () => {
    // The key is computed from a ShotConfig; shots that differ only in fields outside the key share it.
    const specs: Record<string, ShotSpec> = {
      a: { prompt: 'same', output: 'a.mp4', assets: ['video'] },
      'renamed-b': { prompt: 'same', output: 'social/b.mp4', assets: ['video', 'thumbnail', 'spritesheet'] },
    };
    const m = manifestOf(specs);
    const keyOf = (id: string): string => shotKey(shotKeyData({ ...base, shot: m.shots.get(asShotId(id))! }));
    expect(keyOf('a')).toBe(keyOf('renamed-b'));
    // Nothing about endpoints or credentials can reach the key data: its fields are fixed.
    expect(Object.keys(shotKeyData(base)).sort()).toEqual([
      'family',
      'model',
      'parent',
      'prompt',
      'reference',
      'seconds',
      'size',
      'v',
    ]);
  });
});
