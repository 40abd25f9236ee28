/**
 * A memo of the last clean reading of `sora.config.yaml`, so that a command on an unchanged project neither
 * parses the config again nor loads the YAML parser and the schema validator at all (about 50 ms of the
 * start-up of every `build`, `plan` and `status`). Like the manifest's analysis cache (analysis-cache.ts),
 * it is used only when everything the reading depended on is provably the same: the config's bytes and path,
 * `--provider`, the current folder (the default manifest is relative to it) and the reader's own code.
 *
 * It lives in the default cache folder, `<config folder>/.sora-build/config-memo.json`, because the cache
 * folder is itself a setting of the config: a config that moves `cache_dir` elsewhere is simply not memoised.
 * Only readings without any problem are kept. The config names providers, never secrets. Anything unreadable
 * or unexpected is a miss, never an error: the file can be deleted at any time.
 */
import { apiType } from './capabilities.ts';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Location, SourceFile } from '../core/diagnostic.ts';
import { makeFolder } from '../core/make-folder.ts';
import { codeStamp } from '../manifest/analysis-cache.ts';
import { DEFAULT_CACHE_DIR } from './config-schema.ts';
import type { ConfigLoad } from './load-config.ts';
import { BUILTIN_LOCATION } from './load-config.ts';
import type { EmulatedApi, ProviderConfig, ProviderType, RemoteCacheConfig } from './types.ts';

/** Bumped whenever the reading or this format changes meaning. */
const FORMAT = 3;
const FILE_NAME = 'config-memo.json';

export interface ConfigMemoParts {
  readonly configFile: string;
  readonly contents: string;
  readonly cwd: string;
  readonly provider: string | undefined;
}

type Span = readonly [offset: number, length: number];

interface StoredProvider {
  readonly name: string;
  readonly type: ProviderType;
  readonly baseUrl: string | null;
  readonly auth: ProviderConfig['auth'];
  readonly deployments: ProviderConfig['deployments'];
  readonly quota: ProviderConfig['quota'];
  readonly pricing: ProviderConfig['pricing'];
  readonly renderSecondsPerSecond: number | null;
  readonly vertex?: ProviderConfig['vertex'];
  readonly api?: EmulatedApi;
  readonly gateway?: ProviderConfig['gateway'];
  /** A pool's member names, resolved against the other providers on lookup. */
  readonly poolMembers?: readonly string[];
  /** In the config file, or null for the built-in emulator. */
  readonly location: Span | null;
}

interface Entry {
  readonly format: number;
  readonly key: string;
  readonly providers: readonly StoredProvider[];
  readonly chosen: string;
  readonly outDir: string;
  readonly cacheDir: string;
  /** Where `out_dir:` and `cache_dir:` are written, or null for a default. */
  readonly outDirAt: Span | null;
  readonly cacheDirAt: Span | null;
  readonly manifest: string;
  /** The config's own `manifest:` entry (absolute), or null. */
  readonly manifestEntry: string | null;
  /** `cache.remote`, its location as a span, or null. */
  readonly remoteCache: (Omit<RemoteCacheConfig, 'location' | 'accountUrl'> & RemoteSpan) | null;
}

interface RemoteSpan {
  readonly accountUrl: string | null;
  readonly location: Span;
}

function memoPath(root: string): string {
  return path.join(root, DEFAULT_CACHE_DIR, FILE_NAME);
}

function keyOf(parts: ConfigMemoParts): string {
  const fields = [
    String(FORMAT),
    codeStamp(),
    parts.configFile,
    parts.cwd,
    parts.provider === undefined ? '\u0001' : `=${parts.provider}`,
    parts.contents,
  ];
  return createHash('sha256').update(fields.join('\0')).digest('hex');
}

