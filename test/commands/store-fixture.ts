/**
 * Writes store objects and action-cache entries in the agreed on-disk layout (interfaces.md, item 2), so gc
 * tests can build exact situations (ages, sizes, references) without running a build.
 */
import { createHash } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sha256 } from '../../src/core/brand.ts';
import { asSha256, asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import type { LockEntry } from '../../src/cache/types.ts';
import { serializeLockfile } from '../../src/cache/lockfile.ts';

export function sha256(data: string | Uint8Array): Sha256 {
  return asSha256(createHash('sha256').update(data).digest('hex'));
}

export function objectPath(cacheDir: string, digest: string): string {
  return path.join(cacheDir, 'cas', 'sha256', digest.slice(0, 2), digest.slice(2));
}

/** Writes an object of `bytes` bytes last used `ageMs` before `now`; returns its digest. */
export async function putObject(
  cacheDir: string,
  label: string,
  bytes: number,
  ageMs: number,
  now = Date.now(),
): Promise<Sha256> {
  const data = Buffer.alloc(bytes, label);
  const digest = sha256(data);
  const file = objectPath(cacheDir, digest);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  const t = new Date(now - ageMs);
  await utimes(file, t, t);
  return digest;
}

export async function putActionCacheEntry(
  cacheDir: string,
  key: string,
  samples: readonly { output: string; assets?: Record<string, string>; videoId?: string }[],
): Promise<void> {
  const file = path.join(cacheDir, 'ac', key.slice(0, 2), `${key}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  const full = samples.map((s, i) => ({
    output: s.output,
    bytes: 1,
    videoId: s.videoId ?? `video_${i}`,
    provider: 'emulator',
    createdAt: 0,
    expiresAt: null,
    costUsd: null,
    assets: s.assets ?? {},
  }));
  await writeFile(file, JSON.stringify({ version: 1, key, samples: full }));
}

/** A lock entry with plausible key data; only `shot`, `output` and `videoId` matter to gc and videos. */
export function lockEntry(shot: string, output: string, videoId: string): LockEntry {
  return {
    shot: asShotId(shot),
    key: asShotKey(sha256(`key of ${shot}`)),
    output: asSha256(output),
    bytes: 1,
    videoId: asVideoId(videoId),
    model: 'sora-2',
    size: '1280x720',
    seconds: 4,
    keyFormat: 1,
    family: 'emulator',
    promptSha256: sha256(`prompt of ${shot}`),
    referenceSha256: null,
    parentRelation: null,
    parentOutput: null,
  };
}

export async function writeLock(file: string, entries: readonly LockEntry[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, serializeLockfile({ version: 1, shots: new Map(entries.map((e) => [e.shot, e])) }));
}

export const EMULATOR_CONFIG =
  'version: 1\nprovider: emulator\nproviders:\n  emulator:\n    type: emulator\n';
