import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { JobHandle } from '../provider/job-api.ts';

/** One variant (sample of a multi-sample request) of a pinned or cached job: its video and its assets. */
export interface VariantRecord {
  /** sha256 of the variant's video (a CAS object). */
  readonly output: Sha256;
  readonly bytes: number;
  /** Digests of fetched extra assets (action cache only; the lockfile pins videos). */
  readonly assets?: Readonly<Partial<Record<'thumbnail' | 'spritesheet', Sha256>>>;
}

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
  // Issue 13 (written only when set, so a lockfile of single-variant shots from the older APIs keeps its bytes):
  /**
   * Every variant's video, in index order, when the job made more than one (`variants: N`); `output`/`bytes`
   * are variant 0's. Absent for one variant.
   */
  readonly variants?: readonly VariantRecord[];
  /**
   * The job's handle, when `video_id` alone cannot find the job again (an adapter's `extra` facts, a provider
   * type other than the OpenAI/Sora 1 APIs). Absent: `video_id` and the shot's provider rebuild it.
   */
  readonly handle?: JobHandle;
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
  /** The job's handle (`videoId` is its id). Absent in records written before issue 13. */
  readonly handle?: JobHandle;
  /**
   * Every variant, in index order, when the job made more than one; `output`, `bytes` and `assets` are
   * variant 0's. Absent for one variant (and in older records).
   */
  readonly variants?: readonly VariantRecord[];
}

/** The variants of a sample or lock entry, in index order (one when it has no `variants`). */
export function variantsOf(
  record: Pick<Sample, 'output' | 'bytes'> & {
    readonly assets?: Sample['assets'];
    readonly variants?: readonly VariantRecord[];
  },
): readonly VariantRecord[] {
  return (
    record.variants ?? [
      {
        output: record.output,
        bytes: record.bytes,
        ...(record.assets === undefined ? {} : { assets: record.assets }),
      },
    ]
  );
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
