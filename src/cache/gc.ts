/**
 * Garbage collection of the content-addressed store (`sora-build gc`).
 *
 * Two passes over `<cacheDir>/cas/sha256/<2 hex>/<62 hex>`:
 *  1. objects that no lockfile pins and no action-cache sample references are removed;
 *  2. if the store is still larger than `maxSizeBytes`, the least recently used of the remaining objects
 *     are removed until it fits. Recency is the later of the file's access and modification times: files
 *     under `out/` are hardlinks of store objects, so playing an output counts as a use.
 * An object pinned by a lockfile is never removed, even if that leaves the store over the limit.
 *
 * Samples whose objects pass 2 removed stay in the action cache: they still record the remote video id, so
 * a later build can fetch the bytes again while the remote video lives (24 h), and regenerates after.
 *
 * A build running in another process ingests an object before it records the sample that references it;
 * unreferenced objects used (or written) more recently than `graceMs` are therefore left alone, so gc never
 * races a download. Temp files of crashed ingests are cleaned by the store's own `removeStaleTemps`.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sha256, ShotId, VideoId } from '../core/brand.ts';
import { asSha256 } from '../core/brand.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import { readLockfile } from './lockfile.ts';
import { Store } from './store.ts';
import type { StoredObject } from './store.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';

export interface GcOptions {
  /** Absolute path of the cache folder (`config.cacheDir`). */
  readonly cacheDir: string;
  /** Output digests pinned by the project's lockfiles: never removed. */
  readonly pinned: ReadonlySet<Sha256>;
  /**
   * Bytes the store may keep after unreferenced objects are gone; least recently used go first.
   * @default undefined (no limit: only unreferenced objects are removed)
   */
  readonly maxSizeBytes?: number | undefined;
  /**
   * Report what would be removed without removing anything.
   * @default false
   */
  readonly dryRun?: boolean;
  /** Unix ms, from the caller's clock; compared with file times for the grace period. */
  readonly now: number;
  /**
   * Unreferenced objects modified more recently than this are kept (a concurrent build may be about to
   * reference them).
   * @default 600_000 (10 minutes)
   */
  readonly graceMs?: number;
}

export type GcRemovalReason =
  /** No lockfile pins it and no action-cache sample references it. */
  | 'unreferenced'
  /** Referenced by the action cache only, and least recently used while the store was over the limit. */
  | 'over-size';

export interface GcRemoval {
  readonly digest: Sha256;
  readonly bytes: number;
  readonly reason: GcRemovalReason;
}

export interface GcReport {
  readonly removed: readonly GcRemoval[];
  readonly bytesFreed: number;
  /** What the store holds afterwards (or would, with dryRun). */
  readonly keptObjects: number;
  readonly keptBytes: number;
  /** Bytes of pinned objects: the floor below which `maxSizeBytes` cannot push the store. */
  readonly pinnedBytes: number;
  /** Unreferenced objects kept because they are younger than the grace period. */
  readonly keptYoung: number;
  readonly dryRun: boolean;
}

/** Why gc refused to run: removing anything while a reference list is unreadable could lose pinned data. */
export type GcFailure = {
  readonly reason: 'unreadable-action-cache';
  /** Absolute path of the action-cache file that could not be parsed. */
  readonly path: string;
  readonly message: string;
};

const HEX2 = /^[0-9a-f]{2}$/;
const DEFAULT_GRACE_MS = 600_000;

