/**
 * The build as the reporters see it, folded from the event stream: one row per shot plus totals. Every
 * reporter keeps one, so `pretty`'s table, `plain`'s numbering and `github`'s step summary agree.
 */
import type { ShotId, VideoId } from '../core/brand.ts';
import type {
  BuildEvent,
  BuildFinishedEvent,
  BuildStartedEvent,
  DiagnosticEvent,
  EventLocation,
  InterruptedEvent,
  QuotaWaitReason,
  ShotFailedEvent,
  ShotPlanState,
} from '../core/events.ts';
import { unreachable } from '../core/unreachable.ts';
import type { Summary } from './format.ts';

/** Where a shot is, in the words the table uses. */
export type RowState =
  /** Planned for generation, not started. */
  | 'pending'
  /** Held back by the create lane. */
  | 'quota-wait'
  /** Create request on the wire. */
  | 'creating'
  /** Job accepted, not rendering yet. */
  | 'queued'
  | 'rendering'
  | 'downloading'
  | 'built'
  /** Pinned by the lockfile, video in the store: nothing to do (the plan's word). */
  | 'fresh'
  /** Re-pinned from a sample in the action cache: free (the plan's word). */
  | 'cached'
  | 'failed'
  | 'blocked';

/** A row state in words, as tables show it. */
export function rowStateLabel(state: RowState): string {
  return state === 'quota-wait' ? 'quota wait' : state;
}

/** States a shot does not leave during a build. */
export const FINAL_ROW_STATES: ReadonlySet<RowState> = new Set([
  'built',
  'fresh',
  'cached',
  'failed',
  'blocked',
]);

/**
 * A row's state in words for a table. Once the build is over (finished or interrupted), a shot caught
 * mid-way is either a job the next build resumes (`in flight`) or work not begun (`not started`).
 */
export function rowLabel(row: ShotRow, buildOver: boolean): string {
  if (row.state === 'blocked' && row.blockedBy !== null) return `blocked by ${row.blockedBy}`;
  if (!buildOver || FINAL_ROW_STATES.has(row.state)) return rowStateLabel(row.state);
  return row.videoId !== null ? 'in flight' : 'not started';
}

export interface ShotRow {
  readonly shot: ShotId;
  readonly state: RowState;
  readonly planState: ShotPlanState | null;
  /** Latest figure from a poll (100 once built). */
  readonly progress: number | null;
  /** When work on the shot began (first quota wait, create or resume). */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Quota waits that have ended, in ms. */
  readonly quotaWaitMs: number;
  /** Start of the quota wait in progress, if any. */
  readonly waitingSince: number | null;
  readonly waitReason: QuotaWaitReason | null;
  readonly videoId: VideoId | null;
  /** Absolute path in `out/` once built or cached. */
  readonly output: string | null;
  readonly costUsd: number | null;
  readonly failure: ShotFailedEvent | null;
  /** The failed shot that stopped this one. */
  readonly blockedBy: ShotId | null;
  readonly location: EventLocation | null;
  /** 1-based order among jobs submitted or resumed by this build. */
  readonly jobNumber: number | null;
}

type MutableRow = { -readonly [K in keyof ShotRow]: ShotRow[K] };

export class BuildState {
  started: BuildStartedEvent | null = null;
  finished: BuildFinishedEvent | null = null;
  interrupted: InterruptedEvent | null = null;
  readonly diagnostics: DiagnosticEvent[] = [];
  /** Time of the first event seen. */
  firstEventAt: number | null = null;
  #rows = new Map<ShotId, MutableRow>();
  #jobs = 0;

