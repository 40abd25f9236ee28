/**
 * The planner (design.md section 5, style.md habit 6): a PURE function from the manifest, its graph and a
 * read-only view of local state to what a build would do with each shot, why, at what cost and in how
 * long. It touches no network and writes nothing; `plan`, `plan --json` and `build` all call it (through
 * `computePlan`), so a dry run can never disagree with the real one.
 */
import type { Sha256, ShotId } from '../core/brand.ts';
import type { CacheIndex, LockEntry } from '../cache/types.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { ProviderConfig, QuotaConfig } from '../config/types.ts';
import type { ShotGraph } from '../graph/shot-graph.ts';
import { criticalPathLengths } from '../graph/critical-path.ts';
import type { Manifest, ShotConfig } from '../manifest/types.ts';
import { estimateWallTime } from './estimate-wall-time.ts';
import type { SimulatedJob } from './estimate-wall-time.ts';
import type { BuildPlan, PlannedShot, ShotState, StaleReason } from './plan-types.ts';
import { SHOT_STATES, willGenerate } from './plan-types.ts';
import { KEY_FORMAT_VERSION, sha256Hex, shotKey, shotKeyData } from './shot-key.ts';
import type { ShotKeyData, ShotMediaDigests } from './shot-key.ts';
import { decideShot } from './decide-shot.ts';

export interface PlanBuildOptions {
  readonly manifest: Pick<Manifest, 'shots'>;
  /** From `buildGraph(manifest)`. */
  readonly graph: ShotGraph;
  /** From `selectTargets`: shots to plan, closed under ancestors. */
  readonly targets: ReadonlySet<ShotId>;
  readonly cache: CacheIndex;
  /** The chosen provider's family (enters every key). */
  readonly family: ProviderFamily;
  /**
   * Digest of each target shot's reference image as it will be uploaded (after fit; see
   * `prepareReference`), null for a shot without one. Computed before planning because resizing reads files.
   */
  readonly referenceDigests: ReadonlyMap<ShotId, Sha256 | null>;
  /** Model -> USD per second of video. A model not listed has an unknown price (see `priceOf`). */
  readonly pricing: ProviderConfig['pricing'];
  readonly quota: QuotaConfig;
  /** Expected ms from create to a downloaded video, for a shot of `seconds` seconds. */
  readonly renderEstimate: (seconds: number) => number;
  /**
   * Family and prices of each provider a shot names (`provider:`), by name; a shot whose provider is not
   * listed uses `family` and `pricing`. @default none
   */
  readonly providers?: ReadonlyMap<
    string,
    { readonly family: ProviderFamily; readonly pricing: ProviderConfig['pricing'] }
  >;
  /** Digests of each target shot's frames, input video and reference images as sent. @default none */
  readonly media?: ReadonlyMap<ShotId, ShotMediaDigests>;
}

/** The family and prices of the provider that builds `shot`. */
function providerFor(
  shot: Pick<ShotConfig, 'provider'>,
  options: Pick<PlanBuildOptions, 'providers' | 'family' | 'pricing'>,
): { readonly family: ProviderFamily; readonly pricing: ProviderConfig['pricing'] } {
  return options.providers?.get(shot.provider) ?? { family: options.family, pricing: options.pricing };
}

/**
 * USD per second for a model: the provider's price list; else free on the emulator (its placeholder videos
 * cost nothing); else null, "unknown", which is never shown or summed as $0.
 */
export function priceOf(
  model: string,
  pricing: ProviderConfig['pricing'],
  family: ProviderFamily,
): number | null {
  const price = Object.hasOwn(pricing, model) ? pricing[model] : undefined;
  if (price !== undefined) return price.usdPerSecond;
  return family === 'emulator' ? 0 : null;
}

/** A shot's state and key, before the estimates that need every shot's state. */
type Draft = Omit<PlannedShot, 'criticalPathMs' | 'expectedRenderMs' | 'estimatedCostUsd'>;

