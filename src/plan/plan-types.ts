import type { ShotId, ShotKey } from '../core/brand.ts';
import type { LockEntry, Sample } from '../cache/types.ts';
import type { ShotKeyData } from './shot-key.ts';
import { unreachable } from '../core/unreachable.ts';

/**
 * What a build would do with a shot (design.md section 5):
 * - `fresh`: the lockfile pins this very key and its video is in the store. Nothing to do.
 * - `cached`: the lockfile does not pin this key (or its video is gone), but the action cache holds a sample
 *   generated for exactly this key whose video is in the store (e.g. a prompt edited and then reverted).
 *   No generation and no cost: the build only re-pins that sample in the lockfile.
 * - `missing`: never built (no lockfile entry, nothing cached): it will be generated.
 * - `stale`: the lockfile pins another key (see `reasons`) or its video left the store: it will be generated.
 * - `blocked`: a remix/extend whose parent will be generated first; its key depends on the parent's new
 *   output video, so it cannot be known yet. Counted as "will be generated" in cost and time.
 */
export type ShotState = 'fresh' | 'cached' | 'missing' | 'stale' | 'blocked';

export const SHOT_STATES: readonly ShotState[] = ['fresh', 'cached', 'missing', 'stale', 'blocked'];

/** Whether the state means a paid generation. */
export function willGenerate(state: ShotState): boolean {
  switch (state) {
    case 'fresh':
    case 'cached':
      return false;
    case 'missing':
    case 'stale':
    case 'blocked':
      return true;
    default:
      return unreachable(state);
  }
}

/**
 * Why a shot is `stale` (or, for a `blocked` shot that was built before, what else changed), found by
 * comparing the shot's key data with what its lockfile entry recorded. In the order they are listed.
 */
export type StaleReason =
  /** The key rules changed (a new sora-build): every key is new. */
  | 'key-format-changed'
  /** Another provider family (e.g. emulator placeholders -> a real service). */
  | 'provider-changed'
  | 'model-changed'
  /** The interpolated prompt changed (the text, a `${var}` or an `${env:NAME}` value). */
  | 'prompt-changed'
  | 'size-changed'
  | 'seconds-changed'
  /** The reference image's bytes as uploaded (after fit) changed. */
  | 'reference-changed'
  | 'reference-added'
  | 'reference-removed'
  /** The parent will be generated first (only on `blocked` shots). */
  | 'parent-rebuilt'
  /** The parent's pinned video is another one than this shot was made from (a reroll or rebuild). */
  | 'parent-output-changed'
  | 'parent-added'
  | 'parent-removed'
  /** `remix_of` became `extend_of` or the reverse. */
  | 'parent-relation-changed'
  /** The key is unchanged but its video is not in the local store (and no cached sample is). */
  | 'output-missing'
  /**
   * The key differs but no field the lockfile records explains it: frames, an input video, reference images,
   * variants, the negative prompt, seed or audio changed (they are in the key, not in the lockfile), or the
   * lockfile was edited by hand.
   */
  | 'key-changed';

/** The words `plan` prints for a reason. */
export function describeReason(reason: StaleReason): string {
  switch (reason) {
    case 'key-format-changed':
      return 'key format changed';
    case 'provider-changed':
      return 'provider changed';
    case 'model-changed':
      return 'model changed';
    case 'prompt-changed':
      return 'prompt changed';
    case 'size-changed':
      return 'size changed';
    case 'seconds-changed':
      return 'seconds changed';
    case 'reference-changed':
      return 'reference image changed';
    case 'reference-added':
      return 'reference image added';
    case 'reference-removed':
      return 'reference image removed';
    case 'parent-rebuilt':
      return 'parent will be rebuilt';
    case 'parent-output-changed':
      return 'parent output changed';
    case 'parent-added':
      return 'parent added';
    case 'parent-removed':
      return 'parent removed';
    case 'parent-relation-changed':
      return 'relation to the parent changed';
    case 'output-missing':
      return 'output missing from the store';
    case 'key-changed':
      return 'key changed';
    default:
      return unreachable(reason);
  }
}

/** One shot of a plan. */
export interface PlannedShot {
  readonly id: ShotId;
  readonly state: ShotState;
  /** Empty unless `stale` (or `blocked` / `cached` with a lockfile entry that differs). */
  readonly reasons: readonly StaleReason[];
  /** The shot key; null when `blocked` (the parent's new output is not known yet). */
  readonly key: ShotKey | null;
  readonly keyData: ShotKeyData | null;
  /** For `blocked`: the parent that will be generated first. */
  readonly blockedBy: ShotId | null;
  /** The shot's lockfile entry, if any (for `fresh`, the pinned result). */
  readonly lockEntry: LockEntry | null;
  /** For `cached`: the action-cache sample the build re-pins. */
  readonly cachedSample: Sample | null;
  /** USD for a generation: seconds x price; 0 when nothing is generated; null when the price is unknown. */
  readonly estimatedCostUsd: number | null;
  /** Expected generation time in ms (0 when nothing is generated). */
  readonly expectedRenderMs: number;
  /** Own expected time plus the longest chain of dependants to generate (scheduling priority). */
  readonly criticalPathMs: number;
}

export interface CostEstimate {
  /** Sum of the costs that are known. */
  readonly knownUsd: number;
  /** Shots to generate whose model has no price. */
  readonly unknownShots: number;
  /** The models without a price, sorted. */
  readonly unpricedModels: readonly string[];
  /** `knownUsd` when every price is known; null otherwise (never a silent $0). */
  readonly totalUsd: number | null;
}

export interface PlanTotals {
  readonly shots: number;
  readonly toGenerate: number;
  readonly byState: Readonly<Record<ShotState, number>>;
  readonly cost: CostEstimate;
  /** Simulated wall time of the generations under the provider's quota, in ms. */
  readonly wallTimeMs: number;
  /** Seconds of video to generate. */
  readonly videoSeconds: number;
}

/** The result of planning: per target shot in id order, and the totals. */
export interface BuildPlan {
  readonly shots: readonly PlannedShot[];
  readonly byId: ReadonlyMap<ShotId, PlannedShot>;
  readonly totals: PlanTotals;
}
