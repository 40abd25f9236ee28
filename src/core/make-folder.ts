/**
 * `mkdir -p` that always ends. Node's `mkdir(dir, { recursive: true })` retries forever where the kernel
 * answers a create with ENOENT under a parent that exists (e.g. under `/proc/self`), which once made
 * `validate` spin on a `cache_dir: /proc/self`. Here each missing ancestor is created once, in order, and
 * any error but "it is already there (as a folder)" is thrown to the caller.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ;) {
    try {
      if ((await stat(at)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a folder: ${at}`), { code: 'ENOTDIR', path: at });
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
    missing.push(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      // Made by a concurrent process since the walk: fine when it is a folder.
      if (codeOf(error) !== 'EEXIST' || !(await stat(folder)).isDirectory()) throw error;
    }
  }
}
