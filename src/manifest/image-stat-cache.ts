/**
 * Remembers what a reference image's bytes were found to be (sha256, type, pixel size) by the file's stat
 * data, as git's index does, so a rebuild with nothing changed does not read and hash every image again.
 *
 * An entry is trusted only when path, size, mtime (ns), ctime (ns), inode and device all match. A file
 * modified in the same instant the cache was written could change without its mtime moving ("racily
 * clean" in git's terms): like git, an entry whose mtime is not older than the cache file's own mtime is
 * re-hashed, which re-writes the cache and makes the entry trustworthy on the next run. Both times come from
 * the same file system clock. The cache is an optimisation only: any read or parse problem means "empty".
 */
import type { BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Sha256 } from '../core/brand.ts';
import { asSha256 } from '../core/brand.ts';
import { atomicWrite } from '../cache/atomic-write.ts';
import type { ImageMime } from './types.ts';

/** What the bytes were found to be. */
export interface ImageFacts {
  readonly digest: Sha256;
  readonly mime: ImageMime;
  readonly width: number;
  readonly height: number;
}

interface Entry extends ImageFacts {
  /** Stat data as decimal strings (bigint nanoseconds do not fit a JSON number). */
  readonly stat: string;
}

const VERSION = 1;
const MIMES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);

const statKey = (st: BigIntStats): string => `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;

export class ImageStatCache {
  readonly #file: string;
  readonly #entries: Map<string, Entry>;
  /** mtime of the cache file when read: entries for files modified since then are not trusted. */
  readonly #writtenAtNs: bigint;
  /** Entries looked up or recorded in this run: only these are written back (deleted images drop out). */
  readonly #used = new Map<string, Entry>();
  #changed = false;

  private constructor(file: string, entries: Map<string, Entry>, writtenAtNs: bigint) {
    this.#file = file;
    this.#entries = entries;
    this.#writtenAtNs = writtenAtNs;
  }

  /** Reads `file` (e.g. `<cacheDir>/stat-cache.json`); a missing or unreadable file is an empty cache. */
  static async open(file: string): Promise<ImageStatCache> {
    try {
      const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file, { bigint: true })]);
      const parsed = JSON.parse(text) as { version?: unknown; entries?: unknown };
      const entries = new Map<string, Entry>();
      if (parsed.version === VERSION && typeof parsed.entries === 'object' && parsed.entries !== null) {
        for (const [abs, e] of Object.entries(parsed.entries as Record<string, Partial<Entry>>)) {
          if (
            typeof e.stat === 'string' &&
            typeof e.digest === 'string' &&
            /^[0-9a-f]{64}$/.test(e.digest) &&
            typeof e.mime === 'string' &&
            MIMES.has(e.mime) &&
            Number.isInteger(e.width) &&
            Number.isInteger(e.height)
          ) {
            entries.set(abs, {
              stat: e.stat,
              digest: asSha256(e.digest),
              mime: e.mime,
              width: e.width!,
              height: e.height!,
            });
          }
        }
      }
      return new ImageStatCache(file, entries, st.mtimeNs);
    } catch {
      return new ImageStatCache(file, new Map(), 0n);
    }
  }

  /** The facts recorded for `abs` when its stat data still matches and is not racily clean. */
  lookup(abs: string, st: BigIntStats): ImageFacts | undefined {
    const entry = this.#entries.get(abs);
    if (entry === undefined || entry.stat !== statKey(st) || st.mtimeNs >= this.#writtenAtNs)
      return undefined;
    this.#used.set(abs, entry);
    return { digest: entry.digest, mime: entry.mime, width: entry.width, height: entry.height };
  }

  /** Records what the bytes of `abs`, with stat data `st` taken before reading them, were found to be. */
  record(abs: string, st: BigIntStats, facts: ImageFacts): void {
    const entry: Entry = { stat: statKey(st), ...facts };
    this.#used.set(abs, entry);
    this.#changed = true;
  }

  /** Writes the entries of this run back when anything changed (or an image was dropped). */
  async save(): Promise<void> {
    const dropped = [...this.#entries.keys()].some((k) => !this.#used.has(k));
    if (!this.#changed && !dropped) return;
    const entries = Object.fromEntries([...this.#used].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // A cache needs no fsync: losing it costs one re-hash.
    await atomicWrite(this.#file, `${JSON.stringify({ version: VERSION, entries })}\n`, { fsyncDir: false });
  }
}
