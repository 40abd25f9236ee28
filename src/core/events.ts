/**
 * What a build tells the outside world, as a closed union of plain JSON objects (style.md: `BuildEvent` ->
 * `Reporter`). The engine emits them in order; every reporter (pretty, plain, json, github) consumes the same
 * stream, and the `json` reporter prints them unchanged as NDJSON, so each event must survive
 * `JSON.stringify` as is: no class instances, no `undefined` (absent values are `null`), no Maps.
 * `schemas/events.schema.json` describes one NDJSON line and is tested against this file.
 *
 * Secrets never go into an event: an event carries names, ids, paths, digests, counts and the provider's own
 * error message, never a header, a key or a token.
 *
 * Paths are absolute (reporters show them relative to their `cwd`); times are Unix milliseconds from the
 * build's `Clock`.
 */
import type { Sha256, ShotId, VideoId } from './brand.ts';
import type { Diagnostic, Location, Severity } from './diagnostic.ts';
import { lineAndColumn } from './diagnostic.ts';

/** A shot's state in the plan (design.md section 5; the same values as `ShotState` in src/plan/plan-types.ts). */
export type ShotPlanState =
  /** Pinned in the lockfile and its output is in the store: nothing to do. */
  | 'fresh'
  /** Not pinned, but the action cache holds a sample for this very key: re-pinned, no generation. */
  | 'cached'
  /** Never built (no lock entry, no sample in the action cache). */
  | 'missing'
  /** Built before, but a key field changed (`reasons` say which). */
  | 'stale'
  /** Waits for a parent that must be built first (its key depends on the parent's output). */
  | 'blocked';

export const SHOT_PLAN_STATES: readonly ShotPlanState[] = ['fresh', 'cached', 'missing', 'stale', 'blocked'];

/** A place in a file the user wrote, flattened from a `Location` so it serialises as is. */
export interface EventLocation {
  /** Absolute path. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, UTF-16 code units. */
  readonly col: number;
}

/** Why the create lane held a shot back. */
export type QuotaWaitReason =
  /** The sliding 60 s window already holds `creates_per_minute` creates. */
  | 'per-minute-window'
  /** `max_in_flight` jobs are queued or in progress; waits for one to finish (no known end). */
  | 'max-in-flight'
  /** The service answered 429; waits for its `retry-after-ms` / `retry-after`. */
  | 'rate-limited'
  /** Another sora-build process is making this very shot (it holds the key's claim): waits for its video. */
  | 'another-process';

/** Which provider call a `create-sent` or `retry` event is about. */
export type ProviderOperation = 'create' | 'remix' | 'extend' | 'retrieve' | 'list' | 'download' | 'delete';

/** Why an operation is being tried again. */
export type RetryReason =
  /** 429 from the service. */
  | 'rate-limited'
  /** 5xx from the service. */
  | 'server'
  /** No HTTP response (refused, reset, timeout). */
  | 'connection'
  /** A download was truncated or failed verification; it was not stored. */
  | 'download-corrupt';

/** Why a shot failed. A closed union: every reporter switches over it. */
export type ShotFailureReason =
  /** The provider's job ended in status `failed`. */
  | 'job-failed'
  /** The prompt or reference image was refused by moderation. */
  | 'moderation-blocked'
  /** The remix/extend parent's remote video has expired (24 h); `--regenerate-expired` rebuilds the parent. */
  | 'parent-expired'
  /** The service refused the request as written (400/409/422). */
  | 'invalid-request'
  /** Credentials missing or refused (401/403). */
  | 'auth'
  /** Still rate limited after the retry budget ran out. */
  | 'rate-limited'
  /** Server errors (5xx) after the retry budget ran out. */
  | 'server'
  /** The service stayed unreachable after the retry budget ran out. */
  | 'connection'
  /** Every download attempt was truncated or failed verification; nothing was stored. */
  | 'download-corrupt'
  /** The finished video expired or was deleted remotely before it could be downloaded. */
  | 'video-expired'
  /** A job id from the journal is unknown to the service (expired or deleted before it was downloaded). */
  | 'lost-job'
  /**
   * A create's response was lost and the service's List could not be read to find the job: nothing is created
   * for the shot until a List answers (the intent stays in the journal).
   */
  | 'unreconciled'
  /** The reference image could not be read or resized (`fit`) before upload. */
  | 'reference-image'
  /** Writing to the local store or `out/` failed (disk full, permissions). */
  | 'local-io'
  /** `--frozen`: the shot would need a generation, so nothing was sent for it. */
  | 'frozen';

