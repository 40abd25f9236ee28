import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { asSha256, asShotKey, asVideoId } from '../core/brand.ts';
import type { ShotKey } from '../core/brand.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { atomicWrite } from './atomic-write.ts';
import { withFileLock } from './file-lock.ts';
import { cleanHandle } from '../provider/job-handle.ts';
import type { JobHandle } from '../provider/job-api.ts';
import type { Sample, VariantRecord } from './types.ts';

/**
 * The action cache (design.md section 4): shot key -> the samples generated for it, one JSON file per key at
 * `<cacheDir>/ac/<first 2 hex>/<key>.json` holding `{version: 1, key, samples}` (oldest first).
 *
 * Only successes are ever written: a `Sample` is a verified output in the CAS, and `addSample` checks that the
 * value looks like one. A failed or moderated job is remembered elsewhere (watch mode, the journal), never
 * here, so a transient failure can never make a key look built.
 *
 * Reads are sync and memoised (the planner asks for every shot); `addSample` re-reads the file under a lock
 * shared with other processes, appends, and writes atomically, so two processes adding samples for one key
 * both keep theirs.
 */
export interface ActionCacheOptions {
  /**
   * Clock for the lock's retry sleeps.
   * @default systemClock
   */
  readonly clock?: Clock;
}

interface ActionFile {
  readonly version: 1;
  readonly key: string;
  readonly samples: readonly Sample[];
}

const KEY = /^[0-9a-f]{64}$/;

export class ActionCache {
  readonly cacheDir: string;
  readonly #clock: Clock;
  readonly #memo = new Map<string, readonly Sample[]>();

  private constructor(cacheDir: string, clock: Clock) {
    this.cacheDir = cacheDir;
    this.#clock = clock;
  }

  static open(cacheDir: string, options: ActionCacheOptions = {}): ActionCache {
    if (typeof cacheDir !== 'string' || cacheDir === '') {
      throw new TypeError(`Expected \`cacheDir\` to be a non-empty path, got ${JSON.stringify(cacheDir)}`);
    }
    return new ActionCache(cacheDir, options.clock ?? systemClock);
  }

  /** `<cacheDir>/ac/<first 2 hex of key>/<key>.json`. */
  pathFor(key: ShotKey): string {
    assertKey(key);
    return join(this.cacheDir, 'ac', key.slice(0, 2), `${key}.json`);
  }

  /**
   * The samples for `key`, oldest first; empty when none. A file that cannot be read as an action-cache
   * entry counts as empty: the cache is an optimisation and the next `addSample` rewrites it.
   */
  samples(key: ShotKey): readonly Sample[] {
    const memo = this.#memo.get(key);
    if (memo !== undefined) return memo;
    const samples = readSamples(this.pathFor(key), key);
    this.#memo.set(key, samples);
    return samples;
  }

