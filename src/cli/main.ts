/**
 * The command line: a thin dispatcher that lazy-loads one module per command (as changesets does), so
 * `sora-build plan` never loads the emulator or the SDK. Only `cli/` and `reporter/` print.
 */
import { ExitCode } from './exit-codes.ts';
import type { CliContext } from './context.ts';
import { processContext } from './context.ts';
import { installTestFaults, parseTestFaults } from '../core/test-faults.ts';

interface CommandInfo {
  readonly summary: string;
}

/** Each command lives in `commands/<name>.ts` and exports `run`. */
interface CommandModule {
  run(args: string[], ctx: CliContext): Promise<number>;
}

const loadCommand = (name: string): Promise<CommandModule> =>
  // A relative specifier, so the compiled copy in dist/ (see bin/sora-build.js) loads `commands/<name>.js`.
  import(`./commands/${name}.ts`) as Promise<CommandModule>;

const COMMANDS: Readonly<Record<string, CommandInfo>> = {
  build: { summary: 'generate what is missing or changed' },
  plan: { summary: 'what would run, why, cost and ETA; no API call' },
  validate: { summary: 'check the manifest and config; exit 2 on any error' },
  watch: { summary: 'rebuild on every change of manifest, images or config' },
  status: { summary: 'per shot: fresh, stale (why), in flight, failed' },
  why: { summary: 'which key fields changed since the lockfile' },
  reroll: { summary: 'a new sample for the same key (costs money)' },
  review: { summary: 'the storyboard as a page: watch, pin takes, share (--export)' },
  videos: { summary: "the provider's remote videos: list, delete, download" },
  gc: { summary: 'prune the store of unreferenced objects' },
  emulator: { summary: 'run the API emulator as a standalone server' },
  init: { summary: 'scaffold sora.config.yaml, a storyboard and .gitignore lines' },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return (
    `Usage: sora-build <command> [MANIFEST] [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    'MANIFEST defaults to the `manifest:` of sora.config.yaml (found in the current folder or above),\n' +
    "else storyboard.yaml in the current folder. The provider is the config's `provider:` (--provider NAME\n" +
    'overrides); by default, and without a config, it is `emulator`: the embedded emulator, offline, free\n' +
    'placeholder videos.\n\n' +
    'Start with `npx sora-build init`, then `npx sora-build build`.\n' +
    "Run `sora-build <command> --help` for a command's options and an example.\n"
  );
}

/** SIGKILL to this process, as `kill -9` would: no `finally`, no exit handlers, no flush. */
function killSelf(): void {
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered asynchronously; block this thread until it lands so no later line runs.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}

export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(usage());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version' || name === '-v') {
    ctx.stdout.write(`${await packageVersion()}\n`);
    return ExitCode.Ok;
  }
  // TEST-ONLY (core/test-faults.ts): the one place that reads SORA_BUILD_TEST_FAULTS. Unset, it disarms.
  const faults = ctx.env.SORA_BUILD_TEST_FAULTS;
  const faultPlan = faults === undefined || faults === '' ? undefined : parseTestFaults(faults);
  if (faultPlan !== undefined && !faultPlan.ok) {
    ctx.stderr.write(`sora-build: SORA_BUILD_TEST_FAULTS: ${faultPlan.error.join(' ')}\n`);
    return ExitCode.Usage;
  }
  installTestFaults(faultPlan?.value, killSelf);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const { didYouMean } = await import('../manifest/did-you-mean.ts');
    const guess = name.startsWith('-') ? undefined : didYouMean(name, Object.keys(COMMANDS));
    const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
    ctx.stderr.write(`sora-build: unknown command '${name}'${hint}\n\n${usage()}`);
    return ExitCode.Usage;
  }
  let mod: CommandModule;
  try {
    mod = await loadCommand(name);
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      /\/commands\/[a-z]+\.(ts|js)/.test(String(error))
    ) {
      ctx.stderr.write(`sora-build: '${name}' is not available in this version yet\n`);
      return ExitCode.Usage;
    }
    throw error;
  }
  try {
    return await mod.run(rest, ctx);
  } catch (error) {
    // One top-level catch turns a throw (a bug, never a user mistake) into a plain report.
    ctx.stderr.write(
      `sora-build: internal error, please report it: ${ctx.redact(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    return ExitCode.Failed;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