export async function gc(options: GcOptions): Promise<Result<GcReport, GcFailure[]>> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const dryRun = options.dryRun ?? false;
  const refs = await readActionCacheReferences(options.cacheDir, options.pinned);
  if (!refs.ok) return refs;
  const { referenced, pinned } = refs.value;
  const store = Store.open(options.cacheDir);
  const objects = await store.listObjects();

  const removed: GcRemoval[] = [];
  const survivors: StoredObject[] = [];
  let keptYoung = 0;
  for (const o of objects) {
    if (pinned.has(o.digest) || referenced.has(o.digest)) survivors.push(o);
    else if (options.now - o.lastUsedMs < graceMs) {
      keptYoung++;
      survivors.push(o);
    } else removed.push({ digest: o.digest, bytes: o.bytes, reason: 'unreferenced' });
  }

  let size = survivors.reduce((n, o) => n + o.bytes, 0);
  const pinnedBytes = survivors.filter((o) => pinned.has(o.digest)).reduce((n, o) => n + o.bytes, 0);
  const kept: StoredObject[] = [];
  if (options.maxSizeBytes !== undefined && size > options.maxSizeBytes) {
    // Oldest use first; ties broken by digest so a dry run and the real run agree.
    const byAge = [...survivors].sort(
      (a, b) => a.lastUsedMs - b.lastUsedMs || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0),
    );
    for (const o of byAge) {
      if (size > options.maxSizeBytes && !pinned.has(o.digest) && referenced.has(o.digest)) {
        removed.push({ digest: o.digest, bytes: o.bytes, reason: 'over-size' });
        size -= o.bytes;
      } else kept.push(o);
    }
  } else kept.push(...survivors);

  if (!dryRun) {
    for (const r of removed) await store.removeObject(r.digest);
    await store.removeStaleTemps();
  }
  return ok({
    removed,
    bytesFreed: removed.reduce((n, r) => n + r.bytes, 0),
    keptObjects: kept.length,
    keptBytes: kept.reduce((n, o) => n + o.bytes, 0),
    pinnedBytes,
    keptYoung,
    dryRun,
  });
}

/**
 * Every digest the action cache references (sample outputs and their extra assets), and the pinned set
 * extended with the assets of pinned samples (a pinned video's thumbnail belongs to it).
 */
async function readActionCacheReferences(
  cacheDir: string,
  pinnedOutputs: ReadonlySet<Sha256>,
): Promise<Result<{ referenced: Set<Sha256>; pinned: Set<Sha256> }, GcFailure[]>> {
  const referenced = new Set<Sha256>();
  const pinned = new Set<Sha256>(pinnedOutputs);
  const failures: GcFailure[] = [];
  const acDir = path.join(cacheDir, 'ac');
  for (const shard of await readdirOrEmpty(acDir)) {
    if (!HEX2.test(shard)) continue;
    for (const name of await readdirOrEmpty(path.join(acDir, shard))) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(acDir, shard, name);
      let samples: unknown;
      try {
        samples = (JSON.parse(await readFile(file, 'utf8')) as { samples?: unknown }).samples;
      } catch (error) {
        failures.push({ reason: 'unreadable-action-cache', path: file, message: (error as Error).message });
        continue;
      }
      if (!Array.isArray(samples)) {
        failures.push({
          reason: 'unreadable-action-cache',
          path: file,
          message: 'expected a `samples` array',
        });
        continue;
      }
      for (const s of samples as {
        output?: unknown;
        assets?: Record<string, unknown>;
        variants?: { output?: unknown; assets?: Record<string, unknown> }[];
      }[]) {
        // Every variant's video and assets belong to the sample (issue 13); variant 0 is `output`.
        const variants = Array.isArray(s.variants) ? s.variants : [];
        const digests = [s, ...variants]
          .flatMap((v) => [v.output, ...Object.values(v.assets ?? {})])
          .filter((d): d is string => typeof d === 'string');
        for (const d of digests) referenced.add(asSha256(d));
        if (typeof s.output === 'string' && pinnedOutputs.has(asSha256(s.output)))
          for (const d of digests) pinned.add(asSha256(d));
      }
    }
  }
  return failures.length > 0 ? fail(failures) : ok({ referenced, pinned });
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Parses a size such as `0`, `500MB`, `1.5G`, `2GiB`, `800k`. Decimal units (k, M, G, T = 1000^n) and binary
 * ones (KiB, MiB, GiB, TiB = 1024^n); a bare number is bytes; `B` is optional. Returns undefined when the text
 * is not a size.
 */
export function parseSize(text: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:([kmgt])(i)?)?b?\s*$/i.exec(text);
  if (m === null) return undefined;
  const value = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const base = m[3] === undefined ? 1000 : 1024;
  const power = unit === '' ? 0 : 'kmgt'.indexOf(unit) + 1;
  return Math.floor(value * base ** power);
}

