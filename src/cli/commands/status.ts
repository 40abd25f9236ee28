/**
 * `sora-build status [MANIFEST] [--remote] [--json]`: per shot, what a build would find.
 *
 *   fresh      the lockfile pins this key and its video is in the store
 *   cached     changed, but a sample for the new key is cached: the next build re-pins it, free
 *   stale      the key changed since the lockfile (why: the planner's reasons)
 *   missing    never built
 *   in flight  a job for the shot's current key is in the journal (remote id, last known status)
 *   failed     the last attempt at the current key failed (reason and message, from `<cacheDir>/failures/`)
 *   blocked    a remix/extend waiting for its parent to be rebuilt (or, after a failure, for a failed parent)
 *
 * Cheap and offline by default: the plan, the journal and the failure records are local files. `--remote`
 * asks the provider for the current status and progress of each in-flight job (one retrieve per job).
 * Exit code 0 whatever the states: status reports, it does not judge (use `plan` or `build --frozen` in CI).
 */
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { ShotId, ShotKey, VideoId } from '../../core/brand.ts';
import type { FailureRecord } from '../../cache/failures.ts';
import { Failures } from '../../cache/failures.ts';
import type { BuildPlan, PlannedShot } from '../../plan/plan-types.ts';
import { describeReason } from '../../plan/plan-types.ts';
import type { PendingIntent } from '../../scheduler/journal.ts';
import { Journal } from '../../scheduler/journal.ts';
import { createProvider } from '../../provider/create-provider.ts';
import type { RemoteStatus } from '../../provider/types.ts';
import { ProviderError } from '../../provider/types.ts';
import {
  MANIFEST_OPTION,
  splitManifest,
  cliClock,
  formatTable,
  formatTimestamp,
  loadPlanOrReport,
  parseCommandArgs,
  shownPath,
} from '../everyday.ts';

const HELP = `Usage: sora-build status [MANIFEST] [--remote] [--json] [--config PATH] [--provider NAME]

Per shot: fresh, cached, stale (why), missing, in flight (remote id, status),
failed (last error) or blocked. Offline by default; --remote asks the provider
for the current status of in-flight jobs.

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build status
`;

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

const STATE_LABEL: Readonly<Record<StatusState, string>> = {
  fresh: 'fresh',
  cached: 'cached',
  stale: 'stale',
  missing: 'missing',
  'in-flight': 'in flight',
  failed: 'failed',
  blocked: 'blocked',
};

const ORDER: readonly StatusState[] = [
  'fresh',
  'cached',
  'stale',
  'missing',
  'in-flight',
  'failed',
  'blocked',
];

export function formatStatus(rows: readonly StatusRow[]): string {
  const table = formatTable(
    ['shot', 'state', 'detail'],
    rows.map((r) => [r.shot, STATE_LABEL[r.state], r.detail]),
  );
  const counts = ORDER.map((st) => [st, rows.filter((r) => r.state === st).length] as const)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${n} ${STATE_LABEL[st]}`);
  return `${table}\n${rows.length} shot${rows.length === 1 ? '' : 's'}: ${counts.join(', ')}\n`;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'status',
    args,
    {
      ...MANIFEST_OPTION,
      remote: { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const manifestArg = splitManifest(ctx, 'status', positionals, values.manifest, HELP, { operands: false });
  if (typeof manifestArg === 'number') return manifestArg;
  const loaded = await loadPlanOrReport(ctx, {
    command: 'status',
    manifest: manifestArg.manifest,
    config: values.config,
    provider: values.provider,
  });
  if (typeof loaded === 'number') return loaded;
  const { config, plan } = loaded;
  const clock = cliClock(ctx);
  const journal = Journal.open({ cacheDir: config.cacheDir, clock });
  const pending = (await journal.pending()).filter((p) => p.intent.provider === config.provider.name);
  const failures = Failures.open(config.cacheDir);

  let remote: Map<VideoId, RemoteJobStatus> | undefined;
  const planKeys = new Set(plan.shots.map((s) => s.key));
  const inFlightIds = pending
    .filter((p) => p.videoId !== null && planKeys.has(p.intent.key))
    .map((p) => p.videoId!);
  if (values.remote === true && inFlightIds.length > 0) {
    remote = new Map();
    let provider;
    try {
      provider = await createProvider({
        config: config.provider,
        env: ctx.env,
        clock,
        cacheDir: config.cacheDir,
      });
    } catch (error) {
      ctx.stderr.write(`sora-build status: ${ctx.redact((error as Error).message)}\n`);
      return ExitCode.Usage;
    }
    try {
      for (const id of inFlightIds) {
        try {
          const v = await provider.retrieve(id, ctx.signal);
          remote.set(id, { status: v.status, progress: v.progress });
        } catch (error) {
          if (error instanceof ProviderError && error.kind === 'not-found')
            remote.set(id, { status: 'gone', progress: null });
          else if (error instanceof ProviderError)
            ctx.stderr.write(`warning: could not retrieve ${id}: ${ctx.redact(error.message)}\n`);
          else throw error;
        }
      }
    } finally {
      await provider.close();
    }
  }

  const rows = statusRows({ plan, pending, failure: (k) => failures.last(k), ...(remote ? { remote } : {}) });
  if (values.json === true) {
    ctx.stdout.write(
      `${JSON.stringify({ manifest: shownPath(ctx, loaded.manifest.path), shots: rows }, null, 2)}\n`,
    );
    return ExitCode.Ok;
  }
  ctx.stdout.write(formatStatus(rows));
  return ExitCode.Ok;
}