export function planBuild(options: PlanBuildOptions): BuildPlan {
  const { manifest, graph, targets } = options;

  // 1. States, parents before children: a child's key needs its parent's chosen output digest.
  const drafts = new Map<ShotId, Draft>();
  for (const id of graph.topologicalOrder) {
    if (!targets.has(id)) continue;
    const shot = manifest.shots.get(id);
    if (shot === undefined)
      throw new Error(`internal error: shot ${id} is in the graph but not the manifest`);
    drafts.set(id, planShot(shot, graph, drafts, options));
  }
  if (drafts.size !== targets.size) throw new Error('internal error: a target shot is not in the graph');

  // 2. Expected time and critical path over the shots to generate (the scheduler's priority).
  const renderMs = new Map<ShotId, number>();
  for (const [id, d] of drafts) {
    renderMs.set(id, willGenerate(d.state) ? options.renderEstimate(manifest.shots.get(id)!.seconds) : 0);
  }
  const critical = criticalPathLengths(graph, (id) => renderMs.get(id) ?? 0);

  // 3. Cost, and the shots in id order.
  const shots: PlannedShot[] = [];
  const byId = new Map<ShotId, PlannedShot>();
  const byState = Object.fromEntries(SHOT_STATES.map((s) => [s, 0])) as Record<ShotState, number>;
  let knownUsd = 0;
  let unknownShots = 0;
  let videoSeconds = 0;
  const unpriced = new Set<string>();
  for (const id of graph.ids) {
    const d = drafts.get(id);
    if (d === undefined) continue;
    const shot = manifest.shots.get(id)!;
    let cost: number | null = 0;
    if (willGenerate(d.state)) {
      const provider = providerFor(shot, options);
      const price = priceOf(shot.model, provider.pricing, provider.family);
      // Each variant is a video of `seconds` (Sora 1 bills the seconds it renders).
      cost = price === null ? null : price * shot.seconds * shot.variants;
      videoSeconds += shot.seconds * shot.variants;
      if (cost === null) {
        unknownShots++;
        unpriced.add(shot.model);
      } else knownUsd += cost;
    }
    byState[d.state]++;
    const planned: PlannedShot = {
      ...d,
      estimatedCostUsd: cost,
      expectedRenderMs: renderMs.get(id)!,
      criticalPathMs: critical.get(id)!,
    };
    shots.push(planned);
    byId.set(id, planned);
  }
  knownUsd = roundCents(knownUsd);

  return {
    shots,
    byId,
    totals: {
      shots: shots.length,
      toGenerate: byState.missing + byState.stale + byState.blocked,
      byState,
      cost: {
        knownUsd,
        unknownShots,
        unpricedModels: [...unpriced].sort(),
        totalUsd: unknownShots === 0 ? knownUsd : null,
      },
      wallTimeMs: simulate(graph, shots, byId, options.quota),
      videoSeconds,
    },
  };
}