/** `1234567` -> `1.2 MB` (decimal units, as `parseSize` reads them back). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export interface FindLockfilesOptions {
  /** The project root (`config.root`). */
  readonly root: string;
  /** Absolute folders not to descend into, besides `node_modules` and dot-folders (e.g. outDir, cacheDir). */
  readonly exclude?: readonly string[];
  /**
   * How many folder levels below the root to look.
   * @default 8
   */
  readonly maxDepth?: number;
}

/**
 * The lockfiles of the manifests under a project root: every `NAME.lock` that has a `NAME.yaml` or
 * `NAME.yml` beside it (so `yarn.lock` or `Cargo.lock` never count), found by a bounded walk that skips
 * `node_modules`, dot-folders (`.git`, `.sora-build`) and the excluded folders. Sorted, absolute.
 */
export async function findProjectLockfiles(options: FindLockfilesOptions): Promise<string[]> {
  const exclude = new Set((options.exclude ?? []).map((p) => path.resolve(p)));
  const maxDepth = options.maxDepth ?? 8;
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth >= maxDepth || e.name === 'node_modules' || e.name.startsWith('.') || exclude.has(full))
          continue;
        await walk(full, depth + 1);
      } else if (e.isFile() && e.name.endsWith('.lock')) {
        const stem = e.name.slice(0, -'.lock'.length);
        if (names.has(`${stem}.yaml`) || names.has(`${stem}.yml`)) found.push(full);
      }
    }
  };
  await walk(path.resolve(options.root), 0);
  return found.sort();
}

/** Where a lockfile pins something: for messages such as "pinned by storyboard.lock (harbor)". */
export interface LockReference {
  /** Absolute path of the lockfile. */
  readonly lockfile: string;
  readonly shot: ShotId;
}

export interface ProjectReferences {
  /** Absolute paths of the lockfiles read. */
  readonly lockfiles: readonly string[];
  /** Digests pinned by any of them: output videos, and the prompt texts stored under their digests. */
  readonly pinnedOutputs: ReadonlySet<Sha256>;
  /** Remote video id -> the lockfile entries that pin it. */
  readonly pinnedVideos: ReadonlyMap<VideoId, readonly LockReference[]>;
}

/**
 * Reads every lockfile of the project (see `findProjectLockfiles`, plus `extraLockfiles`, e.g. the default
 * manifest's lockfile when it lives outside the root). Any unreadable lockfile is an error: gc and
 * `videos prune` must know everything that is pinned before they remove anything.
 */
export async function readProjectReferences(
  options: FindLockfilesOptions & { readonly extraLockfiles?: readonly string[] },
): Promise<Result<ProjectReferences, Diagnostic[]>> {
  const found = await findProjectLockfiles(options);
  // An extra lockfile that does not exist is a manifest that never built: nothing pinned, nothing to name.
  const extra = (options.extraLockfiles ?? []).map((p) => path.resolve(p)).filter((p) => existsSync(p));
  const paths = [...new Set([...found, ...extra])].sort();
  const pinnedOutputs = new Set<Sha256>();
  const pinnedVideos = new Map<VideoId, LockReference[]>();
  const lockfiles: string[] = [];
  const problems: Diagnostic[] = [];
  for (const p of paths) {
    const read = await readLockfile(p);
    if (!read.ok) {
      problems.push(...read.error);
      continue;
    }
    lockfiles.push(p);
    for (const entry of read.value.shots.values()) {
      pinnedOutputs.add(entry.output);
      for (const v of entry.variants ?? []) pinnedOutputs.add(v.output);
      // The pinned prompt's text, when a build stored it, is what `sora-build why` shows as the old prompt.
      pinnedOutputs.add(entry.promptSha256);
      const refs = pinnedVideos.get(entry.videoId) ?? [];
      refs.push({ lockfile: p, shot: entry.shot });
      pinnedVideos.set(entry.videoId, refs);
    }
  }
  return problems.length > 0 ? fail(problems) : ok({ lockfiles, pinnedOutputs, pinnedVideos });
}
