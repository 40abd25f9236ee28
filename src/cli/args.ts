/**
 * Command-line argument helpers shared by every command. Kept apart from everyday.ts (which loads the
 * engine and the reporters) so light commands like `validate` and `plan` start fast.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context.ts';
import { ExitCode } from './exit-codes.ts';

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
