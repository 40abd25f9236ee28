/**
 * Issue 13's lockfile fields: every variant's video and (when `video_id` cannot stand for it) the job's
 * handle, written only when set. Entries without them keep their bytes (see lockfile.test.ts, whose exact
 * text predates these fields).
 */
import { describe, expect, it } from 'vitest';
import { parseCanonical, serializeLockfile } from '../../src/cache/lockfile.ts';
import { parseLockfile } from '../../src/cache/lockfile-yaml.ts';
import type { LockEntry, Lockfile } from '../../src/cache/types.ts';
import { asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import { lockEntryFor } from '../../src/plan/lock-entry-for.ts';
import { shotKeyData } from '../../src/plan/shot-key.ts';
import { digestOf } from './builders.ts';

const OP = 'projects/p/locations/us-central1/publishers/google/models/veo-3.1/operations/42';

function entry(extra: Partial<LockEntry> = {}): LockEntry {
  return {
    shot: asShotId('takes'),
    key: asShotKey(digestOf('key')),
    output: digestOf('v0'),
    bytes: 100,
    videoId: asVideoId(OP),
    model: 'veo-3.1-generate-001',
    size: '1280x720',
    seconds: 8,
    keyFormat: 1,
    family: 'openai-videos',
    promptSha256: digestOf('prompt'),
    referenceSha256: null,
    parentRelation: null,
    parentOutput: null,
    ...extra,
  };
}

const lockOf = (e: LockEntry): Lockfile => ({ version: 1, shots: new Map([[e.shot, e]]) });

describe('lockfile variants and handles', () => {
  const rich = entry({
    variants: [
      { output: digestOf('v0'), bytes: 100 },
      { output: digestOf('v1'), bytes: 101 },
    ],
    handle: {
      type: 'openai',
      provider: 'veo',
      id: OP,
      model: 'veo-3.1-generate-001',
      createdAt: 1_700_000_000_000,
      extra: { endpoint: 'fal-ai/veo3', n: [1, 2] },
    },
  });
  const text = serializeLockfile(lockOf(rich));

  it('writes each variant on its own line after the key data, then the handle as one line of sorted JSON', () => {
    expect(text.split('\n').slice(-5)).toEqual([
      '    variants:',
      `      - { output: "${digestOf('v0')}", bytes: 100 }`,
      `      - { output: "${digestOf('v1')}", bytes: 101 }`,
      `    handle: {"createdAt":1700000000000,"extra":{"endpoint":"fal-ai/veo3","n":[1,2]},"id":"${OP}","model":"veo-3.1-generate-001","provider":"veo","type":"openai"}`,
      '',
    ]);
  });

  it('reads back the same through the fast reader and the YAML reader', () => {
    expect(parseCanonical(text)).toEqual(lockOf(rich));
    expect(parseLockfile({ path: '/p/x.lock', contents: text })).toEqual({ ok: true, value: lockOf(rich) });
  });

  it('reports a first variant that is not the output, and a handle for another job, with positions', () => {
    const bad = text
      .replace(`- { output: "${digestOf('v0')}"`, `- { output: "${digestOf('other')}"`)
      .replace(`"id":"${OP}"`, '"id":"op-2"');
    expect(parseCanonical(bad)).toBeUndefined();
    const read = parseLockfile({ path: '/p/x.lock', contents: bad });
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error.map((d) => d.message)).toEqual([
      'Expected the first of `variants` of shot `takes` to be its `output`.',
      'Expected `handle` of shot `takes` to be the job of its `video_id`, but its `id` is "op-2".',
    ]);
  });

  it('pins variants and an adapter handle, but not a handle `video_id` stands for (old bytes kept)', () => {
    const keyData = shotKeyData({
      shot: {
        id: asShotId('takes'),
        model: 'sora-2',
        prompt: 'p',
        size: '1280x720',
        seconds: 4,
      } as Parameters<typeof shotKeyData>[0]['shot'],
      family: 'openai-videos',
      referenceDigest: null,
      parent: null,
    });
    const openaiHandle = {
      type: 'openai',
      provider: 'azure',
      id: 'video_1',
      model: 'sora-2',
      createdAt: 5,
    } as const;
    const plain = lockEntryFor(asShotId('takes'), keyData, {
      output: digestOf('v0'),
      bytes: 1,
      videoId: asVideoId('video_1'),
      handle: openaiHandle,
    });
    expect(plain).not.toHaveProperty('handle');
    expect(plain).not.toHaveProperty('variants');
    const withExtra = lockEntryFor(asShotId('takes'), keyData, {
      output: digestOf('v0'),
      bytes: 1,
      videoId: asVideoId('video_1'),
      handle: { ...openaiHandle, extra: { region: 'eu' } },
      variants: [
        { output: digestOf('v0'), bytes: 1, assets: {} },
        { output: digestOf('v1'), bytes: 2, assets: {} },
      ],
    });
    expect(withExtra.handle?.extra).toEqual({ region: 'eu' });
    expect(withExtra.variants).toEqual([
      { output: digestOf('v0'), bytes: 1 },
      { output: digestOf('v1'), bytes: 2 },
    ]);
  });
});
