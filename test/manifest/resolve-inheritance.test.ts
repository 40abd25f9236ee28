import { describe, expect, it } from 'vitest';
import { resolveInheritance } from '../../src/manifest/resolve-inheritance.ts';
import type { ParentLink } from '../../src/manifest/resolve-inheritance.ts';

interface S {
  readonly id: string;
  readonly own: number;
}

/** Each shot's value is its own number plus its parent's: the depth sum along the chain. */
function resolve(shots: S[], links: Record<string, ParentLink>, present = shots): Map<string, string> {
  let rootCalls = 0;
  const result = resolveInheritance<S, string>({
    shots,
    byId: new Map(present.map((s) => [s.id, s])),
    parentOf: new Map(Object.entries(links)),
    root: (s) => {
      rootCalls++;
      return String(s.own);
    },
    child: (s, relation, parent) => `${parent}${relation === 'remix_of' ? '+' : '>'}${s.own}`,
    inCycle: (s) => `cycle(${s.id})`,
    unreadableParent: '?',
  });
  expect(rootCalls).toBeLessThanOrEqual(shots.length);
  return result;
}

describe('resolveInheritance', () => {
  it('resolves parents first, whatever the file order', () => {
    const shots = [
      { id: 'c', own: 3 },
      { id: 'a', own: 1 },
      { id: 'b', own: 2 },
    ];
    const out = resolve(shots, {
      c: { id: 'b', relation: 'extend_of' },
      b: { id: 'a', relation: 'remix_of' },
    });
    expect(Object.fromEntries(out)).toEqual({ a: '1', b: '1+2', c: '1+2>3' });
  });

  it('hands cycles (and what hangs below them) to inCycle, and unreadable parents their placeholder', () => {
    const shots = [
      { id: 'x', own: 0 },
      { id: 'a', own: 1 },
      { id: 'b', own: 2 },
      { id: 'd', own: 4 },
    ];
    const out = resolve(
      shots,
      {
        x: { id: 'a', relation: 'remix_of' },
        a: { id: 'b', relation: 'remix_of' },
        b: { id: 'a', relation: 'remix_of' },
        d: { id: 'gone', relation: 'extend_of' },
      },
      shots,
    );
    expect(Object.fromEntries(out)).toEqual({ x: 'cycle(x)', a: 'cycle(a)', b: 'cycle(b)', d: '?>4' });
  });

  it('walks a 100,000-shot chain without recursion', () => {
    const n = 100_000;
    const shots = Array.from({ length: n }, (_, i) => ({ id: `s${i}`, own: 1 }));
    const links: Record<string, ParentLink> = {};
    for (let i = 1; i < n; i++) links[`s${i}`] = { id: `s${i - 1}`, relation: 'remix_of' };
    // Children listed before their parents: the worst order for a naive walk.
    const out = resolveInheritance<S, number>({
      shots: [...shots].reverse(),
      byId: new Map(shots.map((s) => [s.id, s])),
      parentOf: new Map(Object.entries(links)),
      root: () => 1,
      child: (_s, _r, parent) => parent + 1,
      inCycle: () => -1,
      unreadableParent: -2,
    });
    expect(out.get(`s${n - 1}`)).toBe(n);
    expect(out.size).toBe(n);
  });
});
