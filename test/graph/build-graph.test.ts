import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/graph/build-graph.ts';
import type { ShotGraph } from '../../src/graph/shot-graph.ts';
import type { Diagnostic } from '../../src/core/diagnostic.ts';
import { lineAndColumn } from '../../src/core/diagnostic.ts';
import { asShotId } from '../../src/core/brand.ts';
import { manifestOf } from '../plan/builders.ts';
import type { ShotSpec } from '../plan/builders.ts';

function graphOf(specs: Record<string, ShotSpec>): ShotGraph {
  const r = buildGraph(manifestOf(specs));
  if (!r.ok) throw new Error(r.error.map((d) => d.message).join('\n'));
  return r.value;
}

function cyclesOf(specs: Record<string, ShotSpec>): Diagnostic[] {
  const r = buildGraph(manifestOf(specs));
  if (r.ok) throw new Error('expected cycles');
  return r.error;
}

/** `message @line:col` of a diagnostic and each of its supplemental locations. */
function describe_(d: Diagnostic): string[] {
  const at = (l: Diagnostic['location']): string => {
    const { line, col } = lineAndColumn(l.file.contents, l.range.offset);
    return `${line}:${col}`;
  };
  return [
    `${d.severity}: ${d.message} @${at(d.location)}`,
    ...(d.supplementalLocations ?? []).map((s) => `  ${s.message} @${at(s.location)}`),
  ];
}

describe('buildGraph', () => {
  it('orders parents before children, ties in id order, and lists children sorted', () => {
    const g = graphOf({
      z: {},
      'c-teal': { remix_of: 'c' },
      c: {},
      'c-ext': { extend_of: 'c-teal' },
      a: { remix_of: 'z' },
      b: {},
    });
    expect(g.ids).toEqual(['a', 'b', 'c', 'c-ext', 'c-teal', 'z']);
    expect(g.topologicalOrder).toEqual(['b', 'c', 'z', 'c-teal', 'a', 'c-ext']);
    expect(g.children(asShotId('c'))).toEqual(['c-teal']);
    expect(g.parents(asShotId('c-ext'))).toEqual([{ parent: 'c-teal', relation: 'extend_of' }]);
    expect(g.parents(asShotId('b'))).toEqual([]);
  });

  it('leaves out an edge to an unknown parent without a second diagnostic (the analyzer reported it)', () => {
    const g = graphOf({ a: { remix_of: 'nope' }, b: {} });
    expect(g.parents(asShotId('a'))).toEqual([]);
    expect(g.topologicalOrder).toEqual(['a', 'b']);
  });

  it('reports a self-cycle with its one edge', () => {
    expect(cyclesOf({ a: {}, b: { remix_of: 'b' } }).flatMap(describe_)).toEqual([
      'error: cycle: b -> b @6:5',
      '  b remix_of b @6:5',
    ]);
  });

  it('reports a 2-cycle starting at the smallest id, with every edge', () => {
    expect(cyclesOf({ y: { extend_of: 'x' }, x: { remix_of: 'y' } }).flatMap(describe_)).toEqual([
      'error: cycle: x -> y -> x @7:5',
      '  x remix_of y @7:5',
      '  y extend_of x @4:5',
    ]);
  });

  it('reports a 3-cycle, and nothing for a shot that is only downstream of it', () => {
    expect(
      cyclesOf({
        c: { remix_of: 'a' },
        a: { remix_of: 'b' },
        b: { remix_of: 'c' },
        d: { remix_of: 'c' },
      }).flatMap(describe_),
    ).toEqual([
      'error: cycle: a -> b -> c -> a @7:5',
      '  a remix_of b @7:5',
      '  b remix_of c @10:5',
      '  c remix_of a @4:5',
    ]);
  });

  it('reports two separate cycles in id order, whatever the manifest order', () => {
    const specs: Record<string, ShotSpec> = {
      q: { remix_of: 'p' },
      p: { remix_of: 'q' },
      ok: {},
      m: { extend_of: 'n' },
      n: { remix_of: 'o' },
      o: { remix_of: 'm' },
    };
    const reversed = Object.fromEntries(Object.entries(specs).reverse());
    const messages = cyclesOf(specs).map((d) => d.message);
    expect(messages).toEqual(['cycle: m -> n -> o -> m', 'cycle: p -> q -> p']);
    expect(cyclesOf(reversed).map((d) => d.message)).toEqual(messages);
  });

  it('reports the shortest cycle through the smallest id when a shot has two parents', () => {
    expect(
      cyclesOf({ a: { remix_of: 'b', extend_of: 'c' }, b: { remix_of: 'c' }, c: { remix_of: 'a' } }).map(
        (d) => d.message,
      ),
    ).toEqual(['cycle: a -> c -> a']);
  });

  it('handles a 30,000-shot chain without recursion (a recursive walk would overflow the stack)', () => {
    const specs: Record<string, ShotSpec> = { s000000: {} };
    for (let i = 1; i < 30_000; i++)
      specs[`s${String(i).padStart(6, '0')}`] = { remix_of: `s${String(i - 1).padStart(6, '0')}` };
    const g = graphOf(specs);
    expect(g.topologicalOrder.length).toBe(30_000);
    expect(g.topologicalOrder[29_999]).toBe('s029999');
    specs.s000000 = { remix_of: 's029999' };
    const [d, ...rest] = cyclesOf(specs);
    expect(rest).toEqual([]);
    expect(d!.supplementalLocations).toHaveLength(30_000);
    // Edges point from child to parent: s000000 now remixes the last shot of the chain.
    expect(d!.message.startsWith('cycle: s000000 -> s029999 -> s029998 -> ')).toBe(true);
    expect(d!.message.endsWith(' -> s000001 -> s000000')).toBe(true);
  });
});
