/**
 * Signed key entries (pure): what a writer without the key can and cannot make another machine accept.
 */
import { describe, expect, it } from 'vitest';
import { asSha256, asShotKey, asVideoId } from '../../src/core/brand.ts';
import type { Sample } from '../../src/cache/types.ts';
import { signEntry, verifyEntry } from '../../src/remote/signed-entry.ts';

const KEY = asShotKey('a'.repeat(64));
const OTHER_KEY = asShotKey('b'.repeat(64));
const SECRET = 'team-secret-0123456789';
const SAMPLE: Sample = {
  output: asSha256('c'.repeat(64)),
  bytes: 1234,
  videoId: asVideoId('video_1'),
  provider: 'azure',
  createdAt: 1_700_000_000_000,
  expiresAt: null,
  costUsd: 0.4,
  assets: { thumbnail: asSha256('d'.repeat(64)) },
};

const text = (v: unknown): string => JSON.stringify(v);

describe('a signed entry', () => {
  it('is accepted for its key with the same secret, whatever the order of its fields', () => {
    const entry = signEntry(KEY, SAMPLE, SECRET);
    expect(verifyEntry(text(entry), KEY, SECRET)).toEqual({ ok: true, sample: SAMPLE });
    const reordered = { ...entry, sample: Object.fromEntries(Object.entries(SAMPLE).reverse()) };
    expect(verifyEntry(text(reordered), KEY, SECRET).ok).toBe(true);
  });

  it.each([
    ['another secret', text(signEntry(KEY, SAMPLE, 'not-the-team-secret')), KEY, 'bad-signature'],
    ['no signature', text({ ...signEntry(KEY, SAMPLE, SECRET), signature: undefined }), KEY, 'bad-signature'],
    [
      'a changed output digest',
      text({ ...signEntry(KEY, SAMPLE, SECRET), sample: { ...SAMPLE, output: 'e'.repeat(64) } }),
      KEY,
      'bad-signature',
    ],
    [
      'a changed asset',
      text({ ...signEntry(KEY, SAMPLE, SECRET), sample: { ...SAMPLE, assets: {} } }),
      KEY,
      'bad-signature',
    ],
    ['another key', text(signEntry(OTHER_KEY, SAMPLE, SECRET)), KEY, 'wrong-key'],
    [
      'a copy under another key',
      text({ ...signEntry(OTHER_KEY, SAMPLE, SECRET), key: KEY }),
      KEY,
      'bad-signature',
    ],
    ['not JSON', '{"format":1,', KEY, 'unreadable'],
    ['another format', text({ ...signEntry(KEY, SAMPLE, SECRET), format: 2 }), KEY, 'unreadable'],
  ])('is rejected with %s', (_name, entry, key, why) => {
    expect(verifyEntry(entry, key, SECRET)).toEqual({ ok: false, why });
  });
});