  /** Rows in shot id order (the manifest's order), so tables never jump around. */
  rows(): readonly ShotRow[] {
    return [...this.#rows.values()].sort((a, b) => (a.shot < b.shot ? -1 : a.shot > b.shot ? 1 : 0));
  }

  row(shot: ShotId): ShotRow | undefined {
    return this.#rows.get(shot);
  }

  /** How many jobs this build may submit or resume: every target that is not fresh. */
  get jobsPlanned(): number {
    const c = this.started?.counts;
    return c === undefined ? 0 : c.missing + c.stale + c.blocked;
  }

  /** Quota waiting time of a row up to `now`, including a wait still in progress. */
  static quotaWait(row: ShotRow, now: number): number {
    return row.quotaWaitMs + (row.waitingSince === null ? 0 : Math.max(0, now - row.waitingSince));
  }

  /** Totals so far, or the engine's own once `build-finished` arrived. */
  summary(): Summary {
    if (this.finished !== null) return this.finished;
    let built = 0;
    let fresh = 0;
    let cached = 0;
    let failed = 0;
    let blocked = 0;
    let costUsd: number | null = 0;
    for (const row of this.#rows.values()) {
      if (row.state === 'built') {
        built++;
        costUsd = costUsd === null || row.costUsd === null ? null : costUsd + row.costUsd;
      } else if (row.state === 'fresh') fresh++;
      else if (row.state === 'cached') cached++;
      else if (row.state === 'failed') failed++;
      else if (row.state === 'blocked') blocked++;
    }
    return { built, fresh, cached, failed, blocked, costUsd };
  }

  apply(event: BuildEvent): void {
    this.firstEventAt ??= event.time;
    switch (event.type) {
      case 'build-started':
        this.started = event;
        for (const shot of event.targets) this.#row(shot);
        return;
      case 'shot-planned': {
        const row = this.#row(event.shot);
        row.planState = event.state;
        row.location = event.location;
        return;
      }
      case 'shot-cached': {
        const row = this.#row(event.shot);
        this.#endWait(row, event.time);
        row.state = event.source === 'lockfile' ? 'fresh' : 'cached';
        row.output = event.output;
        row.videoId = event.videoId;
        return;
      }
      case 'quota-wait': {
        const row = this.#row(event.shot);
        this.#begin(row, event.time);
        this.#endWait(row, event.time);
        row.waitingSince = event.time;
        row.waitReason = event.reason;
        row.state = 'quota-wait';
        return;
      }
      case 'create-sent': {
        const row = this.#row(event.shot);
        this.#begin(row, event.time);
        this.#endWait(row, event.time);
        row.state = 'creating';
        return;
      }
      case 'job-submitted':
      case 'resumed': {
        const row = this.#row(event.shot);
        this.#begin(row, event.time);
        this.#endWait(row, event.time);
        row.state = 'queued';
        row.videoId = event.videoId;
        row.jobNumber ??= ++this.#jobs;
        return;
      }
      case 'reconciled': {
        const row = this.#row(event.shot);
        this.#begin(row, event.time);
        if (event.videoId !== null) row.videoId = event.videoId;
        return;
      }
      case 'job-progress': {
        const row = this.#row(event.shot);
        row.videoId = event.videoId;
        row.state = event.status === 'in_progress' ? 'rendering' : 'queued';
        if (event.progress !== null) row.progress = event.progress;
        return;
      }
      case 'job-completed': {
        const row = this.#row(event.shot);
        row.videoId = event.videoId;
        row.progress = 100;
        row.state = 'downloading';
        return;
      }
      case 'download-started':
      case 'download-finished':
      case 'asset-derived':
        // A thumbnail fetched for a fresh or cached shot must not make it look in progress again.
        if (!FINAL_ROW_STATES.has(this.#row(event.shot).state)) this.#row(event.shot).state = 'downloading';
        return;
      case 'shot-built': {
        const row = this.#row(event.shot);
        this.#endWait(row, event.time);
        row.state = 'built';
        row.progress = 100;
        row.finishedAt = event.time;
        row.output = event.output;
        row.videoId = event.videoId;
        row.costUsd = event.costUsd;
        return;
      }
      case 'shot-failed': {
        const row = this.#row(event.shot);
        this.#endWait(row, event.time);
        row.state = 'failed';
        row.finishedAt = event.time;
        row.failure = event;
        if (event.videoId !== null) row.videoId = event.videoId;
        return;
      }
      case 'shot-blocked': {
        const row = this.#row(event.shot);
        this.#endWait(row, event.time);
        row.state = 'blocked';
        row.blockedBy = event.blockedBy;
        return;
      }
      case 'retry':
        return;
      case 'interrupted':
        this.interrupted = event;
        for (const row of this.#rows.values()) this.#endWait(row, event.time);
        return;
      case 'build-finished':
        this.finished = event;
        for (const row of this.#rows.values()) this.#endWait(row, event.time);
        return;
      case 'diagnostic':
        this.diagnostics.push(event);
        return;
      default:
        unreachable(event);
    }
  }

  #row(shot: ShotId): MutableRow {
    let row = this.#rows.get(shot);
    if (row === undefined) {
      row = {
        shot,
        state: 'pending',
        planState: null,
        progress: null,
        startedAt: null,
        finishedAt: null,
        quotaWaitMs: 0,
        waitingSince: null,
        waitReason: null,
        videoId: null,
        output: null,
        costUsd: null,
        failure: null,
        blockedBy: null,
        location: null,
        jobNumber: null,
      };
      this.#rows.set(shot, row);
    }
    return row;
  }

  #begin(row: MutableRow, time: number): void {
    row.startedAt ??= time;
  }

  #endWait(row: MutableRow, time: number): void {
    if (row.waitingSince === null) return;
    row.quotaWaitMs += Math.max(0, time - row.waitingSince);
    row.waitingSince = null;
    row.waitReason = null;
  }
}
