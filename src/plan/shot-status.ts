/**
 * Per shot, what a build would find: the plan's state refined by the journal's jobs in flight and the
 * last recorded failure. Pure; shared by `sora-build status` and the review page so both say the same.
 */
import type { ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { FailureRecord } from '../cache/failures.ts';
import type { PendingIntent } from '../scheduler/journal.ts';
import type { RemoteStatus } from '../provider/types.ts';
import type { BuildPlan, PlannedShot } from './plan-types.ts';
import { describeReason } from './plan-types.ts';

export type StatusState = 'fresh' | 'cached' | 'stale' | 'missing' | 'in-flight' | 'failed' | 'blocked';

export interface StatusRow {
  readonly shot: ShotId;
  readonly state: StatusState;
  /** One line: reasons, the remote id and status, the error... */
  readonly detail: string;
  readonly key: ShotKey | null;
  readonly videoId: VideoId | null;
}

/** What is known of an in-flight job beyond the journal (with `--remote`). */
export interface RemoteJobStatus {
  readonly status: RemoteStatus | 'gone';
  readonly progress: number | null;
}

/**
 * The rows, in the plan's shot order. Pure: the plan (local state), the journal's pending intents, the
 * failure records and, optionally, remote statuses of in-flight jobs. Precedence: a fresh or cached shot is
 * just that (an old failure or a leftover job no longer matters); otherwise a job in flight for the current
 * key wins over an earlier failure of it (it is being tried again), and a failure wins over stale/missing.
 */
export function statusRows(options: {
  readonly plan: BuildPlan;
  readonly pending: readonly PendingIntent[];
  readonly failure: (key: ShotKey) => FailureRecord | undefined;
  readonly remote?: ReadonlyMap<VideoId, RemoteJobStatus>;
}): StatusRow[] {
  const pendingByKey = new Map<ShotKey, PendingIntent>();
  for (const p of options.pending) pendingByKey.set(p.intent.key, p);
  const failedShots = new Set<ShotId>();
  const rows: StatusRow[] = [];
  for (const s of options.plan.shots) {
    const row = rowFor(s, pendingByKey, options, failedShots);
    if (row.state === 'failed') failedShots.add(s.id);
    rows.push(row);
  }
  return rows;
}

function rowFor(
  s: PlannedShot,
  pendingByKey: ReadonlyMap<ShotKey, PendingIntent>,
  options: Parameters<typeof statusRows>[0],
  failedShots: ReadonlySet<ShotId>,
): StatusRow {
  const base = { shot: s.id, key: s.key, videoId: s.lockEntry?.videoId ?? null };
  switch (s.state) {
    case 'fresh':
      return { ...base, state: 'fresh', detail: `${s.lockEntry!.videoId}` };
    case 'cached':
      return {
        ...base,
        state: 'cached',
        detail: 'a sample for the new key is cached; the next build re-pins it (free)',
      };
    case 'blocked': {
      const parentFailed = s.blockedBy !== null && failedShots.has(s.blockedBy);
      return {
        ...base,
        state: 'blocked',
        detail: parentFailed
          ? `its parent ${s.blockedBy} failed`
          : `waits for its parent ${s.blockedBy} to be rebuilt`,
      };
    }
    case 'missing':
    case 'stale': {
      const key = s.key!;
      const job = pendingByKey.get(key);
      if (job !== undefined) {
        const remote = job.videoId === null ? undefined : options.remote?.get(job.videoId);
        const since = job.createdAt ?? job.intent.at;
        const what =
          job.videoId === null
            ? 'create sent, remote id not yet recorded'
            : remote === undefined
              ? `${job.videoId} (submitted ${formatTimestamp(since)} UTC)`
              : remote.status === 'gone'
                ? `${job.videoId} (no longer on the provider)`
                : `${job.videoId} ${remote.status}${remote.progress === null ? '' : ` ${remote.progress}%`}`;
        return { ...base, state: 'in-flight', detail: what, videoId: job.videoId };
      }
      const failure = options.failure(key);
      if (failure !== undefined)
        return {
          ...base,
          state: 'failed',
          detail: `${failure.reason}: ${failure.message} (${formatTimestamp(failure.at)} UTC)`,
          videoId: failure.videoId,
        };
      if (s.state === 'missing') return { ...base, state: 'missing', detail: 'never built' };
      return { ...base, state: 'stale', detail: s.reasons.map(describeReason).join(', ') };
    }
    default:
      throw new Error(`internal error: unexpected plan state ${String(s.state)}`);
  }
}

/** `2026-12-03 11:35` (UTC), or `-`. */
function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
