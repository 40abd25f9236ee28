/**
 * The shapes shared by the job modules (submit, poll, download, lifecycle, registry).
 */
import type { ShotId, ShotKey } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/types.ts';
import type { BuildEvent } from '../core/events.ts';
import type { Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import type { CreateLedger } from '../scheduler/create-ledger.ts';
import type { Journal } from '../scheduler/journal.ts';
import type { GenerationRequest, JobHandle, JobProvider } from '../provider/job-api.ts';
import type { Lanes } from './lanes.ts';
import type { ShotFailure } from './shot-failure.ts';

/** What to generate, fully resolved. */
export interface JobSpec {
  readonly shot: ShotId;
  /** The provider config name that makes it (`providers.<name>`). */
  readonly provider: string;
  readonly key: ShotKey;
  readonly operation: 'create' | 'remix' | 'extend';
  /** Everything the submit sends; for remix/extend `request.parent` names the parent's job and variant. */
  readonly request: GenerationRequest;
  /** For remix/extend: the parent's job (`request.parent.handle`), else null. */
  readonly parent: JobHandle | null;
  /** What each downloaded video must be: its size and total duration (parent + added, for extend). */
  readonly expected: { readonly size: string; readonly seconds: number };
  /** Critical-path priority: larger starts first. */
  readonly priority: number;
  /** Seconds billed times the model's price; null when the price is unknown. */
  readonly costUsd: number | null;
  /** Extra assets to fetch besides each variant's video. */
  readonly assets: readonly ('thumbnail' | 'spritesheet')[];
}

/** How one job ended for the build waiting on it. */
export type JobResult =
  /**
   * Stored and recorded in the action cache. `elsewhere`: made by another process (found in the action
   * cache after waiting on its claim), so this build neither paid for it nor generated it.
   */
  | { readonly kind: 'done'; readonly sample: Sample; readonly elsewhere?: boolean }
  | { readonly kind: 'failed'; readonly failure: ShotFailure }
  /** Stopped before anything was sent (Ctrl-C, watch moved on, --fail-fast): nothing was paid. */
  | { readonly kind: 'cancelled' }
  /** The engine stopped (close with abandon): a created job stays in the journal for the next run. */
  | { readonly kind: 'interrupted' };

export interface JobContext {
  readonly provider: () => Promise<JobProvider>;
  /** Provider config name, recorded in samples and intents. */
  readonly providerName: string;
  readonly providerConfig: ProviderConfig;
  /**
   * The handle of a job known only by its remote id (a journal record or lockfile entry written before
   * handles existed): the older APIs need nothing else to resume it.
   */
  readonly handleFor: (videoId: string, model: string, createdAt: number | null) => JobHandle;
  readonly store: Store;
  readonly actionCache: ActionCache;
  readonly journal: Journal;
  readonly ledger: CreateLedger;
  readonly lanes: Lanes;
  readonly clock: Clock;
  readonly emit: (event: BuildEvent) => void;
  readonly createsPerMinute: number;
  /** Model name -> the deployment name the service reports back (Azure), for reconciliation. */
  readonly remoteModel: (model: string) => string;
  /** Remote ids already known to belong to other jobs; reconciliation never claims them. */
  readonly claimedVideoIds: () => ReadonlySet<string>;
  /** Learned render durations, for the poll schedule. */
  readonly estimateRenderMs: (spec: JobSpec) => number | null;
  readonly recordRenderMs: (spec: JobSpec, ms: number) => void;
  /** Random numbers for jitter (injected for deterministic tests). */
  readonly random: () => number;
}