  /**
   * Adds a sample for `key` (a sample with the same output digest and video id already there is not added
   * twice). Returns all samples for the key afterwards.
   */
  async addSample(key: ShotKey, sample: Sample): Promise<readonly Sample[]> {
    const path = this.pathFor(key);
    const clean = validateSample(sample);
    return withFileLock(
      `${path}.lock`,
      async () => {
        const current = readSamples(path, key);
        const at = current.findIndex((s) => s.output === clean.output && s.videoId === clean.videoId);
        const known = current[at];
        // The same sample again, perhaps with an asset fetched (or made) since: record the asset, or it is
        // fetched again on every build.
        const merged =
          known === undefined ? clean : { ...known, assets: { ...known.assets, ...clean.assets } };
        const changed = known === undefined || JSON.stringify(merged) !== JSON.stringify(known);
        const next =
          known === undefined ? [...current, clean] : current.map((s, i) => (i === at ? merged : s));
        if (changed) {
          const file: ActionFile = { version: 1, key, samples: next };
          await atomicWrite(path, `${JSON.stringify(file, null, 2)}\n`, { kind: 'action-cache' });
        }
        this.#memo.set(key, next);
        return next;
      },
      { clock: this.#clock },
    );
  }

  /** Every key with its samples, in key order (for `gc`: every sample's output and assets are referenced). */
  async entries(): Promise<{ key: ShotKey; samples: readonly Sample[] }[]> {
    const root = join(this.cacheDir, 'ac');
    const prefixes = await readdir(root).catch(() => [] as string[]);
    const out: { key: ShotKey; samples: readonly Sample[] }[] = [];
    for (const prefix of prefixes.sort()) {
      const names = await readdir(join(root, prefix)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const key = name.slice(0, -'.json'.length);
        if (!name.endsWith('.json') || !KEY.test(key) || !key.startsWith(prefix)) continue;
        out.push({ key: asShotKey(key), samples: readSamples(join(root, prefix, name), key) });
      }
    }
    return out;
  }

  /** Forgets memoised reads (e.g. after another process may have written). */
  invalidate(): void {
    this.#memo.clear();
  }
}

function readSamples(path: string, key: string): readonly Sample[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  try {
    const file = JSON.parse(text) as Partial<ActionFile>;
    if (file.version !== 1 || file.key !== key || !Array.isArray(file.samples)) return [];
    const samples: Sample[] = [];
    for (const s of file.samples as unknown[]) {
      try {
        samples.push(validateSample(s));
      } catch {
        // One bad entry does not hide the good ones.
      }
    }
    return samples;
  } catch {
    return [];
  }
}

/** Copies only the known fields (nothing else, e.g. no stray secret, reaches the disk) and checks them. */
function validateSample(value: unknown): Sample {
  const s = value as Partial<Record<keyof Sample, unknown>> | null;
  const problems: string[] = [];
  if (typeof s !== 'object' || s === null)
    throw new TypeError(`Expected a Sample object, got ${String(value)}`);
  if (typeof s.output !== 'string' || !KEY.test(s.output)) problems.push('`output` to be a sha256 digest');
  if (typeof s.bytes !== 'number' || !Number.isInteger(s.bytes) || s.bytes < 0)
    problems.push('`bytes` to be an integer >= 0');
  if (typeof s.videoId !== 'string' || s.videoId === '') problems.push('`videoId` to be a non-empty string');
  if (typeof s.provider !== 'string' || s.provider === '')
    problems.push('`provider` to be a non-empty string');
  if (typeof s.createdAt !== 'number' || !Number.isFinite(s.createdAt))
    problems.push('`createdAt` to be a number');
  if (s.expiresAt !== null && (typeof s.expiresAt !== 'number' || !Number.isFinite(s.expiresAt)))
    problems.push('`expiresAt` to be a number or null');
  if (s.costUsd !== null && (typeof s.costUsd !== 'number' || !Number.isFinite(s.costUsd)))
    problems.push('`costUsd` to be a number or null');
  const assets = validateAssets(s.assets, '`assets`', problems);
  let handle: JobHandle | undefined;
  if (s.handle !== undefined) {
    try {
      handle = cleanHandle(s.handle as JobHandle);
      if (handle.id !== s.videoId) problems.push('`handle.id` to be the `videoId`');
    } catch (error) {
      problems.push((error as Error).message.replace(/^Expected /, ''));
    }
  }
  let variants: VariantRecord[] | undefined;
  if (s.variants !== undefined) {
    if (!Array.isArray(s.variants) || s.variants.length < 2) {
      problems.push('`variants` to list two or more variants');
    } else {
      variants = (s.variants as unknown[]).map((v, i) => {
        const r = (typeof v === 'object' && v !== null ? v : {}) as Partial<
          Record<keyof VariantRecord, unknown>
        >;
        if (typeof r.output !== 'string' || !KEY.test(r.output))
          problems.push(`\`variants[${i}].output\` to be a sha256 digest`);
        if (typeof r.bytes !== 'number' || !Number.isInteger(r.bytes) || r.bytes < 0)
          problems.push(`\`variants[${i}].bytes\` to be an integer >= 0`);
        const variantAssets = validateAssets(r.assets ?? {}, `\`variants[${i}].assets\``, problems);
        return { output: asSha256(String(r.output)), bytes: r.bytes as number, assets: variantAssets };
      });
      if (variants[0] !== undefined && variants[0].output !== s.output)
        problems.push('`variants[0].output` to be the `output`');
    }
  }
  if (problems.length > 0) {
    throw new TypeError(`Expected ${problems.join(', ')} in the sample (failures are never cached)`);
  }
  return {
    output: asSha256(s.output as string),
    bytes: s.bytes as number,
    videoId: asVideoId(s.videoId as string),
    provider: s.provider as string,
    createdAt: s.createdAt as number,
    expiresAt: s.expiresAt as number | null,
    costUsd: s.costUsd as number | null,
    assets,
    ...(handle === undefined ? {} : { handle }),
    ...(variants === undefined ? {} : { variants }),
  };
}

function validateAssets(
  value: unknown,
  what: string,
  problems: string[],
): Partial<Record<'thumbnail' | 'spritesheet', ReturnType<typeof asSha256>>> {
  const assets: Partial<Record<'thumbnail' | 'spritesheet', ReturnType<typeof asSha256>>> = {};
  if (typeof value !== 'object' || value === null) {
    problems.push(`${what} to be an object`);
    return assets;
  }
  for (const [name, digest] of Object.entries(value as Record<string, unknown>)) {
    if ((name === 'thumbnail' || name === 'spritesheet') && typeof digest === 'string' && KEY.test(digest)) {
      assets[name] = asSha256(digest);
    } else {
      problems.push(`${what.slice(0, -1)}.${name}\` to be a sha256 digest of a thumbnail or spritesheet`);
    }
  }
  return assets;
}

function assertKey(key: string): void {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new TypeError(`Expected a shot key (64 lowercase hex characters), got ${JSON.stringify(key)}`);
  }
}
