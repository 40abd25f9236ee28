import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeFolder } from '../core/make-folder.ts';
import { afterDurableWrite, beforeDurableWrite } from '../core/test-faults.ts';
import type { DurableWriteKind } from '../core/test-faults.ts';

export interface AtomicWriteOptions {
  /**
   * Permission bits of the written file.
   * @default 0o644
   */
  readonly mode?: number;
  /**
   * Create the parent folder (and its parents) when missing.
   * @default true
   */
  readonly mkdir?: boolean;
  /**
   * Fsync the parent folder after the rename, so the new directory entry itself survives a power cut.
   * @default true
   */
  readonly fsyncDir?: boolean;
  /**
   * What this write is, for the test-only fault switch (core/test-faults.ts) that counts and fails writes.
   * @default 'other'
   */
  readonly kind?: DurableWriteKind;
}

/**
 * The temp name used beside `path`: hidden, unique per call, and ending in `.tmp` so a crash leaves a file that
 * is recognisably garbage (and never matches a real name such as `x.json`).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` so that a reader (or a crash at any instant) sees either the old file or the whole
 * new one, never a mix: write a temp file in the same folder (rename is only atomic within one file
 * system), fsync it, rename it over `path`, then fsync the folder. Used by the lockfile, the action cache,
 * the quota ledger and journal compaction.
 */
export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o644;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new TypeError(`Expected \`mode\` to be an integer between 0 and 0o777, got ${String(mode)}`);
  }
  const dir = dirname(path);
  if (options.mkdir ?? true) await makeFolder(dir);
  const temp = tempPathFor(path);
  let renamed = false;
  try {
    const ordinal = beforeDurableWrite(options.kind ?? 'other', path); // test-only hook; free when unset
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    renamed = true;
    if (options.fsyncDir ?? true) await fsyncDirectory(dir);
    afterDurableWrite(ordinal);
  } finally {
    if (!renamed) await unlink(temp).catch(() => {});
  }
}

/**
 * Fsyncs a folder so entries created, renamed or removed in it are durable. Some platforms (Windows) and file
 * systems cannot open or sync a folder; there the rename is as durable as the platform allows, so the error
 * is ignored.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not supported here (EISDIR/EPERM/EINVAL on some platforms): nothing more we can do.
  } finally {
    await handle?.close();
  }
}
