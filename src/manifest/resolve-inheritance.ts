/**
 * Resolves what each shot inherits through `remix_of` / `extend_of` chains, parents first, without recursion
 * (a 10,000-shot remix chain must not overflow the stack) and in linear time (each shot is resolved once).
 * Cycles are the graph's to report; their members are resolved by `inCycle` so analysis can go on.
 */

export interface ParentLink {
  readonly id: string;
  readonly relation: 'remix_of' | 'extend_of';
}

export interface ResolveInheritanceOptions<S extends { readonly id: string }, R> {
  /** Every shot, in file order. */
  readonly shots: readonly S[];
  readonly byId: ReadonlyMap<string, S>;
  /** Valid links only (the parent exists). */
  readonly parentOf: ReadonlyMap<string, ParentLink>;
  /** A shot without a parent. */
  readonly root: (shot: S) => R;
  /** A shot with a parent, once the parent is resolved. */
  readonly child: (shot: S, relation: ParentLink['relation'], parent: R) => R;
  /** A shot on (or leading into) a cycle. */
  readonly inCycle: (shot: S) => R;
  /** What a parent that exists but could not be read (not a mapping) passes on. */
  readonly unreadableParent: R;
}

export function resolveInheritance<S extends { readonly id: string }, R>(
  options: ResolveInheritanceOptions<S, R>,
): Map<string, R> {
  const { byId, parentOf } = options;
  const resolved = new Map<string, R>();
  const visiting = new Set<string>();
  for (const start of options.shots) {
    // Walk up to the first resolved ancestor (or a root), then resolve back down.
    const chain: S[] = [];
    let at: S | undefined = start;
    let base: R | undefined;
    while (at !== undefined && !resolved.has(at.id)) {
      if (visiting.has(at.id)) {
        for (const s of chain) resolved.set(s.id, options.inCycle(s));
        chain.length = 0;
        break;
      }
      visiting.add(at.id);
      chain.push(at);
      const link = parentOf.get(at.id);
      if (link === undefined) break;
      at = byId.get(link.id);
      if (at === undefined) base = options.unreadableParent;
    }
    if (at !== undefined && resolved.has(at.id)) base = resolved.get(at.id);
    for (let k = chain.length - 1; k >= 0; k--) {
      const s = chain[k]!;
      const link = parentOf.get(s.id);
      const value =
        link === undefined
          ? options.root(s)
          : options.child(s, link.relation, base ?? options.unreadableParent);
      resolved.set(s.id, value);
      base = value;
    }
    for (const s of chain) visiting.delete(s.id);
  }
  return resolved;
}
