import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { asSha256 } from '../core/brand.ts';
import type { Sha256 } from '../core/brand.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { fail, ok } from '../core/result.ts';
import type { Result } from '../core/result.ts';
import { fsyncDirectory, tempPathFor } from './atomic-write.ts';
import { afterDurableWrite, beforeDurableWrite } from '../core/test-faults.ts';
import { scavengeAfter } from './scavenge.ts';

/**
 * The content-addressed store (design.md section 4): verified bytes at `<cacheDir>/cas/sha256/ab/cdef…`,
 * named by their sha256. An object is only ever created by renaming a complete, fsynced, verified temp file
 * into place, so a file under `cas/` is always whole; temp files live in `<cacheDir>/tmp/` (same file system,
 * so the rename is atomic) and are removed on every failure path.
 *
 * Objects are read-only (0o444): `out/` files are hardlinks to them, and a user editing an `out/` file in
 * place must not silently corrupt the cache.
 *
 * LRU: using an object (`materialise`, `touch`) sets its *atime* explicitly to the clock's now and leaves the
 * mtime alone. Explicit `utimes` works even on `noatime` mounts, costs no extra file, and keeps the mtime of
 * hardlinked `out/` files stable (tools downstream that compare mtimes see no change on a no-op build).
 * `listObjects` reports `lastUsedMs = max(atime, mtime)` for `gc` to sort on.
 */
export interface StoreOptions {
  /**
   * Clock for LRU "last used" times.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** Why an ingest did not produce an object. The temp file is gone in every case. */
export type IngestFailure<E = never> =
  /** The source ended before the expected number of bytes (a cut connection, a truncated download). */
  | { readonly reason: 'truncated'; readonly expectedBytes: number; readonly receivedBytes: number }
  /** The source kept going past the expected number of bytes (reading stopped there). */
  | { readonly reason: 'too-long'; readonly expectedBytes: number; readonly receivedBytes: number }
  /** The bytes hash to something other than the expected digest. */
  | { readonly reason: 'digest-mismatch'; readonly expected: Sha256; readonly actual: Sha256 }
  /** The source stream failed while reading (network reset, file read error). */
  | { readonly reason: 'stream-error'; readonly message: string; readonly receivedBytes: number }
  /** The caller's `verify` callback rejected the bytes (e.g. not a playable MP4). */
  | { readonly reason: 'verify-failed'; readonly error: E };

export interface Ingested<V = undefined> {
  readonly digest: Sha256;
  readonly bytes: number;
  /** Whether the object was new (false: identical bytes were already stored; the temp was discarded). */
  readonly created: boolean;
  /** What `verify` returned on success (`undefined` without a `verify`). */
  readonly verified: V;
}

export interface IngestOptions<V, E> {
  /** What the source should be; a mismatch is an `IngestFailure`. */
  readonly expected?: { readonly bytes?: number; readonly sha256?: Sha256 };
  /**
   * Called with the complete temp file (after the length and digest checks, before it enters the store);
   * return `{ok: false}` to reject it. The engine passes an MP4 check here.
   */
  readonly verify?: (tempPath: string, info: { digest: Sha256; bytes: number }) => Promise<Result<V, E>>;
  /** Stops reading; the temp file is removed and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A source of bytes: a web stream (fetch body), a Node stream, or a file on disk. */
export type IngestSource = ReadableStream<Uint8Array> | Readable | { readonly path: string };

export type MaterialiseFailure =
  /** The object is not in the store (a bug in the caller, or the cache was pruned meanwhile). */
  { readonly reason: 'missing-object'; readonly digest: Sha256 };

export interface Materialised {
  /** `hardlink`: a new link; `copy`: bytes copied (other device or no hardlinks); `unchanged`: already there. */
  readonly method: 'hardlink' | 'copy' | 'unchanged';
}

export interface StoredObject {
  readonly digest: Sha256;
  readonly bytes: number;
  /** max(atime, mtime) in Unix ms: when the object was last used (see the LRU note above). */
  readonly lastUsedMs: number;
}

const DIGEST = /^[0-9a-f]{64}$/;
/** Bytes written between background flushes of a large ingest (see `ingest`). */
const FLUSH_EVERY = 16 * 1024 * 1024;
/**
 * Background flushes running at once, over all ingests of the process: each holds a thread of libuv's pool
 * (4 by default) for the length of a disk write, and the other ingests' writes must not queue behind them.
 */
const MAX_BACKGROUND_FLUSHES = 2;
let backgroundFlushes = 0;

/** How stale an object's "last used" time may get before using it writes a new one. */
const TOUCH_GRANULARITY_MS = 3_600_000;

export class Store {
  /** Absolute cache folder (`config.cacheDir`). */
  readonly cacheDir: string;
  readonly #clock: Clock;

