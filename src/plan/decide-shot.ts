/**
 * PURE: what to do about one shot whose key is known (design.md: "one decision, one place"). `plan` and
 * `build` both call it, so a dry run never disagrees with the real run.
 *
 *   fresh      pinned in the lockfile under this key, and the pinned video is in the store: put it in place
 *   re-pin     a sample of this key is in the store (made earlier, or by another process): pin it
 *   restore    pinned under this key but the video is not in the store (a fresh clone, a pruned cache):
 *              download the pinned bytes again, free while the service keeps the video
 *   generate   nothing usable: a paid generation
 *   refuse     a generation is needed but not allowed (`--frozen`)
 *
 * In that order. A forced shot (`--force`, `reroll`) is generated whatever is there. After a restore
 * failed (the service no longer has the video), the next step is generate or refuse.
 */
import { variantsOf } from '../cache/types.ts';
import type { Sha256, ShotKey } from '../core/brand.ts';
import type { LockEntry, Sample } from '../cache/types.ts';

export type ShotDecision =
  | { readonly kind: 'fresh'; readonly entry: LockEntry }
  | { readonly kind: 're-pin'; readonly sample: Sample }
  | { readonly kind: 'restore'; readonly entry: LockEntry }
  | { readonly kind: 'generate' }
  | { readonly kind: 'refuse' };

export interface DecideShotInput {
  readonly key: ShotKey;
  /** The shot's lockfile entry, if any (under whatever key it was pinned). */
  readonly pinned: LockEntry | null;
  /** The action cache's samples of `key`, oldest first. Called only when needed (a no-op build reads none). */
  readonly samples: () => readonly Sample[];
  /** Whether the store holds an object. */
  readonly hasObject: (digest: Sha256) => boolean;
  /** `--force` or `reroll`: generate anew. @default false */
  readonly forced?: boolean;
  /** `--frozen`: never generate. @default false */
  readonly frozen?: boolean;
  /** The pinned video could not be restored by download. @default false */
  readonly restoreFailed?: boolean;
}

export function decideShot(input: DecideShotInput): ShotDecision {
  const pinned = input.pinned !== null && input.pinned.key === input.key ? input.pinned : null;
  const generate: ShotDecision = input.frozen === true ? { kind: 'refuse' } : { kind: 'generate' };
  if (input.forced === true) return generate;
  // Every variant's video must be there (one, for a shot without variants).
  if (pinned !== null && variantsOf(pinned).every((v) => input.hasObject(v.output)))
    return { kind: 'fresh', entry: pinned };
  const sample = latestPresentSample(input.samples(), input.hasObject);
  if (sample !== null) return { kind: 're-pin', sample };
  if (pinned !== null && input.restoreFailed !== true) return { kind: 'restore', entry: pinned };
  return generate;
}

/**
 * The newest sample of a key whose video is in the store. Newest, because a key with several samples got
 * them through `reroll`, and the last reroll is the one the user chose.
 */
export function latestPresentSample(
  samples: readonly Sample[],
  hasObject: (digest: Sha256) => boolean,
): Sample | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    if (variantsOf(samples[i]!).every((v) => hasObject(v.output))) return samples[i]!;
  }
  return null;
}
