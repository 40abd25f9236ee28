import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';

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
  // The fields below (added by the planner, src/plan/plan-build.ts) record the rest of the shot's key data,
  // so `plan`, `status` and `why` can name WHICH input changed (`prompt changed`, `reference image
  // changed`, ...) instead of only "the key differs". Prompts are kept as a digest: the lockfile is committed
  // and diffed, and a prompt built from `${env:NAME}` may hold something that does not belong in git.
  /** Key format version (KEY_FORMAT_VERSION) the key was computed under. */
  readonly keyFormat: number;
  /** Provider family that generated it (`openai-videos`, `azure-sora1`, `emulator`). */
  readonly family: ProviderFamily;
  /** sha256 of the interpolated prompt's UTF-8 bytes. */
  readonly promptSha256: Sha256;
  /** sha256 of the reference image as uploaded (after fit), or null without one. */
  readonly referenceSha256: Sha256 | null;
  /** For remix_of/extend_of: the relation and the parent output digest the key was computed with. */
  readonly parentRelation: 'remix_of' | 'extend_of' | null;
  readonly parentOutput: Sha256 | null;
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
