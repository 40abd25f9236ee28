/**
 * `sora-build validate [MANIFEST]`: every problem of the manifest and the config (and of the shot graph:
 * cycles), printed at once with `file:line:col`, the source line and an underline; exit 2 on any error.
 * Warnings are printed but do not fail. No network access, no secrets needed.
 */
import path from 'node:path';
import type { Diagnostic } from '../../core/diagnostic.ts';
import { compareDiagnostics } from '../../core/diagnostic.ts';
import { buildGraph } from '../../graph/build-graph.ts';
import { loadProject } from '../../manifest/load-project.ts';
import type { CliContext } from '../context.ts';
import { MANIFEST_OPTION, parseCommandArgs, splitManifest, writeDiagnostics } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';

const HELP = `Usage: sora-build validate [MANIFEST] [--config PATH] [--provider NAME]

Checks the manifest and sora.config.yaml and prints every problem at once.
Exits 0 when there is no error (warnings are printed but allowed), 2 otherwise.

  --config PATH     use this config instead of the nearest sora.config.yaml above the manifest
  --provider NAME   check against this provider's models instead of the config's \`provider:\`
  -h, --help        show this help

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build validate storyboard.yaml
`;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'validate',
    args,
    {
      ...MANIFEST_OPTION,
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const manifestArg = splitManifest(ctx, 'validate', parsed.positionals, parsed.values.manifest, HELP, {
    operands: false,
  });
  if (typeof manifestArg === 'number') return manifestArg;

  const loaded = await loadProject({
    cwd: ctx.cwd,
    env: ctx.env,
    manifestPath: manifestArg.manifest,
    configPath: parsed.values.config,
    provider: parsed.values.provider,
  });
  let diagnostics: readonly Diagnostic[];
  let shots: number | undefined;
  let manifestPath: string | undefined;
  if (loaded.ok) {
    // Cycles are found by the graph; they are manifest errors like any other.
    const graph = buildGraph(loaded.manifest);
    diagnostics = graph.ok ? loaded.warnings : [...loaded.warnings, ...graph.error].sort(compareDiagnostics);
    shots = loaded.manifest.shots.size;
    manifestPath = loaded.manifest.path;
  } else {
    diagnostics = loaded.diagnostics;
  }

  writeDiagnostics(ctx, 'validate', diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (errors > 0) {
    const counts =
      warnings > 0 ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : plural(errors, 'error');
    ctx.stderr.write(`sora-build validate: ${counts}\n`);
    return ExitCode.Usage;
  }
  const shown = displayPath(manifestPath!, ctx.cwd);
  ctx.stdout.write(
    `${shown}: ${plural(shots!, 'shot')}, ${warnings > 0 ? plural(warnings, 'warning') : 'no problems'}\n`,
  );
  return ExitCode.Ok;
}

function displayPath(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}
