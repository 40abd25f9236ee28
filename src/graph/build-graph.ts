import type { ShotId } from '../core/brand.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { Manifest } from '../manifest/types.ts';
import { findCycles } from './find-cycles.ts';
import type { ParentEdge } from './shot-graph.ts';
import { ShotGraph } from './shot-graph.ts';

/**
 * Resolves the manifest's `remix_of` / `extend_of` fields into a DAG.
 *
 * Fails with one diagnostic per cycle (every edge listed, see `findCycles`). A parent that does not exist is
 * *not* reported here: the manifest analyzer already said so at the field, and a second message about the
 * same mistake would be noise (style.md, habit 2); such an edge is simply left out of the graph.
 *
 * Linear time and no recursion, so 100k shots are fine.
 */
export function buildGraph(manifest: Pick<Manifest, 'shots'>): Result<ShotGraph, Diagnostic[]> {
  const ids = [...manifest.shots.keys()];
  // The analyzer already gives shots in id order; sort only a map built otherwise (tests, programs).
  if (!ids.every((id, i) => i === 0 || compareIds(ids[i - 1]!, id) < 0)) ids.sort(compareIds);
  const parents = new Map<ShotId, readonly ParentEdge[]>();
  const children = new Map<ShotId, ShotId[]>();
  for (const id of ids) {
    const shot = manifest.shots.get(id)!;
    const edges: ParentEdge[] = [];
    if (shot.remixOf !== undefined && manifest.shots.has(shot.remixOf)) {
      edges.push({ parent: shot.remixOf, relation: 'remix_of' });
    }
    if (shot.extendOf !== undefined && manifest.shots.has(shot.extendOf)) {
      // A shot naming the same parent twice has one dependency, not two.
      if (edges[0]?.parent !== shot.extendOf) edges.push({ parent: shot.extendOf, relation: 'extend_of' });
    }
    parents.set(id, edges);
    // Iterating ids in sorted order keeps every children list sorted without a sort per list.
    for (const edge of edges) {
      let list = children.get(edge.parent);
      if (list === undefined) children.set(edge.parent, (list = []));
      list.push(id);
    }
  }

  // Kahn's algorithm with a FIFO seeded in id order: deterministic, and whatever it cannot emit is on a
  // cycle or downstream of one.
  const waiting = new Map<ShotId, number>();
  const order: ShotId[] = [];
  for (const id of ids) {
    const n = parents.get(id)!.length;
    if (n === 0) order.push(id);
    else waiting.set(id, n);
  }
  for (let head = 0; head < order.length; head++) {
    for (const child of children.get(order[head]!) ?? []) {
      const left = waiting.get(child)! - 1;
      if (left === 0) {
        waiting.delete(child);
        order.push(child);
      } else waiting.set(child, left);
    }
  }

  if (order.length < ids.length) {
    const stuck = ids.filter((id) => waiting.has(id));
    return fail(findCycles(manifest, stuck, (id) => parents.get(id)!));
  }
  return ok(new ShotGraph({ ids, topologicalOrder: order, parents, children }));
}

/** Code-unit order, the manifest's own order for shot ids (locale-independent, unlike localeCompare). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