export const SHOT_FAILURE_REASONS: readonly ShotFailureReason[] = [
  'job-failed',
  'moderation-blocked',
  'parent-expired',
  'invalid-request',
  'auth',
  'rate-limited',
  'server',
  'connection',
  'download-corrupt',
  'video-expired',
  'lost-job',
  'unreconciled',
  'reference-image',
  'local-io',
  'frozen',
];

/** The shot counts of a plan, one per state. */
export interface PlanCounts {
  readonly fresh: number;
  readonly cached: number;
  readonly missing: number;
  readonly stale: number;
  readonly blocked: number;
}

/** The plan is made and the build starts running it. */
export interface BuildStartedEvent {
  readonly type: 'build-started';
  readonly time: number;
  /** Absolute path of the manifest. */
  readonly manifest: string;
  /** The provider config name (`providers.<name>`). */
  readonly provider: string;
  /** Shots per plan state, among the targets. */
  readonly counts: PlanCounts;
  /** USD for everything that will be generated; `null` when a model's price is unknown (never 0). */
  readonly estimatedCostUsd: number | null;
  /** Expected wall time under the provider's quota; `null` when there is no estimate. */
  readonly estimatedWallMs: number | null;
  /** The shots this build covers (`--shot` targets and what they need), in id order. */
  readonly targets: readonly ShotId[];
}

/** One shot's place in the plan, emitted for every target right after `build-started`. */
export interface ShotPlannedEvent {
  readonly type: 'shot-planned';
  readonly time: number;
  readonly shot: ShotId;
  readonly state: ShotPlanState;
  /**
   * Why it will be generated, in words (`prompt changed`, `parent will be rebuilt`: the plan's `describeReason`);
   * empty when there is nothing to say.
   */
  readonly reasons: readonly string[];
  /** For `blocked`: the parent that will be generated first; `null` otherwise. */
  readonly blockedBy: ShotId | null;
  /** Where the shot is declared in the manifest, when known. */
  readonly location: EventLocation | null;
}

/** A shot needs no generation: it was fresh, or re-pinned from a sample already in the action cache. */
export interface ShotCachedEvent {
  readonly type: 'shot-cached';
  readonly time: number;
  readonly shot: ShotId;
  /** `lockfile`: fresh as pinned; `action-cache`: the key had a stored sample, now pinned again. */
  readonly source: 'lockfile' | 'action-cache';
  /** Absolute path of the file in `out/`. */
  readonly output: string;
  readonly digest: Sha256;
  readonly videoId: VideoId;
}

/** The create lane holds a shot back until the quota allows it. */
export interface QuotaWaitEvent {
  readonly type: 'quota-wait';
  readonly time: number;
  readonly shot: ShotId;
  /** When the wait ends, if known (`null` for `max-in-flight`, which waits for a job to finish). */
  readonly until: number | null;
  readonly reason: QuotaWaitReason;
  /** For `rate-limited`: the delay the server asked for; `null` otherwise or when it gave none. */
  readonly retryAfterMs: number | null;
}

/** A create, remix or extend request is about to be sent (its intent is already in the journal). */
export interface CreateSentEvent {
  readonly type: 'create-sent';
  readonly time: number;
  readonly shot: ShotId;
  readonly operation: 'create' | 'remix' | 'extend';
  /** For remix/extend: the parent's remote video id. */
  readonly parentVideoId: VideoId | null;
}

