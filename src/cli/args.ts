/**
 * Command-line argument helpers shared by every command. Kept apart from everyday.ts (which loads the
 * engine and the reporters) so light commands like `validate` and `plan` start fast.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import { formatDiagnostics } from '../manifest/format-diagnostic.ts';
import { ExitCode } from './exit-codes.ts';
import { parseShard } from '../graph/shard-shots.ts';
import type { Shard, ShardSpec } from '../graph/shard-shots.ts';
import { formatDuration } from '../reporter/format.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode plus `--help`; on a mistake prints `sora-build NAME: problem` and the help to
 * stderr. Returns the exit code to use instead of the parsed values when the command should stop.
 */
export function parseCommandArgs<O extends Options>(
  ctx: CliContext,
  name: string,
  args: string[],
  options: O,
  help: string,
):
  | {
      values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values'];
      positionals: string[];
    }
  | number {
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    });
    if ((parsed.values as { help?: boolean }).help === true) {
      ctx.stdout.write(help);
      return ExitCode.Ok;
    }
    return { values: parsed.values as never, positionals: parsed.positionals };
  } catch (error) {
    ctx.stderr.write(`sora-build ${name}: ${(error as Error).message}\n\n${help}`);
    return ExitCode.Usage;
  }
}

/**
 * An amount in USD from the command line (`5`, `12.50`, `$5`), or undefined when it is not one. Shared by
 * every command that takes `--max-cost`, so they all accept the same spellings.
 */
export function parseUsd(text: string): number | undefined {
  const trimmed = text.trim().replace(/^\$/, '');
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * `--manifest PATH` (`-m`): accepted by every command that reads a manifest, beside the positional
 * MANIFEST, so one spelling works everywhere.
 */
export const MANIFEST_OPTION = { manifest: { type: 'string', short: 'm' } } as const;

/** A positional that names a manifest file rather than a shot (shot ids never need the extension). */
const MANIFEST_FILE = /\.ya?ml$/i;

/**
 * Splits the positionals of a command into its MANIFEST and the rest, by one rule for every command:
 * a command without other operands (`build`, `plan`, `status`...) takes at most one positional, the
 * MANIFEST; a command that takes SHOT operands (`why`, `reroll`) reads a positional ending in `.yaml` or
 * `.yml` as the MANIFEST, wherever it stands (`reroll harbor storyboard.yaml`). `--manifest PATH` is the
 * same as the positional; giving both is a usage error. Prints the problem and returns the exit code.
 */
export function splitManifest(
  ctx: CliContext,
  name: string,
  positionals: readonly string[],
  flag: string | undefined,
  help: string,
  options: { readonly operands: boolean },
): { manifest: string | undefined; operands: string[] } | number {
  const usage = (problem: string): number => {
    ctx.stderr.write(`sora-build ${name}: ${problem}\n\n${help}`);
    return ExitCode.Usage;
  };
  const named = options.operands ? positionals.filter((p) => MANIFEST_FILE.test(p)) : [...positionals];
  const operands = options.operands ? positionals.filter((p) => !MANIFEST_FILE.test(p)) : [];
  if (flag !== undefined) named.push(flag);
  if (named.length > 1) return usage(`expected one MANIFEST, got ${named.map((m) => `'${m}'`).join(', ')}`);
  return { manifest: named[0], operands };
}

/** The file name `commandLineLocation` (src/config/load-config.ts) gives problems with the command line. */
const COMMAND_LINE = '<command line>';

/**
 * Prints diagnostics to stderr: a problem in a file as `file:line:col: severity: message` with the source
 * line and an underline; a problem in the command line itself (an unknown `--provider`, a missing MANIFEST
 * file) as `sora-build NAME: message`, like every other usage error.
 */
export function writeDiagnostics(ctx: CliContext, name: string, diagnostics: readonly Diagnostic[]): void {
  const color = ctx.stderr.isTTY === true && ctx.env['NO_COLOR'] === undefined;
  // Problems in files go through formatDiagnostics, which bounds the output (clipped lines, alike problems
  // merged, at most 200); they sort before the command line's, whose path starts with `<`.
  const inFiles = diagnostics.filter((d) => d.location.file.path !== COMMAND_LINE);
  ctx.stderr.write(ctx.redact(formatDiagnostics(inFiles, { color, cwd: ctx.cwd })));
  for (const d of diagnostics) {
    if (d.location.file.path !== COMMAND_LINE) continue;
    const text = `sora-build ${name}: ${d.severity === 'error' ? '' : `${d.severity}: `}${d.message}\n`;
    ctx.stderr.write(ctx.redact(text));
  }
}

/** `--shard K/N`, taken by build, plan and status so a CI matrix and a laptop see the same partition. */
export const SHARD_OPTION = { shard: { type: 'string' } } as const;

/**
 * The `--shard` value, or undefined without one; a malformed one prints the problem and returns exit code 2.
 */
export function shardArg(
  ctx: CliContext,
  name: string,
  text: string | undefined,
  help: string,
): ShardSpec | undefined | number {
  if (text === undefined) return undefined;
  const spec = parseShard(text);
  if (spec.ok) return spec.value;
  ctx.stderr.write(`sora-build ${name}: ${spec.error}\n\n${help}`);
  return ExitCode.Usage;
}

/** One line saying what a shard holds, printed by plan, build and status. */
export function describeShard(shard: Shard): string {
  const chains = `${shard.chains} chain${shard.chains === 1 ? '' : 's'}`;
  return (
    `Shard ${shard.index}/${shard.count}: ${shard.shots.size} of ${shard.totalShots} shots in ${chains} ` +
    `(a remix or extension stays with its parent); about ${formatDuration(shard.weight * 1000)} of rendering, ` +
    `the heaviest shard ${formatDuration(shard.heaviestWeight * 1000)}`
  );
}
