import { readdirSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import type { Sha256, ShotId, ShotKey } from '../core/brand.ts';
import type { CacheIndex, LockEntry, Lockfile, Sample } from './types.ts';

/** What the index needs of the CAS (`Store` satisfies it). */
export interface ObjectPresence {
  hasObject(digest: Sha256): boolean;
}

/** What the index needs of the action cache (`ActionCache` satisfies it). */
export interface SampleLookup {
  samples(key: ShotKey): readonly Sample[];
}

export interface OpenCacheIndexOptions {
  /** The project's lockfile as read by `readLockfile` (empty when there is none). */
  readonly lockfile: Lockfile;
  readonly store: ObjectPresence;
  readonly actionCache: SampleLookup;
}

/**
 * The planner's read-only view of local state: the lockfile, the store and the action cache together.
 * Object presence is memoised, so a plan stats each object once however many shots ask (a parent's output
 * is looked at by the parent and again through its children); the action cache memoises itself.
 */
export function openCacheIndex(options: OpenCacheIndexOptions): CacheIndex {
  const { lockfile, store, actionCache } = options;
  const present = new Map<Sha256, boolean>();
  return {
    lockEntry(shot: ShotId): LockEntry | undefined {
      return lockfile.shots.get(shot);
    },
    hasObject(digest: Sha256): boolean {
      let has = present.get(digest);
      if (has === undefined) present.set(digest, (has = store.hasObject(digest)));
      return has;
    },
    samples(key: ShotKey): readonly Sample[] {
      return actionCache.samples(key);
    },
  };
}

/**
 * Every object in the store, from one listing of `<cacheDir>/cas/sha256/<2 hex>/` (the layout agreed in
 * interfaces.md): for a big lockfile, 256 directory reads are much cheaper than one stat per shot. Only
 * regular files with a well-formed name count, like `Store.hasObject`.
 */
export function listStoreObjects(cacheDir: string): ObjectPresence {
  const present = new Set<string>();
  const root = join(cacheDir, 'cas', 'sha256');
  let prefixes: Dirent[];
  try {
    prefixes = readdirSync(root, { withFileTypes: true });
  } catch {
    prefixes = [];
  }
  for (const prefix of prefixes) {
    if (!prefix.isDirectory() || !/^[0-9a-f]{2}$/.test(prefix.name)) continue;
    for (const object of readdirSync(join(root, prefix.name), { withFileTypes: true })) {
      if (object.isFile() && object.name.length === 62) present.add(prefix.name + object.name);
    }
  }
  return { hasObject: (digest: Sha256) => present.has(digest) };
}

/**
 * The action cache as one plan sees it: a key whose file the listing of its folder (`ac/<first 2 hex>/`)
 * does not show has no samples, so planning 10,000 never-built shots costs at most 256 directory reads
 * instead of 10,000 failed opens. Each folder is listed once, when a key in it is first asked for: the plan
 * is a snapshot, like `listStoreObjects`.
 */
export function listActionCache(actionCache: SampleLookup & { readonly cacheDir: string }): SampleLookup {
  const listed = new Map<string, ReadonlySet<string>>();
  return {
    samples(key: ShotKey): readonly Sample[] {
      const prefix = key.slice(0, 2);
      let names = listed.get(prefix);
      if (names === undefined) {
        try {
          names = new Set(readdirSync(join(actionCache.cacheDir, 'ac', prefix)));
        } catch {
          names = new Set();
        }
        listed.set(prefix, names);
      }
      return names.has(`${key}.json`) ? actionCache.samples(key) : [];
    },
  };
}