/** The service accepted the job and its remote id is fsynced in the journal. */
export interface JobSubmittedEvent {
  readonly type: 'job-submitted';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
}

/** A poll saw the job queued or rendering. */
export interface JobProgressEvent {
  readonly type: 'job-progress';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
  readonly status: 'queued' | 'in_progress';
  /** 0-100, or `null` when the API gives no figure (Sora 1). */
  readonly progress: number | null;
}

/** A poll saw the job completed; downloading comes next. */
export interface JobCompletedEvent {
  readonly type: 'job-completed';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
}

/** A download of one content variant starts. */
export interface DownloadStartedEvent {
  readonly type: 'download-started';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
  readonly variant: 'video' | 'thumbnail' | 'spritesheet';
}

/** A download was verified and stored in the CAS. */
export interface DownloadFinishedEvent {
  readonly type: 'download-finished';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
  readonly variant: 'video' | 'thumbnail' | 'spritesheet';
  readonly bytes: number;
  readonly digest: Sha256;
}

/**
 * A thumbnail or spritesheet was made locally from the stored video, because the service could no longer
 * provide it (the video expired or was deleted there): a frame of the user's own video, not the service's.
 */
export interface AssetDerivedEvent {
  readonly type: 'asset-derived';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
  readonly variant: 'thumbnail' | 'spritesheet';
  readonly bytes: number;
  readonly digest: Sha256;
  /** Why the service's copy could not be had. */
  readonly because: string;
}

/** A shot was generated, stored, materialised in `out/` and pinned. */
export interface ShotBuiltEvent {
  readonly type: 'shot-built';
  readonly time: number;
  readonly shot: ShotId;
  /** Absolute path of the file in `out/`. */
  readonly output: string;
  readonly digest: Sha256;
  readonly bytes: number;
  readonly videoId: VideoId;
  /** USD, or `null` when the model's price is unknown. */
  readonly costUsd: number | null;
}

/**
 * Why one shot failed in one build: the one failure type that the engine returns, `shot-failed` events carry,
 * `BuildOutcome.failed` lists and the CLI reports (src/engine/shot-failure.ts builds them).
 */
export interface ShotFailure {
  readonly reason: ShotFailureReason;
  /** The provider's message as it sent it, or ours when the failure is local. */
  readonly message: string;
  /** The provider's own error code (`moderation_blocked`), or the file system's (`ENOSPC`), when known. */
  readonly code: string | null;
  /** The remote job, when one was created (it may still be inspected with `sora-build videos`). */
  readonly videoId: VideoId | null;
  /** Whether running the build again may succeed without changing anything. */
  readonly retryable: boolean;
  /** What the user can do about it (e.g. `run again with --regenerate-expired`), when we know. */
  readonly hint: string | null;
}

/** A shot failed; independent shots go on, its dependants are reported as `shot-blocked`. */
export interface ShotFailedEvent extends ShotFailure {
  readonly type: 'shot-failed';
  readonly time: number;
  readonly shot: ShotId;
}

/** A shot will not be built because a shot it depends on failed. */
export interface ShotBlockedEvent {
  readonly type: 'shot-blocked';
  readonly time: number;
  readonly shot: ShotId;
  /** The failed shot at the root of the chain. */
  readonly blockedBy: ShotId;
}

/** A job left in flight by an earlier run was found in the journal; polling resumes, nothing is created. */
export interface ResumedEvent {
  readonly type: 'resumed';
  readonly time: number;
  readonly shot: ShotId;
  readonly videoId: VideoId;
}

/** A journal intent without a remote id was checked against the List endpoint. */
export interface ReconciledEvent {
  readonly type: 'reconciled';
  readonly time: number;
  readonly shot: ShotId;
  /** Whether a remote job matching the intent was found (then it is resumed, not created again). */
  readonly matched: boolean;
  readonly videoId: VideoId | null;
}