/** Float sums of prices like 0.1 drift (0.30000000000000004); costs are shown and compared in cents. */
function roundCents(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

function planShot(
  shot: ShotConfig,
  graph: ShotGraph,
  decided: ReadonlyMap<ShotId, Draft>,
  options: PlanBuildOptions,
): Draft {
  const { cache } = options;
  const { family } = providerFor(shot, options);
  const lockEntry = cache.lockEntry(shot.id) ?? null;
  const referenceDigest = options.referenceDigests.get(shot.id);
  if (referenceDigest === undefined) {
    throw new Error(`internal error: no reference digest for ${shot.id} (null means none)`);
  }
  if ((referenceDigest === null) !== (shot.inputReference === undefined)) {
    throw new Error(`internal error: the reference digest of ${shot.id} does not match its input_reference`);
  }

  // The analyzer allows one parent per shot (remix_of or extend_of), so the key has one parent slot.
  const edge = graph.parents(shot.id)[0];
  let parent: ShotKeyData['parent'] = null;
  if (edge !== undefined) {
    const p = decided.get(edge.parent);
    if (p === undefined)
      throw new Error(`internal error: parent ${edge.parent} of ${shot.id} not planned first`);
    const output = chosenOutput(p);
    if (output === null) {
      // The parent will be generated: its new video (hence this shot's key) is unknown until it is.
      const reasons =
        lockEntry === null
          ? []
          : [
              ...changedFields(shot, lockEntry, family, referenceDigest, undefined),
              'parent-rebuilt' as const,
            ];
      return {
        id: shot.id,
        state: 'blocked',
        reasons: orderReasons(reasons),
        key: null,
        keyData: null,
        blockedBy: edge.parent,
        lockEntry,
        cachedSample: null,
      };
    }
    parent = { relation: edge.relation, output };
  }

  const media = options.media?.get(shot.id);
  const keyData = shotKeyData({
    shot,
    family,
    referenceDigest,
    parent,
    ...(media === undefined ? {} : { media }),
  });
  const key = shotKey(keyData);
  const base = { id: shot.id, key, keyData, blockedBy: null, lockEntry };
  const decision = decideShot({
    key,
    pinned: lockEntry,
    samples: () => cache.samples(key),
    hasObject: (digest) => cache.hasObject(digest),
  });
  if (decision.kind === 'fresh') return { ...base, state: 'fresh', reasons: [], cachedSample: null };
  const reasons: StaleReason[] = [];
  if (lockEntry !== null) {
    if (lockEntry.key === key) reasons.push('output-missing');
    else {
      reasons.push(...changedFields(shot, lockEntry, family, referenceDigest, parent));
      if (reasons.length === 0) reasons.push('key-changed');
    }
  }
  if (decision.kind === 're-pin') {
    return { ...base, state: 'cached', reasons: orderReasons(reasons), cachedSample: decision.sample };
  }
  // restore (reason `output-missing`) or generate.
  return {
    ...base,
    state: lockEntry === null ? 'missing' : 'stale',
    reasons: orderReasons(reasons),
    cachedSample: null,
  };
}

/** The output digest a decided parent stands for, or null when it will be generated. */
function chosenOutput(p: Pick<PlannedShot, 'state' | 'lockEntry' | 'cachedSample'>): Sha256 | null {
  if (p.state === 'fresh') return p.lockEntry!.output;
  if (p.state === 'cached') return p.cachedSample!.output;
  return null;
}

/**
 * Which key inputs differ from what the lockfile entry recorded. `parent` undefined: not comparable yet
 * (the parent will be rebuilt).
 */
function changedFields(
  shot: ShotConfig,
  lock: LockEntry,
  family: ProviderFamily,
  reference: Sha256 | null,
  parent: ShotKeyData['parent'] | undefined,
): StaleReason[] {
  const reasons: StaleReason[] = [];
  if (lock.keyFormat !== KEY_FORMAT_VERSION) reasons.push('key-format-changed');
  if (lock.family !== family) reasons.push('provider-changed');
  if (lock.model !== shot.model) reasons.push('model-changed');
  if (lock.promptSha256 !== sha256Hex(shot.prompt)) reasons.push('prompt-changed');
  if (lock.size !== shot.size) reasons.push('size-changed');
  if (lock.seconds !== shot.seconds) reasons.push('seconds-changed');
  if (lock.referenceSha256 === null && reference !== null) reasons.push('reference-added');
  else if (lock.referenceSha256 !== null && reference === null) reasons.push('reference-removed');
  else if (lock.referenceSha256 !== reference) reasons.push('reference-changed');
  if (parent !== undefined) {
    if (lock.parentRelation === null && parent !== null) reasons.push('parent-added');
    else if (lock.parentRelation !== null && parent === null) reasons.push('parent-removed');
    else if (parent !== null) {
      if (lock.parentRelation !== parent.relation) reasons.push('parent-relation-changed');
      if (lock.parentOutput !== parent.output) reasons.push('parent-output-changed');
    }
  }
  return reasons;
}

const REASON_ORDER: readonly StaleReason[] = [
  'key-format-changed',
  'provider-changed',
  'model-changed',
  'prompt-changed',
  'size-changed',
  'seconds-changed',
  'reference-changed',
  'reference-added',
  'reference-removed',
  'parent-rebuilt',
  'parent-output-changed',
  'parent-added',
  'parent-removed',
  'parent-relation-changed',
  'output-missing',
  'key-changed',
];

function orderReasons(reasons: readonly StaleReason[]): StaleReason[] {
  return [...new Set(reasons)].sort((a, b) => REASON_ORDER.indexOf(a) - REASON_ORDER.indexOf(b));
}

/** The generations of the plan as simulation jobs (dependencies among generated shots only). */
function simulate(
  graph: ShotGraph,
  shots: readonly PlannedShot[],
  byId: ReadonlyMap<ShotId, PlannedShot>,
  quota: QuotaConfig,
): number {
  const index = new Map<ShotId, number>();
  const generated = shots.filter((s) => willGenerate(s.state));
  generated.forEach((s, i) => index.set(s.id, i));
  const jobs: SimulatedJob[] = generated.map((s) => ({
    durationMs: s.expectedRenderMs,
    priority: s.criticalPathMs,
    name: s.id,
    after: graph
      .parents(s.id)
      .filter((e) => byId.get(e.parent) !== undefined && index.has(e.parent))
      .map((e) => index.get(e.parent)!),
  }));
  return estimateWallTime(jobs, quota);
}
