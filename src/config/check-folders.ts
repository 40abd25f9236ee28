/**
 * `out_dir` and `cache_dir` are checked against the disk every time the project is loaded (not memoised:
 * the disk changes while the config does not): each must be a folder, or a path where one can be created,
 * outside the kernel's own trees, and not the manifest. Otherwise `validate` would pass a project that
 * `plan` then crashes on (a file where a folder should be), or that spins on `/proc`.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { describeFileType } from '../core/file-type.ts';
import type { ProjectConfig } from './types.ts';

/** Trees of the kernel, where files are not files: nothing of a build belongs there. */
const SYSTEM_TREES = ['/proc', '/dev', '/sys'] as const;

export interface FolderCheckInput {
  readonly config: ProjectConfig;
  /** Where a folder set by a default is blamed: the config file's start, or the built-in defaults. */
  readonly fallback: Location;
  /** The manifest's absolute path: a folder may not be it. */
  readonly manifestPath: string | undefined;
}

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function systemTreeOf(abs: string): string | undefined {
  return SYSTEM_TREES.find((t) => abs === t || abs.startsWith(`${t}/`));
}

/** One problem with `abs` (completing "Expected `field` to be a folder ..., but ..."), or undefined. */
async function problemWith(
  abs: string,
  manifestPath: string | undefined,
  shown: (p: string) => string,
): Promise<string | undefined> {
  if (abs.includes('\0')) return 'the path contains a NUL character';
  if (manifestPath !== undefined && path.resolve(manifestPath) === abs) return 'it is the manifest';
  const direct = systemTreeOf(abs);
  if (direct !== undefined) return `it is inside ${direct}, a tree of the kernel`;
  // The nearest part of the path that exists decides: a folder (then the rest can be created) or not.
  let at = abs;
  for (;;) {
    let s: Stats;
    try {
      s = await stat(at);
    } catch (error) {
      const code = codeOf(error);
      // ENOTDIR: a part above is not a folder; walking up finds which one and what it is.
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const up = path.dirname(at);
        if (up === at) return undefined;
        at = up;
        continue;
      }
      return `${JSON.stringify(shown(at))} cannot be examined (${code ?? String(error)})`;
    }
    if (!s.isDirectory()) {
      return at === abs
        ? `it is ${describeFileType(s)}`
        : `${JSON.stringify(shown(at))} is ${describeFileType(s)}`;
    }
    // A symlink may lead into /proc or /dev.
    const real = await realpath(at).catch(() => at);
    const tree = systemTreeOf(real);
    if (tree !== undefined) return `it leads inside ${tree}, a tree of the kernel`;
    return undefined;
  }
}

export async function checkProjectFolders(input: FolderCheckInput): Promise<Diagnostic[]> {
  const { config } = input;
  const checks = [
    { field: 'out_dir', abs: config.outDir, location: config.folderLocations?.outDir ?? input.fallback },
    {
      field: 'cache_dir',
      abs: config.cacheDir,
      location: config.folderLocations?.cacheDir ?? input.fallback,
    },
  ] as const;
  const diagnostics: Diagnostic[] = [];
  const shown = (abs: string): string => {
    const rel = path.relative(config.root, abs);
    return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  };
  for (const c of checks) {
    const problem = await problemWith(c.abs, input.manifestPath, shown);
    if (problem === undefined) continue;
    diagnostics.push({
      severity: 'error',
      message: `Expected \`${c.field}\` to be a folder, or a path where one can be created, but ${JSON.stringify(shown(c.abs))} is not: ${problem}`,
      location: c.location,
    });
  }
  return diagnostics;
}
