/**
 * Everything between a loaded project and a plan, shared by `plan` and `build` so they never disagree:
 * graph (cycles) -> targets (`--shot`) -> reference images prepared (after fit) -> local state read
 * (lockfile, store, action cache) -> `planBuild`. No network. The only write is the cache of resized
 * reference images under `<cacheDir>/refs/`.
 */
import type { Sha256, ShotId } from '../core/brand.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import { compareDiagnostics } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import { unreachable } from '../core/unreachable.ts';
import type { CacheIndex, Lockfile } from '../cache/types.ts';
import { listActionCache, listStoreObjects, openCacheIndex } from '../cache/cache-index.ts';
import { readLockfile } from '../cache/lockfile.ts';
import { Store } from '../cache/store.ts';
import { ActionCache } from '../cache/action-cache.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import { providerFamily } from '../config/capabilities.ts';
import type { ProjectConfig, ProviderConfig } from '../config/types.ts';
import { buildGraph } from '../graph/build-graph.ts';
import { selectTargets } from '../graph/select-targets.ts';
import { selectShard, shotWeight } from '../graph/shard-shots.ts';
import type { Shard, ShardSpec } from '../graph/shard-shots.ts';
import type { ShotGraph } from '../graph/shot-graph.ts';
import type { Manifest } from '../manifest/types.ts';
import { planBuild } from './plan-build.ts';
import type { BuildPlan } from './plan-types.ts';
import { prepareReference, preparedReferencePath } from './prepare-reference.ts';
import type { PreparedReference } from './prepare-reference.ts';
import { hasMedia, prepareMedia } from './prepare-media.ts';
import type { PreparedMedia } from './prepare-media.ts';

/** Lockfile size from which the store is listed once instead of stat-ed per shot. */
const LIST_STORE_FROM = 500;

export interface ComputePlanOptions {
  readonly config: ProjectConfig;
  readonly manifest: Manifest;
  /** `--shot` ids; empty plans every shot. @default [] */
  readonly shotIds?: readonly string[];
  /** The lockfile, when the caller already read it. @default read from `manifest.lockfilePath` */
  readonly lockfile?: Lockfile;
  /** Local state. @default the lockfile, `Store` and `ActionCache` under `config.cacheDir` */
  readonly cache?: CacheIndex;
  /** Expected ms from create to a downloaded video. @default `defaultRenderEstimate(config.provider)` */
  readonly renderEstimate?: (seconds: number) => number;
  /** `--shard K/N`: plan only that part of the storyboard (graph/shard-shots.ts). @default every shot */
  readonly shard?: ShardSpec | undefined;
}

export interface ComputedPlan {
  readonly plan: BuildPlan;
  readonly graph: ShotGraph;
  readonly targets: ReadonlySet<ShotId>;
  readonly lockfile: Lockfile;
  readonly provider: ProviderConfig;
  readonly family: ProviderFamily;
  /** The bytes to upload for each target shot with a reference image. */
  readonly references: ReadonlyMap<ShotId, PreparedReference>;
  /** With `--shard`: what this shard holds (its shots are already the only targets). */
  readonly shard?: Shard;
  /** Frames, input video and reference images to upload, for each target shot that has any. */
  readonly media: ReadonlyMap<ShotId, PreparedMedia>;
}

/** Why no plan could be made. */
export type ComputePlanFailure =
  /** The manifest or the lockfile is wrong in a way the user must fix (cycles, a bad lockfile, an image). */
  | { readonly reason: 'invalid-project'; readonly diagnostics: readonly Diagnostic[] }
  /** A `--shot` id is not in the manifest: a usage error. */
  | { readonly reason: 'unknown-shot'; readonly message: string };