/** An operation failed in a way worth retrying and will be tried again after `delayMs`. */
export interface RetryEvent {
  readonly type: 'retry';
  readonly time: number;
  /** `null` for operations that belong to no single shot (e.g. a List during reconciliation). */
  readonly shot: ShotId | null;
  readonly operation: ProviderOperation;
  /** The attempt about to be made: 2 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: RetryReason;
  /** What went wrong, as the provider or the network said it. */
  readonly message: string;
}

/** Ctrl-C or SIGTERM: no new work starts, the journal keeps the jobs in flight. */
export interface InterruptedEvent {
  readonly type: 'interrupted';
  readonly time: number;
  /** Jobs created on the service and kept in the journal, resumed by the next build. */
  readonly inFlight: number;
  /** The command that resumes them, e.g. `sora-build build storyboard.yaml`. */
  readonly resume: string;
}

/** The build is over (also after a failure or an interruption). */
export interface BuildFinishedEvent {
  readonly type: 'build-finished';
  readonly time: number;
  /** Shots generated by this build. */
  readonly built: number;
  /** Shots pinned by the lockfile whose video is in the store (or was restored by download): nothing to do. */
  readonly fresh: number;
  /** Shots re-pinned from a sample already in the action cache: free, no generation. */
  readonly cached: number;
  readonly failed: number;
  readonly blocked: number;
  /** USD spent by this build; `null` when any built shot's price is unknown. */
  readonly costUsd: number | null;
  readonly wallMs: number;
}

/** A problem in the manifest or config, flattened from a `Diagnostic` (see `diagnosticEvent`). */
export interface DiagnosticEvent {
  readonly type: 'diagnostic';
  readonly time: number;
  /** Absolute path. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly severity: Severity;
  readonly message: string;
}

/** Everything a build reports, in the order it happens. */
export type BuildEvent =
  | BuildStartedEvent
  | ShotPlannedEvent
  | ShotCachedEvent
  | QuotaWaitEvent
  | CreateSentEvent
  | JobSubmittedEvent
  | JobProgressEvent
  | JobCompletedEvent
  | DownloadStartedEvent
  | DownloadFinishedEvent
  | AssetDerivedEvent
  | ShotBuiltEvent
  | ShotFailedEvent
  | ShotBlockedEvent
  | ResumedEvent
  | ReconciledEvent
  | RetryEvent
  | InterruptedEvent
  | BuildFinishedEvent
  | DiagnosticEvent;

export type BuildEventType = BuildEvent['type'];

/** Every event type, in the order a build emits them; tested against the schema. */
export const BUILD_EVENT_TYPES = [
  'build-started',
  'shot-planned',
  'shot-cached',
  'quota-wait',
  'create-sent',
  'job-submitted',
  'job-progress',
  'job-completed',
  'download-started',
  'download-finished',
  'asset-derived',
  'shot-built',
  'shot-failed',
  'shot-blocked',
  'resumed',
  'reconciled',
  'retry',
  'interrupted',
  'build-finished',
  'diagnostic',
] as const satisfies readonly BuildEventType[];

// Compile-time proof that the list above names every member of the union.
const _everyTypeListed: [Exclude<BuildEventType, (typeof BUILD_EVENT_TYPES)[number]>] extends [never]
  ? true
  : false = true;
void _everyTypeListed;

/** Flattens a `Location` for an event. */
export function eventLocation(location: Location): EventLocation {
  const { line, col } = lineAndColumn(location.file.contents, location.range.offset);
  return { file: location.file.path, line, col };
}

/** The event for a manifest or config diagnostic (supplemental locations are dropped: one line per problem). */
export function diagnosticEvent(diagnostic: Diagnostic, time: number): DiagnosticEvent {
  const { file, line, col } = eventLocation(diagnostic.location);
  return {
    type: 'diagnostic',
    time,
    file,
    line,
    col,
    severity: diagnostic.severity,
    message: diagnostic.message,
  };
}
