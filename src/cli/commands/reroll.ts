/**
 * `sora-build reroll SHOT... [--yes] [--max-cost USD]`: a new sample (take) for each shot's unchanged key,
 * pinned in the lockfile. `--list` shows the takes of the current key; `--take N` pins take N again and
 * puts it in `out/` without any API call.
 *
 * Policy (decided here, documented in the README): a reroll is a deliberate purchase, so it prints what it
 * will generate and the estimated cost, then asks on a terminal unless `--yes`; when stdin is not a terminal
 * it needs `--yes` (exit 3 otherwise). A free provider (the emulator: $0.00) is never asked about.
 * `--max-cost USD` refuses (exit 3) when the estimate is above it, or unknown.
 * Only a shot that is fresh can be rerolled: a new sample for an outdated key would be pinned for inputs
 * the manifest no longer has, so a stale or never-built shot is told to `build` first.
 *
 * Rerolling a parent changes its output, so its remix/extend children become stale (their keys include the
 * parent's output digest); reroll names them and leaves the rebuild to `build`.
 */
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { ShotId } from '../../core/brand.ts';
import { Store } from '../../cache/store.ts';
import { pinTake, takesOf } from '../../cache/pin-take.ts';
import { unreachable } from '../../core/unreachable.ts';
import type { Sample } from '../../cache/types.ts';
import { variantsOf } from '../../cache/types.ts';
import { didYouMean } from '../../manifest/did-you-mean.ts';
import { computePlan } from '../../plan/compute-plan.ts';
import { priceOf } from '../../plan/plan-build.ts';
import type { PlannedShot } from '../../plan/plan-types.ts';
import {
  MANIFEST_OPTION,
  checkedProvider,
  cliClock,
  splitManifest,
  confirm,
  formatTable,
  formatTimestamp,
  loadPlanOrReport,
  EngineHost,
  parseCommandArgs,
  printDiagnostics,
  shownPath,
  parseUsd,
} from '../everyday.ts';
import type { PlannedProject } from '../everyday.ts';

const HELP = `Usage:
  sora-build reroll SHOT... [MANIFEST] [--yes] [--max-cost USD]   a new take of each shot (costs money)
  sora-build reroll SHOT... [MANIFEST] --list                    the takes of each shot's current key
  sora-build reroll SHOT [MANIFEST] --take N                     pin take N again (no API call)

Options:
  -m, --manifest PATH  the manifest, also given as a MANIFEST operand ending in .yaml or .yml
                     (default: the config's manifest:, else storyboard.yaml in the current folder)
  --yes              do not ask before spending (required when stdin is not a terminal)
  --max-cost USD     refuse if the estimate is above USD (or unknown)
  --config PATH, --provider NAME

Example (in a project made by \`sora-build init\`):
  npx sora-build reroll harbor --list
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'reroll',
    args,
    {
      list: { type: 'boolean' },
      take: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      'max-cost': { type: 'string' },
      ...MANIFEST_OPTION,
      config: { type: 'string' },
      provider: { type: 'string' },
      reporter: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string): number => {
    ctx.stderr.write(`sora-build reroll: ${problem}\n\n${HELP}`);
    return ExitCode.Usage;
  };
  const split = splitManifest(ctx, 'reroll', positionals, values.manifest, HELP, { operands: true });
  if (typeof split === 'number') return split;
  const shotArgs = split.operands;
  if (shotArgs.length === 0) return usage('expected at least one SHOT');
  if (values.list === true && values.take !== undefined) return usage('--list and --take do not go together');
  let take: number | undefined;
  if (values.take !== undefined) {
    take = Number(values.take);
    if (!Number.isInteger(take) || take < 1)
      return usage(`expected --take to be a take number (1, 2, ...), got ${values.take}`);
    if (shotArgs.length !== 1) return usage('--take pins one shot at a time');
  }
  let maxCost: number | undefined;
  if (values['max-cost'] !== undefined) {
    maxCost = parseUsd(values['max-cost']);
    if (maxCost === undefined)
      return usage(`expected --max-cost to be an amount in USD, got ${values['max-cost']}`);
  }

  const project = await loadPlanOrReport(ctx, {
    command: 'reroll',
    manifest: split.manifest,
    config: values.config,
    provider: values.provider,
  });
  if (typeof project === 'number') return project;
  const shots: ShotId[] = [];
  const unknown: string[] = [];
  for (const s of new Set(shotArgs)) {
    if (project.manifest.shots.has(s as ShotId)) shots.push(s as ShotId);
    else unknown.push(s);
  }
  if (unknown.length > 0) {
    for (const u of unknown) {
      const guess = didYouMean(u, project.manifest.shots.keys());
      ctx.stderr.write(
        `sora-build reroll: there is no shot '${u}' in ${shownPath(ctx, project.manifest.path)}${guess === undefined ? '' : `; did you mean '${guess}'?`}\n`,
      );
    }
    return ExitCode.Usage;
  }
  if (values.list === true) return list(ctx, project, shots);
  if (take !== undefined) return pinTakeCommand(ctx, project, shots[0]!, take);
  return reroll(ctx, project, shots, { yes: values.yes === true, maxCost, reporter: values.reporter });
}

/** Why a shot cannot be rerolled (or have takes listed), or null when it can. */
function notRerollable(ctx: CliContext, project: PlannedProject, s: PlannedShot): string | null {
  const lock = shownPath(ctx, project.manifest.lockfilePath);
  switch (s.state) {
    case 'fresh':
      return null;
    case 'missing':
      return `${s.id} was never built (no entry in ${lock}): nothing to reroll; run \`sora-build build\` first`;
    case 'cached':
    case 'stale':
    case 'blocked':
      return `${s.id} is not fresh (${s.state}): its inputs changed since ${lock}; run \`sora-build build\` first, then reroll the new version`;
    default:
      throw new Error(`internal error: unexpected plan state ${String(s.state)}`);
  }
}