export async function computePlan(
  options: ComputePlanOptions,
): Promise<Result<ComputedPlan, ComputePlanFailure>> {
  const { config, manifest } = options;
  const graph = buildGraph(manifest);
  if (!graph.ok) return fail({ reason: 'invalid-project', diagnostics: graph.error });
  const selected = selectTargets(graph.value, options.shotIds ?? []);
  if (!selected.ok) return fail({ reason: 'unknown-shot', message: selected.error.message });
  // A shard is closed under parents and children, `--shot`'s selection under parents: what both hold is
  // still closed under parents, so every target can be built.
  const shard =
    options.shard === undefined
      ? undefined
      : selectShard(graph.value, options.shard, (id) => shotWeight(manifest.shots.get(id)!.seconds));
  const targets =
    shard === undefined
      ? selected
      : ok(new Set([...selected.value].filter((id) => shard.shots.has(id))) as ReadonlySet<ShotId>);

  const problems: Diagnostic[] = [];
  let lockfile = options.lockfile;
  if (lockfile === undefined) {
    const read = await readLockfile(manifest.lockfilePath);
    if (read.ok) lockfile = read.value;
    else problems.push(...read.error);
  }

  // Several shots may share one image at one size: prepare each distinct (image, size, fit) once.
  const references = new Map<ShotId, PreparedReference>();
  const referenceDigests = new Map<ShotId, Sha256 | null>();
  const prepared = new Map<string, Promise<Awaited<ReturnType<typeof prepareReference>>>>();
  for (const id of graph.value.ids) {
    if (!targets.value.has(id)) continue;
    const shot = manifest.shots.get(id)!;
    const reference = shot.inputReference;
    if (reference === undefined) {
      referenceDigests.set(id, null);
      continue;
    }
    const prep = { reference, width: shot.width, height: shot.height, cacheDir: config.cacheDir };
    const memoKey = `${preparedReferencePath(prep)}\0${reference.path}`;
    let pending = prepared.get(memoKey);
    if (pending === undefined) prepared.set(memoKey, (pending = prepareReference(prep)));
    const result = await pending;
    if (result.ok) {
      references.set(id, result.value);
      referenceDigests.set(id, result.value.digest);
    } else if (!problems.includes(result.error)) problems.push(result.error);
  }
  // Frames (resized like reference images), input videos and reference images, per target shot.
  const media = new Map<ShotId, PreparedMedia>();
  for (const id of graph.value.ids) {
    const shot = manifest.shots.get(id)!;
    if (!targets.value.has(id) || !hasMedia(shot)) continue;
    const result = await prepareMedia({ shot, cacheDir: config.cacheDir });
    if (result.ok) media.set(id, result.value);
    else problems.push(...result.error.filter((d) => !problems.includes(d)));
  }
  if (problems.length > 0 || lockfile === undefined) {
    return fail({ reason: 'invalid-project', diagnostics: problems.sort(compareDiagnostics) });
  }

  const cache =
    options.cache ??
    openCacheIndex({
      lockfile,
      // One stat per pinned shot is cheapest for a small lockfile; for a big one, one listing of the store.
      store:
        lockfile.shots.size >= LIST_STORE_FROM
          ? listStoreObjects(config.cacheDir)
          : Store.open(config.cacheDir),
      actionCache: listActionCache(ActionCache.open(config.cacheDir)),
    });
  const family = providerFamily(config.provider.type);
  const plan = planBuild({
    manifest,
    graph: graph.value,
    targets: targets.value,
    cache,
    family,
    referenceDigests,
    pricing: config.provider.pricing,
    quota: config.provider.quota,
    renderEstimate: options.renderEstimate ?? defaultRenderEstimate(config.provider),
    // Each shot is keyed and priced by the provider it names.
    providers: new Map(
      [...config.providers.values()].map((p) => [
        p.name,
        { family: providerFamily(p.type), pricing: p.pricing },
      ]),
    ),
    media: new Map([...media].map(([id, m]) => [id, m.digests])),
  });
  return ok({
    plan,
    graph: graph.value,
    targets: targets.value,
    lockfile,
    provider: config.provider,
    family,
    references,
    ...(shard !== undefined ? { shard } : {}),
    media,
  });
}

/**
 * Expected ms from create to a downloaded video, for planning only (the scheduler learns real durations).
 * The emulator renders `renderSecondsPerSecond` (default 6) seconds per second of video. Real services
 * vary with load; 15 s per second of video plus 20 s of queueing and download is a middle-of-the-road
 * figure for Sora-class models (an 8 s clip in about 2 minutes and a half).
 */
export function defaultRenderEstimate(provider: ProviderConfig): (seconds: number) => number {
  switch (provider.type) {
    case 'emulator': {
      const perSecond = provider.renderSecondsPerSecond ?? 6;
      return (seconds) => seconds * perSecond * 1000;
    }
    case 'openai':
    case 'azure-sora1':
    case 'runway':
    case 'fal':
      return (seconds) => seconds * 15_000 + 20_000;
    case 'vertex-veo':
      // Google: "Min: 11 seconds; Max: 6 minutes (during peak hours)"; a minute and a half for 8 s is a guess.
      return (seconds) => seconds * 10_000 + 10_000;
    default:
      return unreachable(provider.type);
  }
}
