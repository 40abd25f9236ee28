/**
 * Pins an earlier take (a sample in the action cache for the shot's current key) in the lockfile and puts
 * it in `out/`, without any API call. One function, so `sora-build reroll SHOT --take N` and the review
 * page's "Pin this take" button do exactly the same thing (and write the lockfile the same way); it prints
 * nothing, failures are data.
 */
import path from 'node:path';
import type { ShotId } from '../core/brand.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { PlannedShot, ShotState } from '../plan/plan-types.ts';
import { lockEntryFor } from '../plan/lock-entry-for.ts';
import { ActionCache } from './action-cache.ts';
import { assetPath } from './asset-path.ts';
import { readLockfile, writeLockfile } from './lockfile.ts';
import { Store } from './store.ts';
import type { Sample } from './types.ts';

export interface PinTakeOptions {
  readonly cacheDir: string;
  readonly outDir: string;
  readonly lockfilePath: string;
  readonly shot: ShotConfig;
  /** The shot as planned just now: only a `fresh` shot has takes that may be pinned. */
  readonly planned: PlannedShot;
  /** 1-based, in the action cache's order (oldest first), as `reroll --list` numbers them. */
  readonly take: number;
}

export interface PinnedTake {
  readonly shot: ShotId;
  readonly take: number;
  readonly sample: Sample;
  /** Absolute path of the video in `out/`. */
  readonly out: string;
  /** False when this take was pinned already (the lockfile was left byte-identical). */
  readonly written: boolean;
}

/** Why a take could not be pinned. */
export type PinTakeFailure =
  /** The shot is not fresh: its takes belong to a key the manifest no longer asks for (or it never was built). */
  | { readonly reason: 'not-fresh'; readonly state: Exclude<ShotState, 'fresh'> }
  /** There is no take with that number for the current key. */
  | { readonly reason: 'no-such-take'; readonly takes: number }
  /** The take's video left the local store (`sora-build gc`). */
  | { readonly reason: 'take-removed'; readonly sample: Sample }
  /** The lockfile on disk cannot be read (a merge conflict, a hand edit). */
  | { readonly reason: 'invalid-lockfile'; readonly diagnostics: readonly Diagnostic[] };

/** The takes of a shot's current key, oldest first (empty unless the shot has a key). */
export function takesOf(cacheDir: string, planned: PlannedShot): readonly Sample[] {
  return planned.key === null ? [] : ActionCache.open(cacheDir).samples(planned.key);
}

export async function pinTake(options: PinTakeOptions): Promise<Result<PinnedTake, PinTakeFailure>> {
  const { planned, shot, take } = options;
  if (planned.state !== 'fresh') return fail({ reason: 'not-fresh', state: planned.state });
  const samples = takesOf(options.cacheDir, planned);
  const sample = samples[take - 1];
  if (sample === undefined || !Number.isInteger(take))
    return fail({ reason: 'no-such-take', takes: samples.length });
  const store = Store.open(options.cacheDir);
  const out = path.join(options.outDir, ...shot.output.split('/'));
  const placed = await store.materialise(sample.output, out);
  if (!placed.ok) return fail({ reason: 'take-removed', sample });
  for (const variant of ['thumbnail', 'spritesheet'] as const) {
    const digest = sample.assets[variant];
    if (shot.assets.includes(variant) && digest !== undefined)
      await store.materialise(digest, assetPath(out, variant));
  }
  // Re-read the lockfile right before writing: another process may have pinned other shots meanwhile.
  const current = await readLockfile(options.lockfilePath);
  if (!current.ok) return fail({ reason: 'invalid-lockfile', diagnostics: current.error });
  const shots = new Map(current.value.shots);
  shots.set(shot.id, lockEntryFor(shot.id, planned.keyData!, sample));
  const { written } = await writeLockfile(options.lockfilePath, { version: 1, shots });
  return ok({ shot: shot.id, take, sample, out, written });
}
