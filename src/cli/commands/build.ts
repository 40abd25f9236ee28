/**
 * `sora-build build`: plan (the same `computePlan` as `sora-build plan`), say what will happen and what it
 * costs, apply the policy flags, then run the engine and report.
 */
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  MANIFEST_OPTION,
  SHARD_OPTION,
  checkedProvider,
  describeShard,
  shardArg,
  cliClock,
  confirm,
  loadPlanOrReport,
  parseCommandArgs,
  parseUsd,
  shownPath,
  splitManifest,
} from '../everyday.ts';
import type { ShotId } from '../../core/brand.ts';
import type { BuildEvent } from '../../core/events.ts';
import { eventLocation } from '../../core/events.ts';
import { createReporter } from '../../reporter/create-reporter.ts';
import { LiveLogReporter, teeReporter } from '../../reporter/live-log.ts';
import { formatCost, formatDuration, plural } from '../../reporter/format.ts';
import { REPORTER_KINDS } from '../../reporter/reporter.ts';
import type { ReporterKind } from '../../reporter/reporter.ts';
import { describeReason, willGenerate } from '../../plan/plan-types.ts';
import type { BuildPlan } from '../../plan/plan-types.ts';
import { openEngine } from '../../engine/open-engine.ts';
import type { PreparedReference } from '../../engine/build-engine.ts';
import { ProviderError } from '../../provider/types.ts';
import { priceOf } from '../../plan/plan-build.ts';
import type { Manifest } from '../../manifest/types.ts';
import type { ProjectConfig } from '../../config/types.ts';
import type { EngineRemote } from '../../engine/open-engine.ts';
import { REMOTE_CACHE_FLAGS, decideRemoteMode } from '../../remote/remote-mode.ts';
import type { RemoteCacheFlag } from '../../remote/remote-mode.ts';
import { unreachable } from '../../core/unreachable.ts';

