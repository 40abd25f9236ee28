import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';

/** One shot's pinned result in `<manifest>.lock` (design.md section 4). */
export interface LockEntry {
  readonly shot: ShotId;
  readonly key: ShotKey;
  /** sha256 of the chosen output video (a CAS object). */
  readonly output: Sha256;
  /** Byte length of the output video. */
  readonly bytes: number;
  /** The provider's id for the chosen sample; needed by remix/extend children while it lives (24 h). */
  readonly videoId: VideoId;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
}

/** The whole lockfile; entries keyed by shot id, written sorted by id. */
export interface Lockfile {
  readonly version: 1;
  readonly shots: ReadonlyMap<ShotId, LockEntry>;
}

/** One generated sample of a key in the action cache. Failures are never cached. */
export interface Sample {
  /** sha256 of the video bytes. */
  readonly output: Sha256;
  readonly bytes: number;
  readonly videoId: VideoId;
  /** Provider config name that generated it. */
  readonly provider: string;
  /** Unix ms. */
  readonly createdAt: number;
  /** Unix ms after which the remote video (and remix/extend from it) is gone; null if unknown. */
  readonly expiresAt: number | null;
  /** USD, or null when the price was unknown. */
  readonly costUsd: number | null;
  /** Digests of fetched extra assets. */
  readonly assets: Readonly<Partial<Record<'thumbnail' | 'spritesheet', Sha256>>>;
}

/**
 * Read-only view of local state the planner needs (lockfile + store + action cache). The planner takes this
 * interface so it stays pure and testable with in-memory builders.
 */
export interface CacheIndex {
  lockEntry(shot: ShotId): LockEntry | undefined;
  /** Whether a verified object is in the CAS. */
  hasObject(digest: Sha256): boolean;
  /** Samples generated for a key, oldest first. */
  samples(key: ShotKey): readonly Sample[];
}
