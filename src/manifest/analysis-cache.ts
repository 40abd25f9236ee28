/**
 * A cache of the last clean analysis of each manifest, under `<cacheDir>/analysis/`, so a command run on an
 * unchanged storyboard skips the YAML parse, the schema check and the semantic analysis (for 10,000 shots
 * most of `plan`'s time). The same idea as the project-graph caches of Nx or Turborepo.
 *
 * An entry is used only when everything the analysis read is provably the same:
 * - the manifest's bytes, its path, the providers' names and types (capability tables) and the project root, which make
 *   up the entry's key;
 * - the value of every `${env:NAME}` the prompts read (kept as a sha256: values never reach the disk);
 * - every reference image's stat data (size, mtime, ctime, inode), as git's index does; an image touched
 *   within two seconds of the entry being written is "racily clean", and like one whose stat data moved
 *   (a `touch`, a checkout) it is read and hashed again: the same bytes give the same analysis.
 * Only analyses without errors are cached; their warnings are kept and reported again. Anything unreadable
 * or unexpected is a miss, never an error: the cache can be deleted at any time.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShotId } from '../core/brand.ts';
import type { Diagnostic, Location, SourceFile } from '../core/diagnostic.ts';
import { makeFolder } from '../core/make-folder.ts';
import { envValue } from './env-value.ts';
import type { ReferenceImage, ShotConfig, ShotField } from './types.ts';

/** Bumped whenever the analysis or this format changes meaning. */
const FORMAT = 3;
/** Stat data newer than this before the entry was written is not trusted (coarse mtime granularity). */
const RACY_MS = 2_000;

export interface AnalysisKeyParts {
  readonly manifestPath: string;
  readonly contents: string;
  readonly providerType: string;
  /** Every provider a shot may name (`name=type`, sorted) and the default's name, one a line. */
  readonly providers: string;
  readonly root: string;
}

export interface CachedAnalysis {
  readonly shots: ReadonlyMap<ShotId, ShotConfig>;
  readonly envVarsUsed: readonly string[];
  readonly warnings: readonly Diagnostic[];
}

type Span = readonly [offset: number, length: number];

interface StoredImage {
  readonly path: string;
  /** sha256 of the bytes the analysis read (`ReferenceImage.sourceDigest`). */
  readonly digest: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

interface StoredShot extends Omit<ShotConfig, 'location' | 'fieldLocations' | 'inputReference'> {
  readonly location: Span;
  readonly fieldLocations: Readonly<Partial<Record<ShotField, Span>>>;
  readonly inputReference: (Omit<ReferenceImage, 'location'> & { readonly location: Span }) | null;
}

interface Entry {
  readonly format: number;
  readonly key: string;
  readonly writtenAt: number;
  readonly env: Readonly<Record<string, string | null>>;
  readonly images: readonly StoredImage[];
  readonly envVarsUsed: readonly string[];
  readonly warnings: readonly { readonly message: string; readonly span: Span }[];
  readonly shots: readonly StoredShot[];
}

export class AnalysisCache {
  readonly #dir: string;

  readonly #now: () => number;

  /** `now`: wall-clock milliseconds, for the racy window (injected by tests). @default Date.now */
  constructor(cacheDir: string, options: { readonly now?: () => number } = {}) {
    this.#dir = path.join(cacheDir, 'analysis');
    this.#now = options.now ?? Date.now;
  }

