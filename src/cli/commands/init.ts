/**
 * `sora-build init [DIR] [--provider TYPE]`: scaffolds a project that builds out of the box, offline, against
 * the embedded emulator (or, with `--provider`, against that type of service once its key is set):
 * `sora.config.yaml` offering every provider type, a text-only starter `storyboard.yaml`, and the
 * `.gitignore` lines for the cache and the output folder.
 *
 * It never overwrites: if either YAML file exists, nothing at all is written and the command exits 2 naming
 * every file in the way (collect, then report once). An existing `.gitignore` only gains the lines it lacks.
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVIDER_TYPES } from '../../config/config-schema.ts';
import type { ProviderType } from '../../config/types.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { STARTERS, configTemplate, storyboardTemplate } from './init-templates.ts';

/** The default scaffold: the embedded emulator live, every other provider type offered as a commented block. */
export const CONFIG_TEMPLATE = configTemplate('emulator');
export const STORYBOARD_TEMPLATE = storyboardTemplate('emulator');

/** Lines the scaffold needs in `.gitignore`: the cache is local, `out/` is rebuilt from the lockfile. */
export const GITIGNORE_LINES: readonly string[] = ['.sora-build/', 'out/'];

const HELP = `Usage: sora-build init [DIR] [--provider TYPE]

Scaffolds sora.config.yaml, a starter storyboard.yaml and the .gitignore lines
.sora-build/ and out/ in DIR (default: the current folder). The config offers
every provider type; the one chosen is live (default: the embedded emulator).
Never overwrites: exits 2 naming the files that already exist.

Options:
  --provider TYPE   make a provider of this type the project's own:
                    ${PROVIDER_TYPES.join(' | ')}

Example (in a project made by \`sora-build init\`):
  npx sora-build init my-film
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, provider: { type: 'string' } },
    });
  } catch (error) {
    ctx.stderr.write(`sora-build init: ${(error as Error).message}\n\n${HELP}`);
    return ExitCode.Usage;
  }
  if (parsed.values.help === true) {
    ctx.stdout.write(HELP);
    return ExitCode.Ok;
  }
  if (parsed.positionals.length > 1) {
    ctx.stderr.write(`sora-build init: expected at most one folder, got ${parsed.positionals.length}\n`);
    return ExitCode.Usage;
  }
  const type = parsed.values.provider ?? 'emulator';
  if (!(PROVIDER_TYPES as readonly string[]).includes(type)) {
    ctx.stderr.write(
      `sora-build init: expected --provider to be one of ${PROVIDER_TYPES.join(', ')}, but got ${JSON.stringify(type)}\n`,
    );
    return ExitCode.Usage;
  }
  const starter = STARTERS[type as ProviderType];
  const dir = path.resolve(ctx.cwd, parsed.positionals[0] ?? '.');
  const display = (name: string): string => path.relative(ctx.cwd, path.join(dir, name)) || name;

  const files: readonly { name: string; contents: string }[] = [
    { name: 'sora.config.yaml', contents: configTemplate(type as ProviderType) },
    { name: 'storyboard.yaml', contents: storyboardTemplate(type as ProviderType) },
  ];
  const existing: string[] = [];
  for (const f of files) if (await exists(path.join(dir, f.name))) existing.push(display(f.name));
  if (existing.length > 0) {
    ctx.stderr.write(
      `sora-build init: refusing to overwrite ${existing.map((e) => `'${e}'`).join(' and ')}; nothing was written\n`,
    );
    return ExitCode.Usage;
  }

  await mkdir(dir, { recursive: true });
  for (const f of files) {
    // `wx` fails if the file appeared since the check: never overwrite, even in a race.
    await writeFile(path.join(dir, f.name), f.contents, { flag: 'wx' });
    ctx.stdout.write(`created ${display(f.name)}\n`);
  }

  const gitignorePath = path.join(dir, '.gitignore');
  const current = (await exists(gitignorePath)) ? await readFile(gitignorePath, 'utf8') : undefined;
  const missing = missingIgnoreLines(current ?? '');
  if (missing.length > 0) {
    const prefix = current === undefined || current === '' || current.endsWith('\n') ? '' : '\n';
    await writeFile(gitignorePath, `${current ?? ''}${prefix}${missing.join('\n')}\n`);
    ctx.stdout.write(
      `${current === undefined ? 'created' : 'updated'} ${display('.gitignore')} (${missing.join(', ')})\n`,
    );
  }
  const next = nextCommand(ctx.cwd, dir, installRoot());
  ctx.stdout.write(
    starter.needs === undefined
      ? `\nNext: ${next}   # placeholder videos from the embedded emulator\n`
      : `\nNext: ${starter.needs}, then ${next}   # real videos: they cost money\n`,
  );
  return ExitCode.Ok;
}

/**
 * The command that builds the new project, as it must work when pasted into the same shell. `sora-build`
 * is on no PATH (it is a project's devDependency); `npx sora-build` finds it from any folder under the
 * project that installed it (npx looks upwards for it), but from elsewhere it would ask the registry. So
 * a folder inside that project gets `cd DIR && npx sora-build build`, and one outside it the manifest's
 * path, run from here.
 */
export function nextCommand(cwd: string, dir: string, root: string): string {
  const inDir = path.relative(cwd, dir);
  if (inDir === '') return 'npx sora-build build';
  const underRoot = (p: string): boolean => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  if (underRoot(dir) || !underRoot(cwd)) return `cd ${shellWord(inDir)} && npx sora-build build`;
  return `npx sora-build build ${shellWord(path.join(inDir, 'storyboard.yaml'))}`;
}

/**
 * The folder from which `npx sora-build` finds this copy: the project whose node_modules holds the package,
 * or the repository itself when running from a clone.
 */
function installRoot(): string {
  // This file is <package>/dist/cli/commands/init.js (or src/…/init.ts in a clone).
  const pkg = fileURLToPath(new URL('../../..', import.meta.url));
  const parts = path.resolve(pkg).split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  return at > 0 ? parts.slice(0, at).join(path.sep) || path.sep : path.resolve(pkg);
}

/** `text` quoted for a POSIX shell when it holds anything but safe characters. */
function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The scaffold's lines that `.gitignore` does not already cover. A line counts as present in its usual
 * spellings (`out`, `out/`, `/out`, `/out/`), so an existing project is not given duplicates.
 */
export function missingIgnoreLines(gitignore: string): string[] {
  const present = new Set(
    gitignore
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.replace(/^\//, '').replace(/\/$/, '')),
  );
  return GITIGNORE_LINES.filter((l) => !present.has(l.replace(/\/$/, '')));
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
