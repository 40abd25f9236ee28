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
