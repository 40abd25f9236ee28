/**
 * Key entries of the remote cache: `shot key -> sample`, signed with an HMAC whose key only the team's
 * machines have (SORA_BUILD_CACHE_KEY). Why signed: the container is writable by every CI runner, and an
 * entry decides which bytes a build puts in `out/` for a key. Objects are named by their sha256 and checked on
 * download, so bytes cannot be swapped under a digest; but an entry that points a key at another digest
 * could, and only the signature stops a writer without the key (a leaked storage credential, a fork's CI
 * given the container) from doing that.
 *
 * What is signed: a domain tag and format version, the shot key (an entry cannot be copied to another key),
 * and the whole sample (output digest and byte count, asset digests, remote id, times, cost), as canonical
 * JSON, so no field can change without breaking the signature. The signature is compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ShotKey } from '../core/brand.ts';
import type { Sample } from '../cache/types.ts';
import { variantsOf } from '../cache/types.ts';
import { canonicalJson } from '../plan/canonical-json.ts';

/** Bumped when the signed bytes change meaning; an entry of another format is a miss, never trusted. */
export const ENTRY_FORMAT = 1;
const DOMAIN = 'sora-build remote cache entry';

/** An entry as stored in the container at `keys/<key>.json`. */
export interface SignedEntry {
  readonly format: typeof ENTRY_FORMAT;
  readonly key: ShotKey;
  readonly sample: Sample;
  /** HMAC-SHA256 of the signed bytes, lowercase hex. */
  readonly signature: string;
}

/** Why an entry read from the container is not used. */
export type EntryRejection =
  /** Not JSON, or not an entry of this format. */
  | 'unreadable'
  /** An entry for another key (copied or moved). */
  | 'wrong-key'
  /** No signature, or one made without this key: written by someone who does not hold it. */
  | 'bad-signature';

export function signEntry(key: ShotKey, sample: Sample, secret: string): SignedEntry {
  return { format: ENTRY_FORMAT, key, sample, signature: hmac(key, sample, secret) };
}

/** The entry's sample when the entry is for `key` and signed with `secret`. */
export function verifyEntry(
  text: string,
  key: ShotKey,
  secret: string,
): { readonly ok: true; readonly sample: Sample } | { readonly ok: false; readonly why: EntryRejection } {
  let entry: Partial<SignedEntry>;
  try {
    entry = JSON.parse(text) as Partial<SignedEntry>;
  } catch {
    return { ok: false, why: 'unreadable' };
  }
  if (
    typeof entry !== 'object' ||
    entry === null ||
    entry.format !== ENTRY_FORMAT ||
    typeof entry.sample !== 'object' ||
    entry.sample === null
  ) {
    return { ok: false, why: 'unreadable' };
  }
  if (entry.key !== key) return { ok: false, why: 'wrong-key' };
  if (typeof entry.signature !== 'string' || !/^[0-9a-f]{64}$/.test(entry.signature)) {
    return { ok: false, why: 'bad-signature' };
  }
  let expected: string;
  try {
    expected = hmac(key, entry.sample, secret);
  } catch {
    return { ok: false, why: 'unreadable' }; // a value canonical JSON refuses (not JSON-shaped)
  }
  const same = timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(entry.signature, 'hex'));
  return same ? { ok: true, sample: entry.sample } : { ok: false, why: 'bad-signature' };
}

/** Every object a sample names: each variant's video and extra assets (fetched and checked one by one). */
export function sampleObjects(sample: Sample): { digest: Sample['output']; bytes: number | undefined }[] {
  const objects = new Map<Sample['output'], number | undefined>();
  for (const variant of variantsOf(sample)) {
    objects.set(variant.output, variant.bytes);
    for (const asset of Object.values(variant.assets ?? {})) {
      if (asset !== undefined && !objects.has(asset)) objects.set(asset, undefined);
    }
  }
  // Variant 0's assets are the sample's own (`assets`), also when `variants` lists them without.
  for (const asset of Object.values(sample.assets)) {
    if (asset !== undefined && !objects.has(asset)) objects.set(asset, undefined);
  }
  return [...objects].map(([digest, bytes]) => ({ digest, bytes }));
}

function hmac(key: ShotKey, sample: unknown, secret: string): string {
  const signed = `${DOMAIN}\n${ENTRY_FORMAT}\n${canonicalJson({ key, sample })}`;
  return createHmac('sha256', secret).update(signed, 'utf8').digest('hex');
}