/** What `loadConfig` returned for exactly these inputs last time, or undefined. */
export async function lookupConfigMemo(
  parts: ConfigMemoParts,
  root: string,
  rootDescription: string,
): Promise<ConfigLoad | undefined> {
  let entry: Entry;
  try {
    entry = JSON.parse(await readFile(memoPath(root), 'utf8')) as Entry;
  } catch {
    return undefined;
  }
  if (entry.format !== FORMAT || entry.key !== keyOf(parts) || !Array.isArray(entry.providers))
    return undefined;
  const file: SourceFile = { path: parts.configFile, contents: parts.contents };
  const at = (span: Span): Location => ({ file, range: { offset: span[0], length: span[1] } });
  const providers = new Map<string, ProviderConfig>();
  const stored: readonly StoredProvider[] = Array.isArray(entry.providers) ? entry.providers : [];
  for (const p of stored) {
    const location: Location = p.location === null ? BUILTIN_LOCATION : at(p.location);
    providers.set(p.name, {
      name: p.name,
      type: p.type,
      baseUrl: p.baseUrl ?? undefined,
      auth: p.auth,
      deployments: p.deployments,
      quota: p.quota,
      pricing: p.pricing,
      renderSecondsPerSecond: p.renderSecondsPerSecond ?? undefined,
      ...(p.vertex !== undefined && { vertex: p.vertex }),
      ...(p.api !== undefined && { api: p.api }),
      ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
      location,
    });
  }
  for (const p of stored) {
    if (p.poolMembers === undefined) continue;
    const members = p.poolMembers.map((m) => providers.get(m));
    if (members.some((m) => m === undefined)) return undefined;
    providers.set(p.name, { ...providers.get(p.name)!, pool: { members: members as ProviderConfig[] } });
  }
  const chosen = providers.get(entry.chosen);
  if (chosen === undefined) return undefined;
  return {
    config: {
      path: parts.configFile,
      root,
      provider: chosen,
      providers,
      outDir: entry.outDir,
      cacheDir: entry.cacheDir,
      folderLocations: {
        ...(entry.outDirAt === null ? {} : { outDir: at(entry.outDirAt) }),
        ...(entry.cacheDirAt === null ? {} : { cacheDir: at(entry.cacheDirAt) }),
      },
      manifest: entry.manifest,
      ...(entry.remoteCache === null || entry.remoteCache === undefined
        ? {}
        : {
            remoteCache: {
              type: entry.remoteCache.type,
              container: entry.remoteCache.container,
              accountUrl: entry.remoteCache.accountUrl ?? undefined,
              location: at(entry.remoteCache.location),
            },
          }),
    },
    root,
    rootDescription,
    providerType: apiType(chosen),
    manifest: entry.manifestEntry ?? undefined,
    diagnostics: [],
  };
}

/**
 * Records a clean reading (no problem at all, the cache in its default folder, every number finite so JSON
 * keeps it). Best effort: a memo that cannot be written only costs the next run a parse.
 */
export async function storeConfigMemo(parts: ConfigMemoParts, load: ConfigLoad): Promise<void> {
  const config = load.config;
  if (config === undefined || load.diagnostics.length > 0) return;
  if (config.cacheDir !== path.join(load.root, DEFAULT_CACHE_DIR)) return;
  const providers: StoredProvider[] = [];
  for (const p of config.providers.values()) {
    let location: Span | null;
    if (p.location === BUILTIN_LOCATION) location = null;
    else if (p.location.file.path === parts.configFile && p.location.file.contents === parts.contents)
      location = [p.location.range.offset, p.location.range.length];
    else return;
    const numbers = [
      p.quota.createsPerMinute,
      p.quota.maxInFlight,
      ...Object.values(p.pricing).map((price) => price.usdPerSecond),
      ...(p.renderSecondsPerSecond === undefined ? [] : [p.renderSecondsPerSecond]),
    ];
    if (!numbers.every(Number.isFinite)) return;
    providers.push({
      name: p.name,
      type: p.type,
      baseUrl: p.baseUrl ?? null,
      auth: p.auth,
      deployments: p.deployments,
      quota: p.quota,
      pricing: p.pricing,
      renderSecondsPerSecond: p.renderSecondsPerSecond ?? null,
      ...(p.vertex !== undefined && { vertex: p.vertex }),
      ...(p.api !== undefined && { api: p.api }),
      ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
      ...(p.pool !== undefined ? { poolMembers: p.pool.members.map((m) => m.name) } : {}),
      location,
    });
  }
  const spanOf = (l: Location | undefined): Span | null =>
    l === undefined ? null : [l.range.offset, l.range.length];
  const remote = config.remoteCache;
  const entry: Entry = {
    format: FORMAT,
    key: keyOf(parts),
    providers,
    chosen: config.provider.name,
    outDir: config.outDir,
    cacheDir: config.cacheDir,
    outDirAt: spanOf(config.folderLocations?.outDir),
    cacheDirAt: spanOf(config.folderLocations?.cacheDir),
    manifest: config.manifest,
    manifestEntry: load.manifest ?? null,
    remoteCache:
      remote === undefined
        ? null
        : {
            type: remote.type,
            container: remote.container,
            accountUrl: remote.accountUrl ?? null,
            location: [remote.location.range.offset, remote.location.range.length],
          },
  };
  try {
    const file = memoPath(load.root);
    await makeFolder(path.dirname(file));
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, file);
  } catch {
    // best effort
  }
}