const HELP = `Usage: sora-build build [MANIFEST] [options]

Generates every shot that is missing or changed, under the provider's quota, and pins the results in
<manifest>.lock. An unchanged storyboard makes no API call.

Options:
  --shot ID              build only this shot and what it needs (repeatable)
  --shard K/N            build only shard K of N: a deterministic part of the storyboard, every
                         remix/extend chain whole (CI matrices; see \`plan --shard\`)
  --provider NAME        use this provider from sora.config.yaml
  --config PATH          use this config file instead of the nearest sora.config.yaml
  --frozen               fail (exit 3) without any API call if anything would be generated (CI)
  --max-cost USD         refuse (exit 3) when the estimate is above USD or unknown
  --force                generate the selected shots anew even if they are fresh (costs money)
  --regenerate-expired   regenerate a parent whose remote video expired instead of failing its children
  --resubmit-unreconciled
                         create anew a selected shot whose create answer was lost on a provider that
                         cannot list its jobs (it may have been made and billed: look first)
  --fail-fast            stop starting new generations after the first failure
  --remote-cache MODE    read, readwrite or off: the team cache in sora.config.yaml's cache.remote
                         (default: readwrite when CI is set, else read; off without SORA_BUILD_CACHE_KEY)
  --yes                  do not ask before spending money on a terminal
  --reporter KIND        auto (default), pretty, plain, json or github
  -h, --help             show this help

Exit codes: 0 all requested shots fresh; 1 a shot failed or was blocked; 2 invalid usage, manifest or
config; 3 refused by policy; 130 interrupted (the journal keeps jobs in flight; run build again to resume).

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build build storyboard.yaml --shot harbor
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'build',
    args,
    {
      ...MANIFEST_OPTION,
      shot: { type: 'string', multiple: true },
      ...SHARD_OPTION,
      provider: { type: 'string' },
      config: { type: 'string' },
      frozen: { type: 'boolean' },
      'max-cost': { type: 'string' },
      force: { type: 'boolean' },
      'regenerate-expired': { type: 'boolean' },
      'resubmit-unreconciled': { type: 'boolean' },
      'fail-fast': { type: 'boolean' },
      'remote-cache': { type: 'string' },
      yes: { type: 'boolean' },
      reporter: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const manifestArg = splitManifest(ctx, 'build', positionals, values.manifest, HELP, { operands: false });
  if (typeof manifestArg === 'number') return manifestArg;
  const reporterKind = (values.reporter ?? 'auto') as ReporterKind;
  if (!REPORTER_KINDS.includes(reporterKind)) {
    ctx.stderr.write(
      `sora-build build: expected --reporter to be one of ${REPORTER_KINDS.join(', ')}, got '${values.reporter}'\n`,
    );
    return ExitCode.Usage;
  }
  let maxCost: number | undefined;
  if (values['max-cost'] !== undefined) {
    maxCost = parseUsd(values['max-cost']);
    if (maxCost === undefined) {
      ctx.stderr.write(
        `sora-build build: expected --max-cost to be an amount in USD such as 5 or 12.50, got '${values['max-cost']}'\n`,
      );
      return ExitCode.Usage;
    }
  }

  const shard = shardArg(ctx, 'build', values.shard, HELP);
  if (typeof shard === 'number') return shard;
  const remoteFlag = values['remote-cache'];
  if (remoteFlag !== undefined && !(REMOTE_CACHE_FLAGS as readonly string[]).includes(remoteFlag)) {
    ctx.stderr.write(
      `sora-build build: expected --remote-cache to be one of ${REMOTE_CACHE_FLAGS.join(', ')}, got '${remoteFlag}'\n`,
    );
    return ExitCode.Usage;
  }

  const clock = cliClock(ctx);
  const project = await loadPlanOrReport(ctx, {
    command: 'build',
    manifest: manifestArg.manifest,
    config: values.config,
    provider: values.provider,
    shotIds: values.shot ?? [],
    shard,
  });
  if (typeof project === 'number') return project;
  const { config, manifest, plan } = project;
  // On stderr: stdout may be the json reporter's NDJSON.
  if (project.shard !== undefined) ctx.stderr.write(`${describeShard(project.shard)}\n`);
  const remote = engineRemote(ctx, config, remoteFlag as RemoteCacheFlag | undefined);
  if (typeof remote === 'number') return remote;
  const force = new Set<ShotId>(
    values.force === true ? plan.shots.map((s) => s.id).filter((id) => selected(values.shot, id)) : [],
  );

  const resume = `sora-build build ${shownPath(ctx, manifest.path)}${(values.shot ?? []).map((s) => ` --shot ${s}`).join('')}${shard === undefined ? '' : ` --shard ${shard.index}/${shard.count}`}`;

  const priceOfShot = (id: ShotId): number | null => {
    const shot = manifest.shots.get(id);
    const perSecond =
      shot === undefined ? null : priceOf(shot.model, config.provider.pricing, project.family);
    return perSecond === null || shot === undefined ? null : perSecond * shot.seconds;
  };
  const cost = estimateCost(plan, force, priceOfShot);
  const generating = plan.shots.filter((s) => willGenerate(s.state) || force.has(s.id));

  // Policy, before anything is sent (design.md section 8: exit 3), and before any reporter draws: a refusal
  // is the whole answer.
  // Under --frozen a pinned shot whose video is only missing from the local store (a fresh CI runner) may
  // still be restored by download; anything that needs a generation is refused before any request.
  const frozenRefusal = (ids: readonly string[]): string =>
    `sora-build build: --frozen: ${ids.length} shot(s) would be generated (${ids.join(', ')}); nothing was sent.\n` +
    `Run \`sora-build build\` without --frozen and commit ${shownPath(ctx, manifest.lockfilePath)}.\n`;
  // A `blocked` shot waits for such a parent: whether it needs a generation is known only once the parent
  // is restored, so the engine (told `frozen`) refuses it then, still before any create.
  const mustGenerate = generating.filter(
    (s) => s.state !== 'blocked' && !(s.reasons.length === 1 && s.reasons[0] === 'output-missing'),
  );
  if (values.frozen === true && mustGenerate.length > 0) {
    ctx.stderr.write(frozenRefusal(generating.map((s) => s.id)));
    return ExitCode.Policy;
  }
  if (maxCost !== undefined && generating.length > 0) {
    if (cost === null) {
      ctx.stderr.write(
        `sora-build build: --max-cost ${maxCost}: the price of ${unpriced(
          plan,
          generating.map((s) => s.id),
        )} is unknown, so the cost cannot be kept under the budget; nothing was sent.\n` +
          `Add it under providers.${config.provider.name}.pricing in ${config.path === undefined ? 'sora.config.yaml' : shownPath(ctx, config.path)}.\n`,
      );
      return ExitCode.Policy;
    }
    if (cost > maxCost + 1e-9) {
      ctx.stderr.write(
        `sora-build build: the estimated cost $${cost.toFixed(2)} is above --max-cost $${maxCost.toFixed(2)}; nothing was sent.\n`,
      );
      return ExitCode.Policy;
    }
  }
  // Credentials, once, before anything is sent (and before asking to spend): a build that will fail on
  // them should say so now, not shot by shot. A build with nothing to generate needs none.
  const provider = generating.length > 0 ? await checkedProvider(ctx, 'build', config, clock) : undefined;
  if (typeof provider === 'number') return provider;
  // The question comes before the live view starts: a table redrawn in place would erase it, and the build
  // would look frozen while it waits for an answer.
  if (
    generating.length > 0 &&
    values.yes !== true &&
    ctx.stdin.isTTY === true &&
    ctx.stdout.isTTY === true &&
    cost !== 0
  ) {
    const price = cost === null ? 'an unknown amount' : `about ${formatCost(cost)}`;
    const time = formatDuration(plan.totals.wallTimeMs);
    const question = `Generate ${plural(generating.length, 'shot')} with provider ${config.provider.name} for ${price}, taking about ${time}?`;
    if (!(await confirm(ctx, question))) {
      await (await provider?.())?.close();
      ctx.stderr.write('sora-build build: nothing was sent.\n');
      return ExitCode.Policy;
    }
  }

  // Besides the user's reporter, the live log that `sora-build review` follows from another process.
  const reporter = teeReporter(
    createReporter({
      kind: reporterKind,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      env: ctx.env,
      isTTY: ctx.stdout.isTTY === true,
      columns: ctx.stdout.columns,
      clock,
      cwd: ctx.cwd,
    }),
    LiveLogReporter.open({ cacheDir: config.cacheDir, manifest: manifest.path, pid: process.pid }),
  );
  const emit = (event: BuildEvent): void => reporter.handle(event);
  announcePlan(plan, manifest, config.provider.name, force, cost, clock.now(), emit);

  // Benchmark hook (bench/run.ts): SORA_BUILD_BENCH_ORDERING=fifo builds first-come-first-served, the
  // baseline the critical-path order is measured against. Not a user option.
  const ordering = ctx.env.SORA_BUILD_BENCH_ORDERING === 'fifo' ? ('fifo' as const) : undefined;
  const engine = openEngine({
    config,
    env: ctx.env,
    clock,
    emit,
    ...(ordering === undefined ? {} : { ordering }),
    ...(provider === undefined ? {} : { provider }),
    remote,
  });
  let outcome;
  try {
    outcome = await engine.build({
      manifest,
      plan,
      lockfile: project.lockfile,
      references: references(project.references, plan),
      media: project.media,
      options: {
        failFast: values['fail-fast'] === true,
        force,
        regenerateExpired: values['regenerate-expired'] === true,
        resubmitUnreconciled: values['resubmit-unreconciled'] === true,
        frozen: values.frozen === true,
      },
      signal: ctx.signal,
      resumeCommand: resume,
    });
  } catch (error) {
    await engine.close({ abandon: true });
    await reporter.close();
    if (error instanceof ProviderError && error.kind === 'auth') {
      ctx.stderr.write(`sora-build build: ${ctx.redact(error.message)}\n`);
      return ExitCode.Usage;
    }
    throw error;
  }
  await engine.close({ abandon: outcome.interrupted });
  await reporter.close();
  if (outcome.interrupted) return ExitCode.Interrupted;
  if (outcome.refused.length > 0) {
    ctx.stderr.write(frozenRefusal(outcome.refused));
    return ExitCode.Policy;
  }
  return outcome.failed.length > 0 || outcome.blocked.length > 0 ? ExitCode.Failed : ExitCode.Ok;
}

