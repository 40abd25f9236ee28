import type { ShotId } from '../core/brand.ts';

/** How a shot depends on its parent: both relations mean "generated from the parent's output video". */
export type ParentRelation = 'remix_of' | 'extend_of';

/** One dependency edge, seen from the child: `child <relation> parent`. */
export interface ParentEdge {
  readonly parent: ShotId;
  readonly relation: ParentRelation;
}

/**
 * The shots of a manifest as a DAG (design.md section 5): edges point from a child (`remix_of`/`extend_of`)
 * to its parent. Built by `buildGraph`, which guarantees there is no cycle and every parent exists.
 *
 * Everything is precomputed into maps and arrays once, so the planner and the scheduler can walk 100k shots
 * without recursion.
 */
export class ShotGraph {
  /** All shot ids, sorted by code unit (the manifest's order). */
  readonly ids: readonly ShotId[];
  /** Every parent before its children; among shots that are ready at the same time, id order. */
  readonly topologicalOrder: readonly ShotId[];
  readonly #parents: ReadonlyMap<ShotId, readonly ParentEdge[]>;
  readonly #children: ReadonlyMap<ShotId, readonly ShotId[]>;

  constructor(options: {
    ids: readonly ShotId[];
    topologicalOrder: readonly ShotId[];
    parents: ReadonlyMap<ShotId, readonly ParentEdge[]>;
    children: ReadonlyMap<ShotId, readonly ShotId[]>;
  }) {
    this.ids = options.ids;
    this.topologicalOrder = options.topologicalOrder;
    this.#parents = options.parents;
    this.#children = options.children;
  }

  has(id: ShotId): boolean {
    return this.#parents.has(id);
  }

  /** The shot's parents (at most one per relation), `remix_of` first. */
  parents(id: ShotId): readonly ParentEdge[] {
    return this.#parents.get(id) ?? NONE;
  }

  /** Shots that name `id` as their parent, sorted by id. */
  children(id: ShotId): readonly ShotId[] {
    return this.#children.get(id) ?? NONE;
  }
}

const NONE: readonly never[] = Object.freeze([]);
