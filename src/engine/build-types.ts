/**
 * The engine's options, a build's input and outcome, and what one shot comes to in one build.
 */
import type { ShotId } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { BuildEvent } from '../core/events.ts';
import type { ProjectConfig, ProviderConfig } from '../config/types.ts';
import type { Manifest } from '../manifest/types.ts';
import type { LockEntry, Lockfile, Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import type { Failures } from '../cache/failures.ts';
import type { CreateLedger } from '../scheduler/create-ledger.ts';
import type { Journal } from '../scheduler/journal.ts';
import type { ShotClaims } from '../scheduler/shot-claims.ts';
import type { RemoteCache } from '../remote/remote-cache.ts';
import type { BuildPlan } from '../plan/plan-types.ts';
import type { VideoProvider } from '../provider/types.ts';
import type { JobProvider } from '../provider/job-api.ts';
import type { PreparedReference } from './job-spec.ts';
import type { ShotFailure } from './shot-failure.ts';
import type { PreparedMedia } from '../plan/prepare-media.ts';

export interface BuildEngineOptions {
  readonly config: ProjectConfig;
  /**
   * Creates the provider on first use: a build with nothing to generate never connects anywhere. An adapter
   * still on the older `VideoProvider` interface is wrapped by the shim (legacy-job-provider.ts).
   */
  readonly provider: () => Promise<JobProvider | VideoProvider>;
  /**
   * Creates any other provider a shot names (`provider:` on a shot), on first use.
   * @default none: only the configured provider can be used
   */
  readonly providerFor?: (config: ProviderConfig) => Promise<JobProvider | VideoProvider>;
  readonly store: Store;
  readonly actionCache: ActionCache;
  readonly journal: Journal;
  /** The configured provider's per-minute ledger. */
  readonly ledger: CreateLedger;
  /** Other providers' ledgers. @default `CreateLedger.open` under `cacheDir` by provider name */
  readonly ledgerFor?: (provider: string) => CreateLedger;
  /** Single flight per shot key across processes. @default claims under `<cacheDir>/claims/` */
  readonly claims?: ShotClaims;
  /** Where failures are remembered for `status` and watch. @default none */
  readonly failures?: Failures;
  /** The team's remote cache (design.md section 11), below the local store. @default none */
  readonly remote?: RemoteCache | undefined;
  readonly clock: Clock;
  readonly emit: (event: BuildEvent) => void;
  /**
   * Concurrent downloads.
   * @default 4
   */
  readonly downloadConcurrency?: number;
  /** Learned render time per kind of job, for the poll schedule. @default none (the policy starts blind) */
  readonly durations?: {
    estimate(kind: string): number | null;
    record(kind: string, ms: number): void;
  };
  /** Random numbers in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Order in which ready shots take create slots: the longest remaining critical path first, or
   * first-come-first-served (what a naive scheduler does; kept as the benchmark's baseline, see bench/).
   * @default 'critical-path'
   */
  readonly ordering?: 'critical-path' | 'fifo';
}

export interface BuildOptions {
  /** Stop starting new generations after the first failure (jobs already created finish). @default false */
  readonly failFast?: boolean;
  /** Shots generated anew even when fresh (`--force`, `reroll`). @default none */
  readonly force?: ReadonlySet<ShotId>;
  /** Regenerate a fresh parent whose remote video expired, instead of failing its remix/extend children. */
  readonly regenerateExpired?: boolean;
  /**
   * A shot whose create answer was lost on a provider that cannot list its jobs (`unreconciled`) is created
   * anew instead of failing: the user looked and accepts that it may pay twice. @default false
   */
  readonly resubmitUnreconciled?: boolean;
  /** Submit keys that failed earlier in this process again (watch passes false). @default true */
  readonly retryFailedKeys?: boolean;
  /**
   * Never create (CI's `--frozen`): pinned videos may be restored by download, but a shot that would need a
   * generation is refused and listed in `BuildOutcome.refused`. @default false
   */
  readonly frozen?: boolean;
}

export interface BuildInput {
  readonly manifest: Manifest;
  readonly plan: BuildPlan;
  readonly lockfile: Lockfile;
  /** Prepared reference images by shot (null: the shot has none). */
  readonly references: ReadonlyMap<ShotId, PreparedReference | null>;
  /** Prepared frames, input videos and reference images by shot (`computePlan`'s `media`). @default none */
  readonly media?: ReadonlyMap<ShotId, PreparedMedia>;
  readonly options?: BuildOptions;
  readonly signal: AbortSignal;
  /** The command that resumes this build, for the interruption message. */
  readonly resumeCommand: string;
}

export interface BuildOutcome {
  readonly built: readonly ShotId[];
  /** Pinned by the lockfile and present (or restored by download). */
  readonly fresh: readonly ShotId[];
  /** Re-pinned from the action cache. */
  readonly cached: readonly ShotId[];
  readonly failed: readonly ({ readonly shot: ShotId } & ShotFailure)[];
  readonly blocked: readonly ShotId[];
  /** USD spent by this build; null when any generated shot's price is unknown. */
  readonly costUsd: number | null;
  readonly interrupted: boolean;
  /** Under `frozen`: shots that would have needed a generation (nothing was created for them). */
  readonly refused: readonly ShotId[];
}

/** What happened to one shot in one build. */
export type ShotOutcome =
  | {
      readonly kind: 'done';
      readonly entry: LockEntry;
      /** Null when not needed (a repin without extra assets): `#sampleOf(entry)` finds it. */
      readonly sample: Sample | null;
      readonly built: boolean;
      /** Set when not built: where the pinned sample came from (`fresh` or `cached` in every report). */
      readonly source?: 'lockfile' | 'action-cache';
    }
  | { readonly kind: 'failed'; readonly failure: ShotFailure }
  | { readonly kind: 'blocked'; readonly by: ShotId }
  | { readonly kind: 'interrupted' };

export type Done = Extract<ShotOutcome, { kind: 'done' }>;

/** One build's shared state, passed to each shot. */
export interface Run {
  readonly input: BuildInput;
  readonly lock: LockEntries;
  readonly force: ReadonlySet<ShotId>;
  readonly dispatchSignal: AbortSignal;
  readonly outcomeOf: (id: ShotId) => Promise<ShotOutcome>;
  readonly refused: ShotId[];
}

/** Tallies the shots' outcomes of one build. */
export function summarise(
  results: ReadonlyMap<ShotId, ShotOutcome>,
  aborted: boolean,
): Omit<BuildOutcome, 'refused'> {
  const built: ShotId[] = [];
  const fresh: ShotId[] = [];
  const cached: ShotId[] = [];
  const failed: ({ shot: ShotId } & ShotFailure)[] = [];
  const blocked: ShotId[] = [];
  let costUsd: number | null = 0;
  let interrupted = aborted;
  for (const [id, outcome] of results) {
    switch (outcome.kind) {
      case 'done':
        if (outcome.built) {
          built.push(id);
          const cost = outcome.sample?.costUsd ?? null;
          costUsd = costUsd === null || cost === null ? null : costUsd + cost;
        } else if (outcome.source === 'action-cache') cached.push(id);
        else fresh.push(id);
        break;
      case 'failed':
        failed.push({ shot: id, ...outcome.failure });
        break;
      case 'blocked':
        blocked.push(id);
        break;
      case 'interrupted':
        interrupted = true;
        break;
    }
  }
  return { built, fresh, cached, failed, blocked, costUsd, interrupted };
}

/** Parents pinned in the lockfile whose remote video expired while a remix/extend child must be made. */
export function expiredParentsToRegenerate(
  input: BuildInput,
  lock: ReadonlyMap<ShotId, LockEntry>,
  actionCache: ActionCache,
  now: number,
): ShotId[] {
  const out = new Set<ShotId>();
  for (const planned of input.plan.shots) {
    if (planned.state === 'fresh' || planned.state === 'cached' || planned.state === 'blocked') continue;
    const shot = input.manifest.shots.get(planned.id);
    const parentId = shot?.remixOf ?? shot?.extendOf;
    if (parentId === undefined) continue;
    const parentPlan = input.plan.byId.get(parentId);
    const entry = lock.get(parentId);
    if (
      parentPlan === undefined ||
      entry === undefined ||
      (parentPlan.state !== 'fresh' && parentPlan.state !== 'cached')
    )
      continue;
    const sample = actionCache.samples(entry.key).find((s) => s.output === entry.output);
    if (sample?.expiresAt != null && sample.expiresAt <= now) out.add(parentId);
  }
  return [...out].sort();
}

/** The lockfile's entries during a build, remembering what was set or removed. */
export class LockEntries extends Map<ShotId, LockEntry> {
  changed = false;
  /** Shots whose entry this build set. */
  readonly setIds = new Set<ShotId>();

  override set(id: ShotId, entry: LockEntry): this {
    if (this.get(id) !== entry) {
      this.changed = true;
      // Map's constructor calls set() before the field initialisers have run.
      this.setIds?.add(id);
    }
    return super.set(id, entry);
  }

  override delete(id: ShotId): boolean {
    const removed = super.delete(id);
    if (removed) this.changed = true;
    return removed;
  }
}