function samplesOf(project: PlannedProject, s: PlannedShot): readonly Sample[] {
  return takesOf(project.config.cacheDir, s);
}

function list(ctx: CliContext, project: PlannedProject, shots: readonly ShotId[]): number {
  const store = Store.open(project.config.cacheDir);
  let problems = 0;
  for (const id of shots) {
    const s = project.plan.byId.get(id)!;
    const why = notRerollable(ctx, project, s);
    if (why !== null) {
      ctx.stderr.write(`sora-build reroll: ${why}\n`);
      problems++;
      continue;
    }
    const samples = samplesOf(project, s);
    ctx.stdout.write(
      `${id} (key ${s.key!.slice(0, 12)}): ${samples.length} take${samples.length === 1 ? '' : 's'}\n`,
    );
    const rows = samples.map((x, i) => [
      `${x.output === s.lockEntry?.output && x.videoId === s.lockEntry.videoId ? '*' : ' '} ${i + 1}`,
      x.videoId,
      `${formatTimestamp(x.createdAt)}`,
      x.costUsd === null ? 'unknown' : `$${x.costUsd.toFixed(2)}`,
      variantsOf(x)
        .map((v) => (store.hasObject(v.output) ? `sha256:${v.output.slice(0, 12)}` : 'removed by gc'))
        .join(' '),
    ]);
    const many = samples.some((x) => variantsOf(x).length > 1);
    ctx.stdout.write(
      formatTable(
        ['take', 'remote id', 'created (UTC)', 'cost', many ? 'videos (variants 1…N)' : 'video'],
        rows,
      ),
    );
  }
  if (problems === 0)
    ctx.stdout.write('* = pinned in the lockfile; `sora-build reroll SHOT --take N` pins another\n');
  return problems > 0 ? ExitCode.Failed : ExitCode.Ok;
}

async function pinTakeCommand(
  ctx: CliContext,
  project: PlannedProject,
  id: ShotId,
  take: number,
): Promise<number> {
  const s = project.plan.byId.get(id)!;
  const why = notRerollable(ctx, project, s);
  if (why !== null) {
    ctx.stderr.write(`sora-build reroll: ${why}\n`);
    return ExitCode.Failed;
  }
  const pinned = await pinTake({
    cacheDir: project.config.cacheDir,
    outDir: project.config.outDir,
    lockfilePath: project.manifest.lockfilePath,
    shot: project.manifest.shots.get(id)!,
    planned: s,
    take,
  });
  if (!pinned.ok) {
    const failure = pinned.error;
    switch (failure.reason) {
      case 'not-fresh': // checked above, with the command's own words
        ctx.stderr.write(`sora-build reroll: ${notRerollable(ctx, project, s) ?? ''}\n`);
        return ExitCode.Failed;
      case 'no-such-take':
        ctx.stderr.write(
          `sora-build reroll: ${id} has ${failure.takes} take${failure.takes === 1 ? '' : 's'} for its current key, so there is no take ${take} (see \`sora-build reroll ${id} --list\`)\n`,
        );
        return ExitCode.Usage;
      case 'take-removed':
        ctx.stderr.write(
          `sora-build reroll: take ${take} of ${id} (${failure.sample.videoId}) is no longer in the local store (removed by gc); pick another take or reroll\n`,
        );
        return ExitCode.Failed;
      case 'invalid-lockfile':
        printDiagnostics(ctx, 'reroll', failure.diagnostics);
        return ExitCode.Usage;
      default:
        return unreachable(failure);
    }
  }
  const { sample, out, written } = pinned.value;
  const lock = shownPath(ctx, project.manifest.lockfilePath);
  ctx.stdout.write(
    written
      ? `${id}: pinned take ${take} (${sample.videoId}) in ${lock}; ${shownPath(ctx, out)} updated\n`
      : `${id}: take ${take} (${sample.videoId}) was already pinned\n`,
  );
  if (written) staleChildrenNote(ctx, project, [id]);
  return ExitCode.Ok;
}

