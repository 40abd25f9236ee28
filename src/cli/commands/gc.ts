/**
 * `sora-build gc [--max-size SIZE] [--dry-run]`: prunes the local store (src/cache/gc.ts).
 *
 * What counts as pinned: every lockfile of a manifest under the project root (`NAME.lock` beside
 * `NAME.yaml`/`NAME.yml`, found by a walk of at most 8 levels that skips node_modules, dot-folders, out_dir
 * and cache_dir), plus the default manifest's lockfile. A lockfile that cannot be read stops gc before it
 * removes anything.
 */
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { cliClock, loadConfigOrReport, parseCommandArgs, printDiagnostics, shownPath } from '../everyday.ts';
import { formatSize, gc, parseSize, readProjectReferences } from '../../cache/gc.ts';

const HELP = `Usage: sora-build gc [--max-size SIZE] [--dry-run] [--config PATH]

Removes store objects that no lockfile pins and no action-cache entry references,
then, with --max-size, the least recently used until the store fits (e.g. 500MB,
2GiB, 0). An object pinned by a lockfile is never removed.

Options:
  --max-size SIZE   bytes the store may keep (k/M/G/T = 1000^n, KiB/MiB/GiB = 1024^n)
  --dry-run         print what would be removed; remove nothing
  --config PATH     sora.config.yaml to use (default: found from the current folder)

Example (in a project made by \`sora-build init\`):
  npx sora-build gc --dry-run
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'gc',
    args,
    { 'max-size': { type: 'string' }, 'dry-run': { type: 'boolean' }, config: { type: 'string' } },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    ctx.stderr.write(`sora-build gc: unexpected argument '${positionals[0]}'\n\n${HELP}`);
    return ExitCode.Usage;
  }
  let maxSizeBytes: number | undefined;
  if (values['max-size'] !== undefined) {
    maxSizeBytes = parseSize(values['max-size']);
    if (maxSizeBytes === undefined) {
      ctx.stderr.write(
        `sora-build gc: expected --max-size to be a size like 500MB, 2GiB or 0, got '${values['max-size']}'\n`,
      );
      return ExitCode.Usage;
    }
  }
  const project = await loadConfigOrReport(ctx, {
    command: 'gc',
    config: values.config,
  });
  if (typeof project === 'number') return project;
  const { config } = project;
  const refs = await readProjectReferences({
    root: config.root,
    exclude: [config.outDir, config.cacheDir],
    extraLockfiles: [project.defaultLockfile],
  });
  if (!refs.ok) {
    printDiagnostics(ctx, 'gc', refs.error);
    ctx.stderr.write('sora-build gc: a lockfile could not be read; nothing was removed\n');
    return ExitCode.Usage;
  }
  const dryRun = values['dry-run'] === true;
  const result = await gc({
    cacheDir: config.cacheDir,
    pinned: refs.value.pinnedOutputs,
    maxSizeBytes,
    dryRun,
    now: cliClock(ctx).now(),
  });
  if (!result.ok) {
    for (const f of result.error)
      ctx.stderr.write(`${shownPath(ctx, f.path)}: error: unreadable action-cache entry: ${f.message}\n`);
    ctx.stderr.write(
      'sora-build gc: the action cache could not be read completely; nothing was removed (delete the broken entries to proceed)\n',
    );
    return ExitCode.Failed;
  }
  const r = result.value;
  const verb = dryRun ? 'would remove' : 'removed';
  for (const x of r.removed)
    ctx.stdout.write(`${verb} ${x.digest.slice(0, 12)}  ${formatSize(x.bytes).padStart(8)}  ${x.reason}\n`);
  const lockfiles = refs.value.lockfiles.map((p) => shownPath(ctx, p));
  ctx.stdout.write(
    `${dryRun ? 'Would free' : 'Freed'} ${formatSize(r.bytesFreed)} (${r.removed.length} object${r.removed.length === 1 ? '' : 's'}); ` +
      `the store ${dryRun ? 'would keep' : 'keeps'} ${formatSize(r.keptBytes)} in ${r.keptObjects} object${r.keptObjects === 1 ? '' : 's'}, ` +
      `${formatSize(r.pinnedBytes)} pinned by ${lockfiles.length === 0 ? 'no lockfile' : lockfiles.join(', ')}\n`,
  );
  if (r.keptYoung > 0)
    ctx.stdout.write(
      `${r.keptYoung} unreferenced object${r.keptYoung === 1 ? ' was' : 's were'} kept because a build may still be recording ${r.keptYoung === 1 ? 'it' : 'them'} (younger than 10 minutes)\n`,
    );
  if (maxSizeBytes !== undefined && r.keptBytes > maxSizeBytes)
    ctx.stdout.write(
      `The store stays above --max-size ${formatSize(maxSizeBytes)}: pinned objects are never removed\n`,
    );
  return ExitCode.Ok;
}
