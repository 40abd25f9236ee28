/**
 * `--shard K/N` partitions (src/graph/shard-shots.ts): property tests over random storyboards (forests of
 * remix/extend chains) that the shards partition the shots exactly, keep every chain in one shard, do not
 * depend on anything but the manifest, and stay balanced; and the `K/N` syntax.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ShotId } from '../../src/core/brand.ts';
import { buildGraph } from '../../src/graph/build-graph.ts';
import type { ShotGraph } from '../../src/graph/shot-graph.ts';
import {
  parseShard,
  partitionChains,
  selectShard,
  shotChains,
  shotWeight,
} from '../../src/graph/shard-shots.ts';
import { manifestOf } from '../plan/builders.ts';
import type { ShotSpec } from '../plan/builders.ts';

/** A random storyboard: each shot either stands alone or remixes/extends an earlier one. */
const storyboard = fc
  .array(
    fc.record({
      parent: fc.option(fc.nat(), { nil: undefined }),
      relation: fc.constantFrom('remix_of', 'extend_of'),
      seconds: fc.constantFrom(4, 8, 12),
    }),
    { minLength: 0, maxLength: 60 },
  )
  .map((rows) => {
    const specs: Record<string, ShotSpec> = {};
    rows.forEach((row, i) => {
      const id = `s${String(i).padStart(3, '0')}`;
      const spec: ShotSpec = { seconds: row.seconds };
      if (row.parent !== undefined && i > 0)
        spec[row.relation] = `s${String(row.parent % i).padStart(3, '0')}`;
      specs[id] = spec;
    });
    return specs;
  });

function graphOf(specs: Record<string, ShotSpec>): { graph: ShotGraph; seconds: (id: ShotId) => number } {
  const manifest = manifestOf(specs);
  const graph = buildGraph(manifest);
  if (!graph.ok) throw new Error(graph.error.map((d) => d.message).join('\n'));
  return { graph: graph.value, seconds: (id) => shotWeight(manifest.shots.get(id)!.seconds) };
}

describe('shards', () => {
  it('partition the storyboard exactly, keep every chain in one shard, and are balanced', () => {
    fc.assert(
      fc.property(storyboard, fc.integer({ min: 1, max: 7 }), (specs, count) => {
        const { graph, seconds } = graphOf(specs);
        const shards = Array.from({ length: count }, (_, i) =>
          selectShard(graph, { index: i + 1, count }, seconds),
        );
        // Exact: every shot in exactly one shard.
        const owner = new Map<ShotId, number>();
        shards.forEach((shard, i) => {
          for (const id of shard.shots) {
            expect(owner.has(id)).toBe(false);
            owner.set(id, i);
          }
        });
        expect([...owner.keys()].sort()).toEqual([...graph.ids]);
        // Chains together: a child is always in its parent's shard.
        for (const id of graph.ids) {
          for (const edge of graph.parents(id)) expect(owner.get(edge.parent)).toBe(owner.get(id));
        }
        // Balanced: no shard carries more than the lightest plus the heaviest chain.
        const loads = shards.map((s) => s.weight);
        const heaviestChain = Math.max(0, ...shotChains(graph, seconds).map((c) => c.weight));
        expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(heaviestChain);
        expect(shards.every((s) => s.heaviestWeight === Math.max(...loads))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('depend on the manifest only: the same storyboard written in another order gives the same shards', () => {
    fc.assert(
      fc.property(storyboard, fc.integer({ min: 1, max: 5 }), fc.nat(), (specs, count, seed) => {
        const entries = Object.entries(specs);
        const shuffled = Object.fromEntries(
          entries
            .map((e, i) => [i, e] as const)
            .sort((a, b) => ((a[0] * 7919 + seed) % 101) - ((b[0] * 7919 + seed) % 101))
            .map(([, e]) => e),
        );
        const a = graphOf(specs);
        const b = graphOf(shuffled);
        for (let index = 1; index <= count; index++) {
          expect([...selectShard(a.graph, { index, count }, a.seconds).shots]).toEqual([
            ...selectShard(b.graph, { index, count }, b.seconds).shots,
          ]);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('place the heaviest chain first, onto the lightest shard, ties by first id and lowest index', () => {
    const chain = (ids: string[], weight: number) => ({ ids: ids as ShotId[], weight });
    const shards = partitionChains(
      [chain(['a'], 10), chain(['b', 'b-teal'], 30), chain(['c'], 10), chain(['d'], 20)],
      2,
    );
    expect(shards.map((s) => s.map((c) => c.ids[0]))).toEqual([
      ['b', 'c'],
      ['d', 'a'],
    ]);
    expect(partitionChains([chain(['a'], 1)], 3).map((s) => s.length)).toEqual([1, 0, 0]);
  });
});

describe('parseShard', () => {
  it.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    [' 3 / 3 ', { index: 3, count: 3 }],
  ])('%j is %j', (text, spec) => {
    expect(parseShard(text)).toEqual({ ok: true, value: spec });
  });

  it.each(['0/4', '5/4', '2', '2/0', 'a/b', '1/1001', '-1/2', '1.5/2', ''])('%j is refused', (text) => {
    expect(parseShard(text)).toEqual({
      ok: false,
      error: `expected --shard to be K/N with 1 <= K <= N <= 1000 (e.g. 2/4), but got '${text}'`,
    });
  });
});