/** `cache.remote` for this build: the mode from the flag, the config and the environment's secrets. */
function engineRemote(
  ctx: CliContext,
  config: ProjectConfig,
  flag: RemoteCacheFlag | undefined,
): EngineRemote | number {
  const secret = ctx.env.SORA_BUILD_CACHE_KEY;
  const connectionString = ctx.env.AZURE_STORAGE_CONNECTION_STRING;
  const ci = ctx.env.CI;
  const decision = decideRemoteMode({
    flag,
    configured: config.remoteCache !== undefined,
    hasKey: secret !== undefined && secret !== '',
    hasAccount:
      config.remoteCache?.accountUrl !== undefined ||
      (connectionString !== undefined && connectionString !== ''),
    ci: ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0',
  });
  switch (decision.mode) {
    case 'error':
      ctx.stderr.write(`sora-build build: ${decision.message}\n`);
      return ExitCode.Usage;
    case 'off':
      return decision;
    case 'read':
    case 'readwrite':
      return { mode: decision.mode, secret: secret ?? '', connectionString };
    default:
      return unreachable(decision);
  }
}

function selected(shots: readonly string[] | undefined, id: ShotId): boolean {
  return shots === undefined || shots.length === 0 || shots.includes(id);
}

function references(
  prepared: ReadonlyMap<ShotId, PreparedReference>,
  plan: BuildPlan,
): Map<ShotId, PreparedReference | null> {
  const out = new Map<ShotId, PreparedReference | null>();
  for (const s of plan.shots) out.set(s.id, prepared.get(s.id) ?? null);
  return out;
}

