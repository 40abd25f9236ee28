import type { ShotId } from '../core/brand.ts';
import type { ShotGraph } from './shot-graph.ts';

/**
 * Critical-path length per shot (design.md section 6): the shot's own expected render time plus the longest
 * chain of its *dependants* (children, grandchildren, ...), each weighted by its own expected time. The
 * scheduler starts ready shots with the longest remaining chain first, because a long remix chain can only
 * run one link at a time and would otherwise finish last.
 *
 * `weightMs(id)` is the expected time of one shot (typically `expectedRenderMs(shot.seconds)`; 0 for a shot
 * that will not be generated). One pass in reverse topological order: O(shots + edges), no recursion.
 */
export function criticalPathLengths(
  graph: ShotGraph,
  weightMs: (id: ShotId) => number,
): ReadonlyMap<ShotId, number> {
  const lengths = new Map<ShotId, number>();
  const order = graph.topologicalOrder;
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    let longestChild = 0;
    for (const child of graph.children(id)) longestChild = Math.max(longestChild, lengths.get(child)!);
    lengths.set(id, weightMs(id) + longestChild);
  }
  return lengths;
}
