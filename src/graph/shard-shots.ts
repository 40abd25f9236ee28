/**
 * `--shard K/N`: a deterministic part of a storyboard, for CI matrices (issue 15). N runners each build one
 * shard; together they build the storyboard exactly once, sharing results through the remote cache.
 *
 * - **Chains stay together.** The unit of assignment is a connected component of the remix/extend graph (a
 *   parent with all its remixes and extensions, transitively): a child needs its parent's remote video and
 *   output digest, so splitting a chain would make two runners generate the parent, or one wait on another.
 * - **Deterministic from the manifest alone.** The partition depends on the shot ids, their links and their
 *   seconds, never on local state (each runner's store differs) or the provider: every runner at one commit
 *   computes the same partition, and `plan --shard` on a laptop shows what CI will do.
 * - **Balanced by expected render time**: largest component first onto the lightest shard (longest
 *   processing time first), so no shard carries more than the lightest one plus the largest component.
 *   A shot weighs 15 s per second of video plus 20 s (the planner's estimate for a real service).
 *
 * Editing the storyboard can move components between shards: that is fine, since a shard is recomputed on
 * every run and the cache (local or remote) holds what was built wherever it was built.
 */
import type { ShotId } from '../core/brand.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ShotGraph } from './shot-graph.ts';

/** Shard `index` (1-based) of `count`. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** The most shards a storyboard can be cut into (GitHub Actions caps a matrix at 256 jobs). */
export const MAX_SHARDS = 1000;

/** Reads `K/N` (1 ≤ K ≤ N ≤ MAX_SHARDS). The error is one sentence for the user. */
export function parseShard(text: string): Result<ShardSpec, string> {
  const found = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = found === null ? NaN : Number(found[1]);
  const count = found === null ? NaN : Number(found[2]);
  if (!(index >= 1 && count >= 1 && index <= count && count <= MAX_SHARDS)) {
    return fail(`expected --shard to be K/N with 1 <= K <= N <= ${MAX_SHARDS} (e.g. 2/4), but got '${text}'`);
  }
  return ok({ index, count });
}

/** Expected render-time weight of one shot (see the module comment). */
export function shotWeight(seconds: number): number {
  return seconds * 15 + 20;
}

/** One connected component of the remix/extend graph: a chain (or tree) of shots that must stay together. */
export interface ShotChain {
  /** In id order. */
  readonly ids: readonly ShotId[];
  readonly weight: number;
}

/** The connected components of `graph`, each in id order, listed by their first id. */
export function shotChains(graph: ShotGraph, weight: (id: ShotId) => number): ShotChain[] {
  const seen = new Set<ShotId>();
  const chains: ShotChain[] = [];
  for (const start of graph.ids) {
    if (seen.has(start)) continue;
    seen.add(start);
    const ids: ShotId[] = [];
    const work = [start];
    while (work.length > 0) {
      const id = work.pop()!;
      ids.push(id);
      for (const edge of graph.parents(id)) {
        if (!seen.has(edge.parent)) {
          seen.add(edge.parent);
          work.push(edge.parent);
        }
      }
      for (const child of graph.children(id)) {
        if (!seen.has(child)) {
          seen.add(child);
          work.push(child);
        }
      }
    }
    ids.sort(byCodeUnit);
    chains.push({ ids, weight: ids.reduce((sum, id) => sum + weight(id), 0) });
  }
  return chains;
}

/**
 * Every shard of a partition into `count` parts, as chains. Heaviest chain first (ties: by first id) onto the
 * lightest shard so far (ties: the lowest index). Shards may be empty when there are fewer chains than shards.
 */
export function partitionChains(chains: readonly ShotChain[], count: number): ShotChain[][] {
  const order = [...chains].sort((a, b) => b.weight - a.weight || byCodeUnit(a.ids[0]!, b.ids[0]!));
  const shards: ShotChain[][] = Array.from({ length: count }, () => []);
  const loads = new Array<number>(count).fill(0);
  for (const chain of order) {
    let lightest = 0;
    for (let i = 1; i < count; i++) if (loads[i]! < loads[lightest]!) lightest = i;
    shards[lightest]!.push(chain);
    loads[lightest]! += chain.weight;
  }
  return shards;
}

/** What one shard holds. */
export interface Shard extends ShardSpec {
  readonly shots: ReadonlySet<ShotId>;
  /** Chains (connected components) in this shard. */
  readonly chains: number;
  /** Its expected render-time weight, and the heaviest shard's, for the plan's summary. */
  readonly weight: number;
  readonly heaviestWeight: number;
  /** Shots in the whole storyboard. */
  readonly totalShots: number;
}

/** Shard `spec` of the storyboard in `graph`, with `weight(id)` the expected render time of a shot. */
export function selectShard(graph: ShotGraph, spec: ShardSpec, weight: (id: ShotId) => number): Shard {
  const shards = partitionChains(shotChains(graph, weight), spec.count);
  const mine = shards[spec.index - 1]!;
  const weightOf = (chains: readonly ShotChain[]): number => chains.reduce((s, c) => s + c.weight, 0);
  return {
    ...spec,
    shots: new Set(mine.flatMap((c) => c.ids)),
    chains: mine.length,
    weight: weightOf(mine),
    heaviestWeight: Math.max(...shards.map(weightOf)),
    totalShots: graph.ids.length,
  };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