  private constructor(cacheDir: string, clock: Clock) {
    this.cacheDir = cacheDir;
    this.#clock = clock;
  }

  /** Opens (without touching the disk) the store under `cacheDir`; folders are created on first write. */
  static open(cacheDir: string, options: StoreOptions = {}): Store {
    if (typeof cacheDir !== 'string' || cacheDir === '') {
      throw new TypeError(`Expected \`cacheDir\` to be a non-empty path, got ${JSON.stringify(cacheDir)}`);
    }
    return new Store(cacheDir, options.clock ?? systemClock);
  }

  /** `<cacheDir>/cas/sha256/<first 2 hex>/<remaining 62 hex>`. */
  objectPath(digest: Sha256): string {
    assertDigest(digest);
    return join(this.cacheDir, 'cas', 'sha256', digest.slice(0, 2), digest.slice(2));
  }

  /** Whether the object exists (a sync stat: the planner calls this for every shot). */
  hasObject(digest: Sha256): boolean {
    return statSync(this.objectPath(digest), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  /**
   * Streams `source` into the store while hashing it. Memory stays flat whatever the size: each chunk is
   * written (and awaited) before the next is pulled, which is the backpressure, and the dropped chunks are
   * collected while young (scavenge.ts). Checks, in order: the length
   * against `expected.bytes` (stopping early when exceeded), the digest against `expected.sha256`, then
   * `verify`; only then fsync, chmod 0o444 and rename into place. If the object already exists the temp is
   * discarded (content addressing makes them identical).
   */
  async ingest<V = undefined, E = never>(
    source: IngestSource,
    optionsOrExpected: IngestOptions<V, E> | { readonly bytes?: number } = {},
  ): Promise<Result<Ingested<V>, IngestFailure<E>>> {
    // interfaces.md's short form `ingest(stream, {bytes})` is the same as `{expected: {bytes}}`.
    const options: IngestOptions<V, E> =
      'bytes' in optionsOrExpected
        ? optionsOrExpected.bytes === undefined
          ? {}
          : { expected: { bytes: optionsOrExpected.bytes } }
        : (optionsOrExpected as IngestOptions<V, E>);
    const expectedBytes = options.expected?.bytes;
    if (expectedBytes !== undefined && (!Number.isInteger(expectedBytes) || expectedBytes < 0)) {
      throw new TypeError(`Expected \`expected.bytes\` to be an integer >= 0, got ${String(expectedBytes)}`);
    }
    if (options.expected?.sha256 !== undefined) assertDigest(options.expected.sha256);
    const tmpDir = join(this.cacheDir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const temp = join(tmpDir, `ingest-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
    let keepTemp = false;
    try {
      const ordinal = beforeDurableWrite('store', temp); // test-only fault hook; free when unset
      const handle = await open(temp, 'wx', 0o644);
      const hash = createHash('sha256');
      let received = 0;
      let streamError: string | undefined;
      // Large bodies are flushed to disk while they arrive (an fdatasync in the background every
      // FLUSH_EVERY bytes), so the final fsync has only the tail left and the disk works while the network
      // does: for a 200 MB video the flush is otherwise a pause of a second or more after the last byte.
      let flushing: Promise<void> | undefined;
      let unflushed = 0;
      try {
        const chunks = toAsyncIterable(source);
        try {
          for await (const chunk of chunks) {
            options.signal?.throwIfAborted();
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            received += bytes.byteLength;
            if (expectedBytes !== undefined && received > expectedBytes) break; // `return()` cancels the source
            hash.update(bytes);
            await handle.write(bytes);
            scavengeAfter(bytes.byteLength);
            unflushed += bytes.byteLength;
            if (
              unflushed >= FLUSH_EVERY &&
              flushing === undefined &&
              backgroundFlushes < MAX_BACKGROUND_FLUSHES
            ) {
              unflushed = 0;
              backgroundFlushes++;
              // A failed background flush is not an error by itself (the final fsync below reports the
              // disk's state); caught here, where it happens, so it can never go unhandled.
              flushing = handle
                .datasync()
                .catch(() => {})
                .finally(() => {
                  backgroundFlushes--;
                  flushing = undefined;
                });
            }
          }
        } catch (error) {
          if (options.signal?.aborted) throw options.signal.reason;
          streamError = error instanceof Error ? error.message : String(error);
        }
        await flushing;
        options.signal?.throwIfAborted();
        if (streamError === undefined) await handle.sync();
      } finally {
        await flushing;
        await handle.close();
      }
      if (streamError !== undefined) {
        return fail({ reason: 'stream-error', message: streamError, receivedBytes: received });
      }
      if (expectedBytes !== undefined && received > expectedBytes) {
        return fail({ reason: 'too-long', expectedBytes, receivedBytes: received });
      }
      if (expectedBytes !== undefined && received < expectedBytes) {
        return fail({ reason: 'truncated', expectedBytes, receivedBytes: received });
      }
      const digest = asSha256(hash.digest('hex'));
      const expectedDigest = options.expected?.sha256;
      if (expectedDigest !== undefined && expectedDigest !== digest) {
        return fail({ reason: 'digest-mismatch', expected: expectedDigest, actual: digest });
      }
      let verified = undefined as V;
      if (options.verify !== undefined) {
        const verdict = await options.verify(temp, { digest, bytes: received });
        options.signal?.throwIfAborted();
        if (!verdict.ok) return fail({ reason: 'verify-failed', error: verdict.error });
        verified = verdict.value;
      }
      const target = this.objectPath(digest);
      if (this.hasObject(digest)) {
        afterDurableWrite(ordinal);
        return ok({ digest, bytes: received, created: false, verified });
      }
      await chmod(temp, 0o444);
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
      keepTemp = true; // renamed: it is the object now
      await fsyncDirectory(dirname(target));
      afterDurableWrite(ordinal);
      return ok({ digest, bytes: received, created: true, verified });
    } finally {
      if (!keepTemp) await unlink(temp).catch(() => {});
    }
  }

  /**
   * Puts the object at `destAbsPath` (an `out/` file): a hardlink, or a copy when hardlinks are impossible
   * (another device, a file system without them). Atomic: the link or copy is made under a temp name in the
   * destination folder and renamed over the old file, so a reader never sees a half-written video. No-op when
   * the destination already is this object (same inode, or a copy with the same bytes).
   */
  async materialise(digest: Sha256, destAbsPath: string): Promise<Result<Materialised, MaterialiseFailure>> {
    const source = this.objectPath(digest);
    // Sync stats, like `hasObject`: a metadata lookup takes microseconds, less than the thread-pool round
    // trip of the promise API, and a no-op build of 1,000 shots makes 2,000 of them.
    const object = statSync(source, { throwIfNoEntry: false });
    if (object === undefined) return fail({ reason: 'missing-object', digest });
    await this.#touchPath(source, object);
    const existing = statSync(destAbsPath, { throwIfNoEntry: false });
    if (existing !== undefined && existing.isFile()) {
      if (existing.ino === object.ino && existing.dev === object.dev) return ok({ method: 'unchanged' });
      if (existing.size === object.size && (await sha256OfFile(destAbsPath)) === digest) {
        return ok({ method: 'unchanged' });
      }
    }
    const dir = dirname(destAbsPath);
    await mkdir(dir, { recursive: true });
    const temp = tempPathFor(destAbsPath);
    const ordinal = beforeDurableWrite('out', destAbsPath); // test-only fault hook; free when unset
    let method: 'hardlink' | 'copy' = 'hardlink';
    try {
      try {
        await link(source, temp);
      } catch (error) {
        if (!isCode(error, 'EXDEV') && !isCode(error, 'EPERM') && !isCode(error, 'ENOTSUP')) throw error;
        method = 'copy';
        await copyFile(source, temp);
        // A copy is the user's own file: writable like any other output.
        await chmod(temp, 0o644);
        const handle = await open(temp, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      await rename(temp, destAbsPath);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    await fsyncDirectory(dir);
    afterDurableWrite(ordinal);
    return ok({ method });
  }

  /** Marks an object as used now (for LRU gc); false if it does not exist. */
  async touch(digest: Sha256): Promise<boolean> {
    const path = this.objectPath(digest);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) return false;
    await this.#touchPath(path, info);
    return true;
  }

  async #touchPath(path: string, info: Stats): Promise<void> {
    // An hour is fine-grained enough for least-recently-used, and saves a write per object on every no-op
    // build (1,000 shots: 1,000 utimes calls).
    const now = this.#clock.now();
    if (now - info.atimeMs >= 0 && now - info.atimeMs < TOUCH_GRANULARITY_MS) return;
    // atime only: see the LRU note at the top of the file.
    await utimes(path, now / 1000, info.mtimeMs / 1000).catch(() => {});
  }

  /** Every object with its size and last use, for `gc`. Files that are not objects are skipped. */
  async listObjects(): Promise<StoredObject[]> {
    const root = join(this.cacheDir, 'cas', 'sha256');
    const prefixes = await readdir(root).catch((error: unknown) => {
      if (isCode(error, 'ENOENT')) return [] as string[];
      throw error;
    });
    const objects: StoredObject[] = [];
    for (const prefix of prefixes.sort()) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const names = await readdir(join(root, prefix)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const digest = prefix + name;
        if (!DIGEST.test(digest)) continue;
        const info = await stat(join(root, prefix, name)).catch(() => undefined);
        if (info === undefined || !info.isFile()) continue;
        objects.push({
          digest: asSha256(digest),
          bytes: info.size,
          lastUsedMs: Math.max(info.atimeMs, info.mtimeMs),
        });
      }
    }
    return objects;
  }

  /** Sum of all object sizes in bytes. */
  async totalSize(): Promise<number> {
    return (await this.listObjects()).reduce((sum, o) => sum + o.bytes, 0);
  }

  /**
   * Removes an object (gc). Hardlinks in `out/` keep their bytes: only the store's name goes. Returns whether
   * it existed.
   */
  async removeObject(digest: Sha256): Promise<boolean> {
    try {
      await unlink(this.objectPath(digest));
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /**
   * Deletes temp files left in `<cacheDir>/tmp/` by a crashed ingest, older than `olderThanMs` of real time
   * (a live ingest in another process keeps writing to its file, so young files are left alone).
   * @returns how many were removed.
   */
  async removeStaleTemps(options: { olderThanMs?: number } = {}): Promise<number> {
    const olderThanMs = options.olderThanMs ?? 3_600_000;
    const dir = join(this.cacheDir, 'tmp');
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < olderThanMs) continue;
      if (
        await unlink(join(dir, name)).then(
          () => true,
          () => false,
        )
      )
        removed++;
    }
    return removed;
  }
}

function toAsyncIterable(source: IngestSource): AsyncIterable<Uint8Array | string> {
  if ('path' in source && typeof source.path === 'string' && !isNodeReadable(source)) {
    return createReadStream(source.path);
  }
  // Web ReadableStreams and Node Readables are both async iterable; breaking out cancels/destroys them.
  return source as AsyncIterable<Uint8Array | string>;
}

function isNodeReadable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

async function sha256OfFile(path: string): Promise<Sha256> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return asSha256(hash.digest('hex'));
}

function assertDigest(digest: string): void {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw new TypeError(
      `Expected a lowercase hex sha256 digest (64 characters), got ${JSON.stringify(digest)}`,
    );
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