  /** The cached analysis for exactly these inputs, or undefined. */
  async lookup(
    parts: AnalysisKeyParts,
    env: Readonly<Record<string, string | undefined>>,
  ): Promise<CachedAnalysis | undefined> {
    let entry: Entry;
    const key = keyOf(parts);
    try {
      // The key is in the file's name: after an edit the lookup is one failed open, not a parse of the old
      // entry (tens of milliseconds for 10,000 shots).
      entry = JSON.parse(await readFile(this.#fileFor(parts.manifestPath, key), 'utf8')) as Entry;
    } catch {
      return undefined;
    }
    if (entry.format !== FORMAT || entry.key !== key) return undefined;
    for (const [name, digest] of Object.entries(entry.env)) {
      if (digest !== hashValue(envValue(env, name))) return undefined;
    }
    const checked = await Promise.all(entry.images.map((image) => checkImage(image, entry.writtenAt)));
    if (checked.some((c) => c.verdict === 'changed')) return undefined;
    if (checked.some((c) => c.verdict === 'same-bytes'))
      await this.#refresh(
        parts.manifestPath,
        entry,
        checked.map((c) => c.now!),
      );

    const file: SourceFile = { path: parts.manifestPath, contents: parts.contents };
    const at = (span: Span): Location => ({ file, range: { offset: span[0], length: span[1] } });
    const shots = new Map<ShotId, ShotConfig>();
    for (const s of entry.shots) {
      const fieldLocations: Partial<Record<ShotField, Location>> = {};
      for (const [field, span] of Object.entries(s.fieldLocations))
        fieldLocations[field as ShotField] = at(span);
      shots.set(s.id, {
        ...s,
        location: at(s.location),
        fieldLocations,
        inputReference:
          s.inputReference === null
            ? undefined
            : { ...s.inputReference, location: at(s.inputReference.location) },
        remixOf: s.remixOf ?? undefined,
        extendOf: s.extendOf ?? undefined,
        inputVideo: undefined,
        negativePrompt: s.negativePrompt ?? undefined,
        seed: s.seed ?? undefined,
        audio: s.audio ?? undefined,
      });
    }
    const warnings: Diagnostic[] = entry.warnings.map((w) => ({
      severity: 'warning',
      message: w.message,
      location: at(w.span),
    }));
    return { shots, envVarsUsed: entry.envVarsUsed, warnings };
  }

  /**
   * Records a clean analysis (no errors; every warning in the manifest itself, without extra locations).
   * Best effort: a cache that cannot be written only costs the next run a full analysis.
   */
  async store(
    parts: AnalysisKeyParts,
    env: Readonly<Record<string, string | undefined>>,
    analysis: CachedAnalysis,
  ): Promise<void> {
    if (
      analysis.warnings.some(
        (w) => w.location.file.path !== parts.manifestPath || w.supplementalLocations !== undefined,
      )
    )
      return;
    // Frames, reference images and input videos are files with positions of their own: such a manifest is
    // analysed afresh each time (cheap at the sizes these are used at) rather than tracked here.
    for (const shot of analysis.shots.values()) {
      if (shot.frames.length > 0 || shot.referenceImages.length > 0 || shot.inputVideo !== undefined) return;
    }
    const span = (l: Location): Span => [l.range.offset, l.range.length];
    const images = new Map<string, StoredImage>();
    const shots: StoredShot[] = [];
    for (const shot of analysis.shots.values()) {
      const fieldLocations: Partial<Record<ShotField, Span>> = {};
      for (const [field, l] of Object.entries(shot.fieldLocations))
        fieldLocations[field as ShotField] = span(l);
      const ref = shot.inputReference;
      if (ref !== undefined && !images.has(ref.path)) {
        try {
          const s = await stat(ref.path);
          images.set(ref.path, {
            path: ref.path,
            digest: ref.sourceDigest,
            size: s.size,
            mtimeMs: s.mtimeMs,
            ctimeMs: s.ctimeMs,
            ino: s.ino,
          });
        } catch {
          return;
        }
      }
      shots.push({
        ...shot,
        location: span(shot.location),
        fieldLocations,
        inputReference: ref === undefined ? null : { ...ref, location: span(ref.location) },
      });
    }
    const key = keyOf(parts);
    const entry: Entry = {
      format: FORMAT,
      key,
      writtenAt: this.#now(),
      env: Object.fromEntries(analysis.envVarsUsed.map((name) => [name, hashValue(envValue(env, name))])),
      images: [...images.values()],
      envVarsUsed: analysis.envVarsUsed,
      warnings: analysis.warnings.map((w) => ({ message: w.message, span: span(w.location) })),
      shots,
    };
    try {
      const file = this.#fileFor(parts.manifestPath, key);
      await makeFolder(this.#dir);
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, file);
      // One entry per manifest: the previous analysis of this manifest goes, so the folder never grows.
      const mine = prefixOf(parts.manifestPath);
      for (const name of await readdir(this.#dir)) {
        if (name.startsWith(mine) && name.endsWith('.json') && name !== path.basename(file))
          await unlink(path.join(this.#dir, name)).catch(() => undefined);
      }
    } catch {
      // best effort
    }
  }

  /**
   * After images were hashed again and found the same: records their stat data as it is now, so the next
   * run trusts them without reading them (once they are older than the racy window; until then an image
   * is re-hashed each time, as git does with racily clean entries). Best effort.
   */
  async #refresh(manifestPath: string, entry: Entry, images: readonly StoredImage[]): Promise<void> {
    const now = this.#now();
    if (images.some((i) => Math.max(i.mtimeMs, i.ctimeMs) >= now - RACY_MS)) return;
    const file = this.#fileFor(manifestPath, entry.key);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ ...entry, writtenAt: now, images }));
      await rename(tmp, file);
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** `<sha256(manifest path), 32 hex>-<key, 32 hex>.json`. */
  #fileFor(manifestPath: string, key: string): string {
    return path.join(this.#dir, `${prefixOf(manifestPath)}${key.slice(0, 32)}.json`);
  }
}

/** The start of every entry name of one manifest: `<sha256(manifest path), 32 hex>-`. */
function prefixOf(manifestPath: string): string {
  return `${sha256(manifestPath).slice(0, 32)}-`;
}

function keyOf(parts: AnalysisKeyParts): string {
  return sha256(
    [
      String(FORMAT),
      codeStamp(),
      parts.manifestPath,
      parts.providerType,
      parts.providers,
      parts.root,
      parts.contents,
    ].join('\0'),
  );
}

let stamp: string | undefined;
/**
 * The analyzer's own code (this folder and the config's): every file's name, size and modification time,
 * and the package's version. An edited analyzer (a developer's checkout) or an upgrade never reuses an
 * analysis made by another version: `npm pack` stamps every file with one fixed date, so the version and
 * the sizes tell installed releases apart where the times cannot.
 */
export function codeStamp(): string {
  if (stamp !== undefined) return stamp;
  const parts: string[] = [];
  for (const dir of ['.', '../config']) {
    const folder = fileURLToPath(new URL(dir, import.meta.url));
    try {
      for (const name of readdirSync(folder).sort()) {
        const s = statSync(path.join(folder, name));
        parts.push(`${dir}/${name}:${s.size}:${s.mtimeMs}`);
      }
    } catch {
      parts.push(`${dir}:unreadable`);
    }
  }
  try {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
    ) as {
      version?: unknown;
    };
    parts.push(`version:${String(pkg.version)}`);
  } catch {
    parts.push('version:unknown');
  }
  stamp = sha256(parts.join('\n'));
  return stamp;
}

function hashValue(value: string | undefined): string | null {
  return value === undefined ? null : sha256(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * `trusted`: the stat data is the recorded one and old enough; `same-bytes`: it moved (or is racily clean)
 * but the bytes hash to the recorded digest; `changed`: anything else. `now` is the stat data taken before
 * the bytes were read (a later change moves it, so recording it never trusts bytes that were not hashed).
 */
async function checkImage(
  image: StoredImage,
  writtenAt: number,
): Promise<{ verdict: 'trusted' | 'same-bytes' | 'changed'; now?: StoredImage }> {
  try {
    const s = await stat(image.path);
    if (s.size !== image.size) return { verdict: 'changed' };
    const now: StoredImage = { ...image, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
    const trusted =
      s.mtimeMs === image.mtimeMs &&
      s.ctimeMs === image.ctimeMs &&
      s.ino === image.ino &&
      Math.max(s.mtimeMs, s.ctimeMs) < writtenAt - RACY_MS;
    if (trusted) return { verdict: 'trusted', now };
    const bytes = await readFile(image.path);
    const same = createHash('sha256').update(bytes).digest('hex') === image.digest;
    return same ? { verdict: 'same-bytes', now } : { verdict: 'changed' };
  } catch {
    return { verdict: 'changed' };
  }
}
