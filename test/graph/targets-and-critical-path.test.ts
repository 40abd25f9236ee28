import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/graph/build-graph.ts';
import { closestMatch, selectTargets } from '../../src/graph/select-targets.ts';
import { criticalPathLengths } from '../../src/graph/critical-path.ts';
import type { ShotGraph } from '../../src/graph/shot-graph.ts';
import type { ShotId } from '../../src/core/brand.ts';
import { manifestOf } from '../plan/builders.ts';
import type { ShotSpec } from '../plan/builders.ts';

function graphOf(specs: Record<string, ShotSpec>): ShotGraph {
  const r = buildGraph(manifestOf(specs));
  if (!r.ok) throw new Error('unexpected cycle');
  return r.value;
}

const story = graphOf({
  harbor: {},
  mug: {},
  'mug-teal': { remix_of: 'mug' },
  'mug-teal-long': { extend_of: 'mug-teal' },
  teaser: {},
});

describe('selectTargets', () => {
  it('selects every shot when no --shot is given', () => {
    const r = selectTargets(story, []);
    expect(r.ok && [...r.value].sort()).toEqual(['harbor', 'mug', 'mug-teal', 'mug-teal-long', 'teaser']);
  });

  it('selects a shot and all its ancestors, and nothing downstream', () => {
    const r = selectTargets(story, ['mug-teal-long']);
    expect(r.ok && [...r.value].sort()).toEqual(['mug', 'mug-teal', 'mug-teal-long']);
    const r2 = selectTargets(story, ['mug-teal', 'teaser', 'mug-teal']);
    expect(r2.ok && [...r2.value].sort()).toEqual(['mug', 'mug-teal', 'teaser']);
  });

  it('reports every unknown id at once, with a did-you-mean and the valid ids', () => {
    const r = selectTargets(story, ['hrabor', 'mug', 'zzz']);
    expect(r).toEqual({
      ok: false,
      error: {
        reason: 'unknown-shot',
        unknown: ['hrabor', 'zzz'],
        message:
          "unknown shot 'hrabor' (did you mean 'harbor'?)\n" +
          "unknown shot 'zzz'\n" +
          'valid shots: harbor, mug, mug-teal, mug-teal-long, teaser',
      },
    });
  });

  it('lists at most 20 valid ids', () => {
    const specs: Record<string, ShotSpec> = {};
    for (let i = 0; i < 25; i++) specs[`s${String(i).padStart(2, '0')}`] = {};
    const r = selectTargets(graphOf(specs), ['x']);
    expect(!r.ok && r.error.message).toBe(
      "unknown shot 'x'\nvalid shots: " +
        Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, '0')}`).join(', ') +
        ', and 5 more',
    );
  });
});

describe('closestMatch', () => {
  it.each([
    ['teasr', 'teaser'],
    ['mugteal', 'mug-teal'],
    ['mgu', 'mug'],
    ['completely-different', undefined],
  ])('%s -> %s', (word, expected) => {
    expect(closestMatch(word, story.ids)).toBe(expected);
  });
});

describe('criticalPathLengths', () => {
  it('is the own weight plus the longest chain of dependants', () => {
    const g = graphOf({
      root: { seconds: 4 },
      a: { remix_of: 'root', seconds: 12 },
      b: { remix_of: 'root', seconds: 4 },
      'b-ext': { extend_of: 'b', seconds: 12 },
      solo: { seconds: 8 },
    });
    const seconds: Record<string, number> = { root: 4, a: 12, b: 4, 'b-ext': 12, solo: 8 };
    // 10 s of render time per second of video, plus 5 s of overhead per shot.
    const lengths = criticalPathLengths(g, (id: ShotId) => seconds[id]! * 10_000 + 5_000);
    expect(Object.fromEntries(lengths)).toEqual({
      'b-ext': 125_000,
      b: 45_000 + 125_000,
      a: 125_000,
      root: 45_000 + 170_000,
      solo: 85_000,
    });
  });
});
