import type { ShotId } from '../core/brand.ts';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import type { Manifest } from '../manifest/types.ts';
import type { ParentEdge } from './shot-graph.ts';

/**
 * One diagnostic per cycle among `candidates` (the shots a topological sort could not place), listing every
 * edge: `cycle: a -> b -> c -> a`, with the `remix_of:` / `extend_of:` field of each edge as a supplemental
 * location, so the user sees every line to change.
 *
 * Deterministic: cycles are the strongly connected components (Tarjan, iterative), each reported once as
 * the shortest cycle through its smallest id, starting there; diagnostics are sorted by that id. (With at
 * most one parent per shot a component *is* one cycle; with both `remix_of` and `extend_of` on a shot it can
 * hold several, and the shortest through its smallest member is the clearest one to show.)
 */
export function findCycles(
  manifest: Pick<Manifest, 'shots'>,
  candidates: readonly ShotId[],
  parentsOf: (id: ShotId) => readonly ParentEdge[],
): Diagnostic[] {
  const inCandidates = new Set(candidates);
  const diagnostics: { start: ShotId; diagnostic: Diagnostic }[] = [];
  for (const component of stronglyConnectedComponents(candidates, (id) =>
    parentsOf(id)
      .map((e) => e.parent)
      .filter((p) => inCandidates.has(p)),
  )) {
    const members = new Set(component);
    const start = component.reduce((min, id) => (id < min ? id : min));
    const single = component.length === 1;
    if (single && !parentsOf(start).some((e) => e.parent === start)) continue; // downstream of a cycle
    const cycle = shortestCycle(start, (id) => parentsOf(id).filter((e) => members.has(e.parent)));
    diagnostics.push({ start, diagnostic: cycleDiagnostic(manifest, start, cycle) });
  }
  diagnostics.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return diagnostics.map((d) => d.diagnostic);
}

/** Edges of the shortest path from `start` back to itself (breadth-first, `remix_of` before `extend_of`). */
function shortestCycle(
  start: ShotId,
  edgesOf: (id: ShotId) => readonly ParentEdge[],
): { from: ShotId; edge: ParentEdge }[] {
  const via = new Map<ShotId, { from: ShotId; edge: ParentEdge }>();
  const queue: ShotId[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const edge of edgesOf(id)) {
      if (edge.parent === start) {
        const path = [{ from: id, edge }];
        for (let at = id; at !== start;) {
          const step = via.get(at)!;
          path.push(step);
          at = step.from;
        }
        return path.reverse();
      }
      if (!via.has(edge.parent)) {
        via.set(edge.parent, { from: id, edge });
        queue.push(edge.parent);
      }
    }
  }
  throw new Error(`internal error: no cycle through ${start} in its strongly connected component`);
}

function cycleDiagnostic(
  manifest: Pick<Manifest, 'shots'>,
  start: ShotId,
  cycle: readonly { from: ShotId; edge: ParentEdge }[],
): Diagnostic {
  const edgeLocation = (from: ShotId, edge: ParentEdge): Location => {
    const shot = manifest.shots.get(from)!;
    return shot.fieldLocations[edge.relation] ?? shot.location;
  };
  const first = cycle[0]!;
  return {
    severity: 'error',
    message: `cycle: ${[start, ...cycle.map((s) => s.edge.parent)].join(' -> ')}`,
    location: edgeLocation(first.from, first.edge),
    supplementalLocations: cycle.map((s) => ({
      message: `${s.from} ${s.edge.relation} ${s.edge.parent}`,
      location: edgeLocation(s.from, s.edge),
    })),
  };
}

/** Tarjan's algorithm with an explicit stack (no recursion: a 100k-shot chain must not overflow). */
function stronglyConnectedComponents(
  nodes: readonly ShotId[],
  successors: (id: ShotId) => readonly ShotId[],
): ShotId[][] {
  const index = new Map<ShotId, number>();
  const low = new Map<ShotId, number>();
  const onStack = new Set<ShotId>();
  const stack: ShotId[] = [];
  const components: ShotId[][] = [];
  let next = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { id: ShotId; succ: readonly ShotId[]; i: number }[] = [];
    const visit = (id: ShotId): void => {
      index.set(id, next);
      low.set(id, next);
      next++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, succ: successors(id), i: 0 });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.succ.length) {
        const w = frame.succ[frame.i++]!;
        if (!index.has(w)) visit(w);
        else if (onStack.has(w)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: ShotId[] = [];
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
          if (w === frame.id) break;
        }
        components.push(component);
      }
    }
  }
  return components;
}