/** USD for what will be generated (forced shots included); null when any price is unknown. */
function estimateCost(
  plan: BuildPlan,
  force: ReadonlySet<ShotId>,
  priceOfShot: (id: ShotId) => number | null,
): number | null {
  let total = 0;
  for (const s of plan.shots) {
    if (!willGenerate(s.state) && !force.has(s.id)) continue;
    // The plan prices what it would generate; a fresh shot forced anew costs what generating it costs.
    const c = willGenerate(s.state) ? s.estimatedCostUsd : priceOfShot(s.id);
    if (c === null) return null;
    total += c;
  }
  return total;
}

function unpriced(plan: BuildPlan, ids: readonly ShotId[]): string {
  const models = plan.totals.cost.unpricedModels;
  return models.length > 0 ? `model ${models.join(', ')}` : `shot ${ids.join(', ')}`;
}

function announcePlan(
  plan: BuildPlan,
  manifest: Manifest,
  provider: string,
  force: ReadonlySet<ShotId>,
  cost: number | null,
  time: number,
  emit: (e: BuildEvent) => void,
): void {
  const counts = { fresh: 0, cached: 0, missing: 0, stale: 0, blocked: 0 };
  for (const s of plan.shots) counts[s.state]++;
  emit({
    type: 'build-started',
    time,
    manifest: manifest.path,
    provider,
    counts,
    estimatedCostUsd: cost,
    estimatedWallMs: plan.totals.wallTimeMs,
    targets: plan.shots.map((s) => s.id),
  });
  for (const s of plan.shots) {
    const shot = manifest.shots.get(s.id);
    emit({
      type: 'shot-planned',
      time,
      shot: s.id,
      state: s.state,
      reasons: [
        ...s.reasons.map(describeReason),
        ...(force.has(s.id) && !willGenerate(s.state) ? ['--force'] : []),
      ],
      blockedBy: s.blockedBy,
      location: shot === undefined ? null : eventLocation(shot.location),
    });
  }
}
