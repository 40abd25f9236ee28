import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.ts';

/**
 * A lock file shared by every sora-build process on one machine (the quota ledger, the journal, the action
 * cache). Held for milliseconds around a read-modify-write, never across a network call.
 *
 * How it works:
 * - Acquire: callers within one process queue in memory first (no sleeping); then `open(lockPath, 'wx')`
 *   (O_CREAT|O_EXCL: exactly one process can create the file), and write `{pid, host, nonce, wallAt}` into
 *   it. If the file exists, check whether it is stale, else sleep `retryMs` on the injected clock and try
 *   again.
 * - Stale: the holder died without releasing (kill -9). A lock is stale when its holder is on this host and
 *   its pid is not alive, or when it is older than `staleMs` of *real* time (covers pid reuse, another host
 *   on a shared folder, and an unreadable half-written lock file). Real time, not the injected clock,
 *   because holding time is I/O time: a scaled clock running 1000x must not make a live lock look stale.
 * - Steal: rename the stale file to a unique name first (only one stealer's rename can succeed), re-read it
 *   and compare its nonce with the one judged stale. If another process replaced it in between (it was
 *   live after all), put it back with `link` (fails if someone else already holds the path), so a live lock
 *   is never deleted.
 */
export interface FileLockOptions {
  /** Clock used for the sleeps between attempts. */
  readonly clock: Clock;
  /** Abandons waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /**
   * Clock milliseconds between attempts while another process holds the lock.
   * @default 10
   */
  readonly retryMs?: number;
  /**
   * Real milliseconds after which a lock is stale even if its pid looks alive.
   * @default 10_000
   */
  readonly staleMs?: number;
}

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly nonce: string;
  readonly wallAt: number;
}

/**
 * Holders in this process, per lock path: callers in one process queue here in memory, so only contention
 * between processes ever sleeps on the clock. (The engine runs many jobs at once that all append to the one
 * journal; with a FakeClock, a clock sleep nobody advances would otherwise hang them.)
 */
const inProcess = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock at `lockPath`; always releases it, also when `fn` throws. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const previous = inProcess.get(lockPath) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(() => withFileLockUnqueued(lockPath, fn, options));
  const tail = mine.catch(() => {});
  inProcess.set(lockPath, tail);
  try {
    return await mine;
  } finally {
    if (inProcess.get(lockPath) === tail) inProcess.delete(lockPath);
  }
}

async function withFileLockUnqueued<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const retryMs = options.retryMs ?? 10;
  const staleMs = options.staleMs ?? 10_000;
  if (!(retryMs >= 0) || !Number.isFinite(retryMs)) {
    throw new TypeError(`Expected \`retryMs\` to be a finite number >= 0, got ${String(retryMs)}`);
  }
  if (!(staleMs > 0) || !Number.isFinite(staleMs)) {
    throw new TypeError(`Expected \`staleMs\` to be a finite number > 0, got ${String(staleMs)}`);
  }
  const nonce = await acquire(lockPath, { ...options, retryMs, staleMs });
  try {
    return await fn();
  } finally {
    await release(lockPath, nonce);
  }
}

async function acquire(
  lockPath: string,
  options: FileLockOptions & { retryMs: number; staleMs: number },
): Promise<string> {
  await mkdir(dirname(lockPath), { recursive: true });
  const content: LockContent = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(8).toString('hex'),
    wallAt: Date.now(),
  };
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify({ ...content, wallAt: Date.now() }));
      } finally {
        await handle.close();
      }
      return content.nonce;
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
    if (await removeIfStale(lockPath, options.staleMs)) continue;
    await options.clock.sleep(options.retryMs, options.signal);
  }
}

async function release(lockPath: string, nonce: string): Promise<void> {
  // Only remove the lock if it is still ours (it could have been judged stale and stolen after a very long
  // pause, e.g. a suspended laptop).
  const current = await readLock(lockPath);
  if (current !== 'missing' && current !== 'unreadable' && current.nonce !== nonce) return;
  await unlink(lockPath).catch((error: unknown) => {
    if (!isCode(error, 'ENOENT')) throw error;
  });
}

async function readLock(path: string): Promise<LockContent | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return 'missing';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (
      typeof value.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.nonce === 'string' &&
      typeof value.wallAt === 'number'
    ) {
      return value as LockContent;
    }
  } catch {
    // A holder killed between open and write leaves an empty or partial file.
  }
  return 'unreadable';
}

/** Whether a lock is stale per the rules above; `unreadable` files are judged by their age only. */
export function isLockStale(
  lock: LockContent | 'unreadable',
  options: { staleMs: number; wallNow: number; host: string; fileMtimeMs: number },
): boolean {
  if (lock === 'unreadable') return options.wallNow - options.fileMtimeMs > options.staleMs;
  if (options.wallNow - lock.wallAt > options.staleMs) return true;
  return lock.host === options.host && !isProcessAlive(lock.pid);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return !isCode(error, 'ESRCH');
  }
}

async function removeIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return true; // released meanwhile: try again at once
    throw error;
  }
  const judged = await readLock(lockPath);
  if (judged === 'missing') return true;
  if (!isLockStale(judged, { staleMs, wallNow: Date.now(), host: hostname(), fileMtimeMs: mtimeMs })) {
    return false;
  }
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return true; // another process stole it first
    throw error;
  }
  const moved = await readLock(aside);
  const same =
    judged === 'unreadable'
      ? moved === 'unreadable'
      : moved !== 'missing' && moved !== 'unreadable' && moved.nonce === judged.nonce;
  if (!same && moved !== 'missing') {
    // We moved a live lock taken between our read and our rename: put it back unless the path is taken.
    await link(aside, lockPath).catch(() => {});
  }
  await unlink(aside).catch(() => {});
  return true;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
