/**
 * The shapes shared by the job modules (submit, poll, download, lifecycle, registry).
 */
import type { ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { BuildEvent } from '../core/events.ts';
import type { Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import type { CreateLedger } from '../scheduler/create-ledger.ts';
import type { Journal } from '../scheduler/journal.ts';
import type { CreateRequest, VideoProvider } from '../provider/types.ts';
import type { Lanes } from './lanes.ts';
import type { ShotFailure } from './shot-failure.ts';

/** What to generate, fully resolved. */
export interface JobSpec {
  readonly shot: ShotId;
  readonly key: ShotKey;
  readonly operation: 'create' | 'remix' | 'extend';
  /** For create: the request (model, prompt, size, seconds, reference image bytes). */
  readonly request: CreateRequest;
  /** For remix/extend: the parent's remote video. */
  readonly parentVideoId: VideoId | null;
  /** What the downloaded video must be: its size and total duration (parent + added, for extend). */
  readonly expected: { readonly size: string; readonly seconds: number };
  /** Critical-path priority: larger starts first. */
  readonly priority: number;
  /** Seconds billed times the model's price; null when the price is unknown. */
  readonly costUsd: number | null;
  /** Extra content variants to fetch besides the video. */
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
  readonly provider: () => Promise<VideoProvider>;
  /** Provider config name, recorded in samples and intents. */
  readonly providerName: string;
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
