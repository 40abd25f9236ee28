/**
 * `sora-build plan [MANIFEST] [--shot ID]... [--json] [--config PATH] [--provider NAME]`: what a build would
 * do with each shot and why, what it would cost and how long it would take under the provider's quota.
 * Reads the manifest, the config, the lockfile and the local store; never touches the network, never needs
 * a secret. Same planner as `build` (`computePlan`), so the two can never disagree.
 */
import path from 'node:path';
import type { Diagnostic } from '../../core/diagnostic.ts';
import { loadProject } from '../../manifest/load-project.ts';
import { computePlan } from '../../plan/compute-plan.ts';
import type { ComputedPlan } from '../../plan/compute-plan.ts';
import { planToJson } from '../../plan/plan-json.ts';
import type { PlannedShot } from '../../plan/plan-types.ts';
import { describeReason } from '../../plan/plan-types.ts';
import { unreachable } from '../../core/unreachable.ts';
import type { CliContext } from '../context.ts';
import {
  MANIFEST_OPTION,
  SHARD_OPTION,
  describeShard,
  parseCommandArgs,
  shardArg,
  splitManifest,
  writeDiagnostics,
} from '../args.ts';
import { ExitCode } from '../exit-codes.ts';

const HELP = `Usage: sora-build plan [MANIFEST] [--shot ID]... [--shard K/N] [--json] [--config PATH] [--provider NAME]

Shows what a build would do with each shot (fresh, cached, missing, stale and why, blocked), the
estimated cost from the provider's pricing and the estimated wall time under its quota. No API call.

  --shot ID         plan only this shot and the shots it needs (repeatable)
  --shard K/N       plan only shard K of N (what \`build --shard K/N\` builds; chains stay together)
  --json            print one JSON document (schemas/plan.schema.json) instead of the table
  --config PATH     use this config instead of the nearest sora.config.yaml above the manifest
  --provider NAME   plan for this provider instead of the config's \`provider:\`
  -h, --help        show this help

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build plan --shot lighthouse-night
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'plan',
    args,
    {
      ...MANIFEST_OPTION,
      shot: { type: 'string', multiple: true },
      ...SHARD_OPTION,
      json: { type: 'boolean' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const manifestArg = splitManifest(ctx, 'plan', parsed.positionals, parsed.values.manifest, HELP, {
    operands: false,
  });
  if (typeof manifestArg === 'number') return manifestArg;
  const shard = shardArg(ctx, 'plan', parsed.values.shard, HELP);
  if (typeof shard === 'number') return shard;
  const printDiagnostics = (diagnostics: readonly Diagnostic[]): void =>
    writeDiagnostics(ctx, 'plan', diagnostics);

  const loaded = await loadProject({
    cwd: ctx.cwd,
    env: ctx.env,
    manifestPath: manifestArg.manifest,
    configPath: parsed.values.config,
    provider: parsed.values.provider,
  });
  if (!loaded.ok) {
    printDiagnostics(loaded.diagnostics);
    return ExitCode.Usage;
  }
  const computed = await computePlan({
    config: loaded.config,
    manifest: loaded.manifest,
    shotIds: parsed.values.shot ?? [],
    shard,
  });
  if (!computed.ok) {
    const failure = computed.error;
    switch (failure.reason) {
      case 'invalid-project':
        printDiagnostics([...loaded.warnings, ...failure.diagnostics]);
        return ExitCode.Usage;
      case 'unknown-shot':
        printDiagnostics(loaded.warnings);
        ctx.stderr.write(`sora-build plan: ${failure.message}\n`);
        return ExitCode.Usage;
      default:
        return unreachable(failure);
    }
  }
  printDiagnostics(loaded.warnings);

  if (parsed.values.json === true) {
    const doc = planToJson(computed.value, {
      manifestPath: displayPath(loaded.manifest.path, ctx.cwd),
      lockfilePath: displayPath(loaded.manifest.lockfilePath, ctx.cwd),
      shots: loaded.manifest.shots,
    });
    ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    ctx.stdout.write(formatPlan(computed.value));
  }
  return ExitCode.Ok;
}

/** The table and summary `plan` prints. Exported for tests. */
export function formatPlan(computed: ComputedPlan): string {
  const { plan, provider } = computed;
  const rows = plan.shots.map((s) => [s.id, s.state, formatCost(s), why(s)] as const);
  const header = ['SHOT', 'STATE', 'EST. COST', 'WHY'] as const;
  const width = (i: 0 | 1 | 2): number => Math.max(header[i].length, ...rows.map((r) => r[i].length));
  const w = [width(0), width(1), width(2)] as const;
  const line = (r: readonly [string, string, string, string]): string =>
    `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`.trimEnd();
  const out = [line(header), ...rows.map(line), ''];
  if (computed.shard !== undefined) out.push(describeShard(computed.shard));

  const t = plan.totals;
  const parts = (['missing', 'stale', 'blocked'] as const)
    .filter((s) => t.byState[s] > 0)
    .map((s) => `${t.byState[s]} ${s}`);
  const generate = t.toGenerate === 0 ? '0 to generate' : `${t.toGenerate} to generate (${parts.join(', ')})`;
  const cached = t.byState.cached > 0 ? `, ${t.byState.cached} cached` : '';
  out.push(`${plural(t.shots, 'shot')}: ${generate}, ${t.byState.fresh} fresh${cached}`);
  out.push(`Estimated cost: ${formatTotalCost(computed)}`);
  const quota = `${provider.quota.createsPerMinute} creates/min, ${provider.quota.maxInFlight} in flight`;
  out.push(
    t.toGenerate === 0
      ? 'Estimated wall time: nothing to generate'
      : `Estimated wall time: ${formatDuration(t.wallTimeMs)} for ${t.videoSeconds} s of video (${provider.name}: ${quota})`,
  );
  return `${out.join('\n')}\n`;
}

function why(s: PlannedShot): string {
  const reasons = s.reasons.filter((r) => r !== 'parent-rebuilt').map(describeReason);
  switch (s.state) {
    case 'fresh':
      return 'up to date';
    case 'cached':
      return ['re-pin a cached sample', ...reasons].join(': ');
    case 'missing':
      return 'not built yet';
    case 'stale':
      return reasons.join(', ');
    case 'blocked':
      return `will be built after ${s.blockedBy}${reasons.length > 0 ? ` (also: ${reasons.join(', ')})` : ''}`;
    default:
      return unreachable(s.state);
  }
}

function formatCost(s: PlannedShot): string {
  if (s.state === 'fresh' || s.state === 'cached') return '-';
  return s.estimatedCostUsd === null ? 'unknown' : usd(s.estimatedCostUsd);
}

function formatTotalCost(computed: ComputedPlan): string {
  const c = computed.plan.totals.cost;
  if (c.totalUsd !== null) {
    return computed.family === 'emulator' && c.totalUsd === 0
      ? '$0.00 (the emulator is free)'
      : usd(c.totalUsd);
  }
  return (
    `unknown: ${usd(c.knownUsd)} known, plus ${plural(c.unknownShots, 'shot')} at an unknown price ` +
    `(no pricing for ${c.unpricedModels.join(', ')} in provider ${computed.provider.name})`
  );
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `45s`, `3m 36s`, `2h 05m`: precise enough for an estimate, short enough for a summary line. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function displayPath(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}