function staleChildrenNote(ctx: CliContext, project: PlannedProject, parents: readonly ShotId[]): void {
  const children = [...new Set(parents.flatMap((p) => project.graph.children(p)))].sort();
  if (children.length > 0)
    ctx.stdout.write(
      `${children.join(', ')} now need${children.length === 1 ? 's' : ''} a rebuild (made from the previous take): run \`sora-build build\`\n`,
    );
}

async function reroll(
  ctx: CliContext,
  project: PlannedProject,
  shots: readonly ShotId[],
  options: { yes: boolean; maxCost: number | undefined; reporter: string | undefined },
): Promise<number> {
  const refusals = shots
    .map((id) => notRerollable(ctx, project, project.plan.byId.get(id)!))
    .filter((x): x is string => x !== null);
  if (refusals.length > 0) {
    for (const r of refusals) ctx.stderr.write(`sora-build reroll: ${r}\n`);
    return ExitCode.Failed;
  }
  // The estimate: one generation per shot at the provider's price.
  let cost: number | null = 0;
  const lines: string[] = [];
  for (const id of shots) {
    const shot = project.manifest.shots.get(id)!;
    const price = priceFor(project, shot.model);
    // Every variant is a video the service bills for.
    const c = price === null ? null : price * shot.seconds * shot.variants;
    cost = cost === null || c === null ? null : cost + c;
    const variants = shot.variants === 1 ? '' : ` x ${shot.variants} variants`;
    lines.push(
      `  ${id}: ${shot.model} ${shot.size} ${shot.seconds} s${variants}, ${c === null ? 'price unknown' : `$${c.toFixed(2)}`}`,
    );
  }
  const total = cost === null ? 'unknown (a model has no price in sora.config.yaml)' : `$${cost.toFixed(2)}`;
  ctx.stdout.write(
    `Reroll: ${shots.length} new generation${shots.length === 1 ? '' : 's'} on provider '${project.config.provider.name}', estimated ${total}\n${lines.join('\n')}\n`,
  );
  if (options.maxCost !== undefined && (cost === null || cost > options.maxCost)) {
    ctx.stderr.write(
      `sora-build reroll: refused: the estimate (${total}) is over --max-cost $${options.maxCost.toFixed(2)}\n`,
    );
    return ExitCode.Policy;
  }
  // Credentials once, before asking and before anything is sent.
  const provider = await checkedProvider(ctx, 'reroll', project.config, cliClock(ctx));
  if (typeof provider === 'number') return provider;
  const release = async (): Promise<void> => {
    await (await provider?.())?.close();
  };
  if (cost !== 0 && !options.yes) {
    if (ctx.stdin.isTTY !== true) {
      await release();
      ctx.stderr.write(
        'sora-build reroll: this costs money; stdin is not a terminal, so pass --yes to confirm\n',
      );
      return ExitCode.Policy;
    }
    if (!(await confirm(ctx, `Generate ${shots.length === 1 ? 'it' : 'them'} for ${total}?`))) {
      await release();
      ctx.stdout.write('Nothing generated.\n');
      return ExitCode.Ok;
    }
  }
  // Plan only the rerolled shots (and the ancestors they need): their children are left for `build`.
  const computed = await computePlan({ config: project.config, manifest: project.manifest, shotIds: shots });
  if (!computed.ok)
    throw new Error(`internal error: the plan failed after it succeeded: ${computed.error.reason}`);
  const host = EngineHost.open(ctx, project.config, { reporter: options.reporter, provider });
  if (typeof host === 'number') {
    await release();
    return host;
  }
  let outcome;
  try {
    outcome = await host.build({
      manifest: project.manifest,
      computed: computed.value,
      force: new Set(shots),
      signal: ctx.signal,
      resumeCommand: `sora-build reroll ${shots.join(' ')}`,
    });
  } finally {
    await host.close({ abandon: ctx.signal.aborted });
  }
  if (outcome.interrupted) return ExitCode.Interrupted;
  if (outcome.failed.length > 0) return ExitCode.Failed;
  staleChildrenNote(ctx, project, shots);
  return ExitCode.Ok;
}

function priceFor(project: PlannedProject, model: string): number | null {
  return priceOf(model, project.config.provider.pricing, project.family);
}
