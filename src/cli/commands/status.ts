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
import type { VideoId } from '../../core/brand.ts';
import { Failures } from '../../cache/failures.ts';
import { Journal } from '../../scheduler/journal.ts';
import { createProvider } from '../../provider/create-provider.ts';
import { ProviderError } from '../../provider/types.ts';
import type { RemoteJobStatus, StatusRow, StatusState } from '../../plan/shot-status.ts';
import { statusRows } from '../../plan/shot-status.ts';
import {
  MANIFEST_OPTION,
  SHARD_OPTION,
  describeShard,
  shardArg,
  splitManifest,
  cliClock,
  formatTable,
  loadPlanOrReport,
  parseCommandArgs,
  shownPath,
} from '../everyday.ts';

const HELP = `Usage: sora-build status [MANIFEST] [--remote] [--shard K/N] [--json] [--config PATH] [--provider NAME]

Per shot: fresh, cached, stale (why), missing, in flight (remote id, status),
failed (last error) or blocked. Offline by default; --remote asks the provider
for the current status of in-flight jobs. --shard K/N shows only the shots of
that shard (what \`build --shard K/N\` builds).

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build status
`;

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
      ...SHARD_OPTION,
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
  const shard = shardArg(ctx, 'status', values.shard, HELP);
  if (typeof shard === 'number') return shard;
  const loaded = await loadPlanOrReport(ctx, {
    command: 'status',
    manifest: manifestArg.manifest,
    config: values.config,
    provider: values.provider,
    shard,
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
    const doc = {
      manifest: shownPath(ctx, loaded.manifest.path),
      ...(loaded.shard !== undefined
        ? {
            shard: {
              index: loaded.shard.index,
              count: loaded.shard.count,
              total_shots: loaded.shard.totalShots,
            },
          }
        : {}),
      shots: rows,
    };
    ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return ExitCode.Ok;
  }
  ctx.stdout.write(formatStatus(rows));
  if (loaded.shard !== undefined) ctx.stdout.write(`${describeShard(loaded.shard)}\n`);
  return ExitCode.Ok;
}
