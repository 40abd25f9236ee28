import { describe, expect, it } from 'vitest';
import { planBuild } from '../../src/plan/plan-build.ts';
import type { BuildPlan } from '../../src/plan/plan-types.ts';
import { describeReason } from '../../src/plan/plan-types.ts';
import { asShotId, asShotKey } from '../../src/core/brand.ts';
import { buildAll, digestOf, manifestOf, MemoryCacheIndex, planOptions } from './builders.ts';
import type { ShotSpec } from './builders.ts';

/** `id: state [reasons] (blocked by X)` per shot: what `plan` shows, in one comparable line each. */
function summary(plan: BuildPlan): string[] {
  return plan.shots.map((s) => {
    const reasons = s.reasons.length > 0 ? ` [${s.reasons.map(describeReason).join(', ')}]` : '';
    const blocked = s.blockedBy === null ? '' : ` (after ${s.blockedBy})`;
    return `${s.id}: ${s.state}${reasons}${blocked}`;
  });
}

const story: Record<string, ShotSpec> = {
  harbor: { prompt: 'harbor at dawn' },
  mug: { prompt: 'a mug', seconds: 4, reference: { sourceDigest: digestOf('mug.png') } },
  'mug-teal': { prompt: 'teal', remix_of: 'mug', seconds: 4 },
  'mug-teal-long': { prompt: 'longer', extend_of: 'mug-teal', seconds: 4 },
  teaser: { prompt: 'teaser', size: '720x1280' },
};

function built(specs: Record<string, ShotSpec> = story): MemoryCacheIndex {
  const cache = new MemoryCacheIndex();
  buildAll(manifestOf(specs), cache);
  return cache;
}

function planAfter(cache: MemoryCacheIndex, specs: Record<string, ShotSpec>, overrides = {}): BuildPlan {
  return planBuild(planOptions(manifestOf(specs), cache, overrides));
}

describe('planBuild states', () => {
  it('plans a never-built storyboard: roots missing, dependants blocked by their parent', () => {
    const plan = planAfter(new MemoryCacheIndex(), story);
    expect(summary(plan)).toEqual([
      'harbor: missing',
      'mug: missing',
      'mug-teal: blocked (after mug)',
      'mug-teal-long: blocked (after mug-teal)',
      'teaser: missing',
    ]);
    expect(plan.byId.get(asShotId('mug-teal'))!.key).toBeNull();
    expect(plan.byId.get(asShotId('mug'))!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.totals.toGenerate).toBe(5);
    expect(plan.totals.byState).toEqual({ fresh: 0, cached: 0, missing: 3, stale: 0, blocked: 2 });
  });

  it('finds everything fresh after a build, at no cost and no time', () => {
    const cache = new MemoryCacheIndex();
    expect(buildAll(manifestOf(story), cache)).toBe(5);
    const plan = planAfter(cache, story);
    expect(summary(plan).every((line) => line.endsWith(': fresh'))).toBe(true);
    expect(plan.totals.toGenerate).toBe(0);
    expect(plan.totals.cost).toEqual({ knownUsd: 0, unknownShots: 0, unpricedModels: [], totalUsd: 0 });
    expect(plan.totals.wallTimeMs).toBe(0);
    expect(buildAll(manifestOf(story), cache)).toBe(0);
  });

  it('marks a changed parent stale and its whole chain blocked with "parent will be rebuilt"', () => {
    const cache = built();
    const plan = planAfter(cache, { ...story, mug: { ...story.mug, prompt: 'a bigger mug' } });
    expect(summary(plan)).toEqual([
      'harbor: fresh',
      'mug: stale [prompt changed]',
      'mug-teal: blocked [parent will be rebuilt] (after mug)',
      'mug-teal-long: blocked [parent will be rebuilt] (after mug-teal)',
      'teaser: fresh',
    ]);
  });

  it("lists a blocked shot's own changes too", () => {
    const cache = built();
    const plan = planAfter(cache, {
      ...story,
      mug: { ...story.mug, prompt: 'a bigger mug' },
      'mug-teal': { ...story['mug-teal'], prompt: 'teal and rust' },
    });
    expect(summary(plan)[2]).toBe('mug-teal: blocked [prompt changed, parent will be rebuilt] (after mug)');
  });

  it.each<[string, Record<string, ShotSpec>, string]>([
    ['prompt', { ...story, harbor: { prompt: 'harbor at dusk' } }, 'harbor: stale [prompt changed]'],
    [
      'model',
      { ...story, harbor: { prompt: 'harbor at dawn', model: 'sora-2-pro' } },
      'harbor: stale [model changed]',
    ],
    [
      'size',
      { ...story, harbor: { prompt: 'harbor at dawn', size: '720x1280' } },
      'harbor: stale [size changed]',
    ],
    [
      'seconds',
      { ...story, harbor: { prompt: 'harbor at dawn', seconds: 12 } },
      'harbor: stale [seconds changed]',
    ],
    [
      'several fields',
      { ...story, harbor: { prompt: 'other', seconds: 4, model: 'sora-2-pro' } },
      'harbor: stale [model changed, prompt changed, seconds changed]',
    ],
    [
      'reference bytes',
      { ...story, mug: { ...story.mug, reference: { sourceDigest: digestOf('mug-v2.png') } } },
      'mug: stale [reference image changed]',
    ],
    [
      'reference added',
      { ...story, harbor: { prompt: 'harbor at dawn', reference: { sourceDigest: digestOf('h.png') } } },
      'harbor: stale [reference image added]',
    ],
    [
      'reference removed',
      { ...story, mug: { prompt: 'a mug', seconds: 4 } },
      'mug: stale [reference image removed]',
    ],
  ])('names the changed field: %s', (_, specs, expected) => {
    const plan = planAfter(built(), specs);
    expect(summary(plan)).toContain(expected);
    expect(plan.totals.toGenerate).toBeGreaterThan(0);
  });

  it('says "provider changed" when the provider family changes, for every shot', () => {
    const plan = planAfter(built(), story, { family: 'emulator' });
    expect(summary(plan)).toEqual([
      'harbor: stale [provider changed]',
      'mug: stale [provider changed]',
      'mug-teal: blocked [provider changed, parent will be rebuilt] (after mug)',
      'mug-teal-long: blocked [provider changed, parent will be rebuilt] (after mug-teal)',
      'teaser: stale [provider changed]',
    ]);
  });

  it('says "key format changed" for an entry written under another key format', () => {
    const cache = built();
    const id = asShotId('harbor');
    cache.lock.set(id, { ...cache.lock.get(id)!, keyFormat: 0, key: asShotKey(digestOf('old key')) });
    // The sample of the current key is still in the action cache: re-pinned, not regenerated.
    expect(summary(planAfter(cache, story))[0]).toBe('harbor: cached [key format changed]');
    cache.cached.clear();
    expect(summary(planAfter(cache, story))[0]).toBe('harbor: stale [key format changed]');
  });

  it('says "key changed" when nothing recorded explains a different key', () => {
    const cache = built();
    const id = asShotId('harbor');
    cache.lock.set(id, { ...cache.lock.get(id)!, key: asShotKey(digestOf('edited by hand')) });
    cache.cached.clear();
    expect(summary(planAfter(cache, story))[0]).toBe('harbor: stale [key changed]');
  });

  it('says "output missing from the store" when the pinned video is gone and no sample is cached', () => {
    const cache = built();
    const entry = cache.lock.get(asShotId('teaser'))!;
    cache.objects.delete(entry.output);
    expect(summary(planAfter(cache, story))[4]).toBe('teaser: stale [output missing from the store]');
    // Its dependants' keys need its new video: a parent with a missing output blocks them.
    cache.objects.delete(cache.lock.get(asShotId('mug'))!.output);
    expect(summary(planAfter(cache, story)).slice(1, 3)).toEqual([
      'mug: stale [output missing from the store]',
      'mug-teal: blocked [parent will be rebuilt] (after mug)',
    ]);
  });

  it('says "parent output changed" when the parent was rerolled', () => {
    const cache = built();
    const mug = asShotId('mug');
    const entry = cache.lock.get(mug)!;
    const rerolled = digestOf('a second sample of mug');
    cache.objects.add(rerolled);
    cache.lock.set(mug, { ...entry, output: rerolled });
    expect(summary(planAfter(cache, story)).slice(1, 4)).toEqual([
      'mug: fresh',
      'mug-teal: stale [parent output changed]',
      'mug-teal-long: blocked [parent will be rebuilt] (after mug-teal)',
    ]);
  });

  it('notices a parent added, removed, or a relation changed', () => {
    const cache = built();
    const plan = planAfter(cache, {
      ...story,
      harbor: { prompt: 'harbor at dawn', remix_of: 'teaser' },
      'mug-teal': { prompt: 'teal', seconds: 4 },
      'mug-teal-long': { prompt: 'longer', remix_of: 'mug-teal', seconds: 4 },
    });
    expect(summary(plan)).toEqual([
      'harbor: stale [parent added]',
      'mug: fresh',
      'mug-teal: stale [parent removed]',
      'mug-teal-long: blocked [parent will be rebuilt] (after mug-teal)',
      'teaser: fresh',
    ]);
    const onlyRelation = planAfter(cache, {
      ...story,
      'mug-teal': { prompt: 'teal', extend_of: 'mug', seconds: 4 },
    });
    expect(summary(onlyRelation)[2]).toBe('mug-teal: stale [relation to the parent changed]');
  });

  it('re-pins a sample from the action cache instead of generating: `cached`, free, and unblocks children', () => {
    const cache = built();
    const edited = { ...story, mug: { ...story.mug, prompt: 'a bigger mug' } };
    expect(buildAll(manifestOf(edited), cache)).toBe(3); // mug, mug-teal, mug-teal-long
    // Reverting the prompt: the first samples are still in the store and the action cache.
    const plan = planAfter(cache, story);
    expect(summary(plan)).toEqual([
      'harbor: fresh',
      'mug: cached [prompt changed]',
      'mug-teal: cached [parent output changed]',
      'mug-teal-long: cached [parent output changed]',
      'teaser: fresh',
    ]);
    expect(plan.totals.toGenerate).toBe(0);
    expect(plan.totals.cost.totalUsd).toBe(0);
    expect(plan.byId.get(asShotId('mug'))!.cachedSample!.output).toBe(
      cache.cached.get(plan.byId.get(asShotId('mug'))!.key!)![0]!.output,
    );
    expect(buildAll(manifestOf(story), cache)).toBe(0);
    expect(summary(planAfter(cache, story)).every((l) => l.endsWith(': fresh'))).toBe(true);
  });

  it('ignores a cached sample whose video left the store', () => {
    const cache = built();
    const key = planAfter(cache, story).byId.get(asShotId('harbor'))!.key!;
    cache.lock.delete(asShotId('harbor'));
    expect(summary(planAfter(cache, story))[0]).toBe('harbor: cached');
    cache.objects.delete(cache.cached.get(key)![0]!.output);
    expect(summary(planAfter(cache, story))[0]).toBe('harbor: missing');
  });

  it('plans only the requested targets and their ancestors', () => {
    const plan = planAfter(new MemoryCacheIndex(), story, { shots: ['mug-teal'] });
    expect(summary(plan)).toEqual(['mug: missing', 'mug-teal: blocked (after mug)']);
    expect(plan.totals.shots).toBe(2);
  });

  it('gives one key per content whatever the shot is called or where it is written', () => {
    const a = planAfter(new MemoryCacheIndex(), { one: { prompt: 'p', output: 'x/one.mp4' } });
    const b = planAfter(new MemoryCacheIndex(), {
      two: { prompt: 'p', output: 'two.mp4', assets: ['video', 'thumbnail'] },
    });
    expect(a.shots[0]!.key).toBe(b.shots[0]!.key);
  });
});

describe('planBuild cost', () => {
  it('prices every shot to generate, blocked ones included', () => {
    const plan = planAfter(new MemoryCacheIndex(), story);
    // 8 + 4 + 4 + 4 + 8 seconds at $0.10.
    expect(plan.shots.map((s) => s.estimatedCostUsd)).toEqual([0.8, 0.4, 0.4, 0.4, 0.8]);
    expect(plan.totals.cost).toEqual({ knownUsd: 2.8, unknownShots: 0, unpricedModels: [], totalUsd: 2.8 });
    expect(plan.totals.videoSeconds).toBe(28);
  });

  it('keeps an unknown price unknown: the shot is null, the total is null, the known part is kept', () => {
    const specs = {
      ...story,
      harbor: { prompt: 'p', model: 'sora-2-pro' },
      teaser: { prompt: 't', model: 'veo' },
    };
    const plan = planAfter(new MemoryCacheIndex(), specs);
    expect(plan.shots.map((s) => s.estimatedCostUsd)).toEqual([null, 0.4, 0.4, 0.4, null]);
    expect(plan.totals.cost).toEqual({
      knownUsd: 1.2,
      unknownShots: 2,
      unpricedModels: ['sora-2-pro', 'veo'],
      totalUsd: null,
    });
  });

  it('prices fresh and cached shots at zero even when the model has no price', () => {
    const plan = planAfter(built(), story, { pricing: {} });
    expect(plan.shots.map((s) => s.estimatedCostUsd)).toEqual([0, 0, 0, 0, 0]);
    expect(plan.totals.cost.totalUsd).toBe(0);
  });

  it('treats the emulator as free unless it is given prices', () => {
    const free = planAfter(new MemoryCacheIndex(), story, { family: 'emulator', pricing: {} });
    expect(free.totals.cost).toEqual({ knownUsd: 0, unknownShots: 0, unpricedModels: [], totalUsd: 0 });
    const priced = planAfter(new MemoryCacheIndex(), story, { family: 'emulator' });
    expect(priced.totals.cost.totalUsd).toBe(2.8);
  });

  it('adds prices without float drift', () => {
    const specs: Record<string, ShotSpec> = {};
    for (let i = 0; i < 3; i++) specs[`s${i}`] = { prompt: `p${i}`, seconds: 1 };
    expect(planAfter(new MemoryCacheIndex(), specs).totals.cost.totalUsd).toBe(0.3);
  });
});

describe('planBuild time estimate', () => {
  const render80 = { renderEstimate: () => 80_000 };

  it('spreads creates over the per-minute window', () => {
    const specs = { a: {}, b: {}, c: {}, d: {} };
    // Creates at 0, 0, 60 s, 60 s; each takes 80 s.
    expect(planAfter(new MemoryCacheIndex(), specs, render80).totals.wallTimeMs).toBe(140_000);
    const fast = { ...render80, quota: { createsPerMinute: 10, maxInFlight: 4 } };
    expect(planAfter(new MemoryCacheIndex(), specs, fast).totals.wallTimeMs).toBe(80_000);
  });

  it('runs at most max_in_flight jobs at once', () => {
    const specs = { a: {}, b: {}, c: {} };
    const oneAtATime = { ...render80, quota: { createsPerMinute: 100, maxInFlight: 1 } };
    expect(planAfter(new MemoryCacheIndex(), specs, oneAtATime).totals.wallTimeMs).toBe(240_000);
  });

  it('waits for parents: a chain takes the sum of its links', () => {
    const specs = { x: {}, y: { remix_of: 'x' }, z: { extend_of: 'y' } };
    expect(planAfter(new MemoryCacheIndex(), specs, render80).totals.wallTimeMs).toBe(240_000);
  });

  it('starts the critical path first', () => {
    // A 3-link chain and three singles, two at a time: chain-first finishes in 3 rounds, id order in 4.
    const specs = { a: {}, b: {}, c: {}, x1: {}, x2: { remix_of: 'x1' }, x3: { remix_of: 'x2' } };
    const plan = planAfter(new MemoryCacheIndex(), specs, {
      ...render80,
      quota: { createsPerMinute: 100, maxInFlight: 2 },
    });
    expect(plan.byId.get(asShotId('x1'))!.criticalPathMs).toBe(240_000);
    expect(plan.byId.get(asShotId('a'))!.criticalPathMs).toBe(80_000);
    expect(plan.totals.wallTimeMs).toBe(240_000);
  });

  it('weights by video length and leaves fresh shots out', () => {
    const cache = built();
    const plan = planAfter(cache, { ...story, harbor: { prompt: 'harbor at dusk', seconds: 12 } });
    expect(plan.totals.wallTimeMs).toBe(120_000);
    expect(plan.byId.get(asShotId('teaser'))!.expectedRenderMs).toBe(0);
  });

  it('stays fast for 10,000 shots', () => {
    const specs: Record<string, ShotSpec> = {};
    for (let i = 0; i < 10_000; i++) {
      const id = `s${String(i).padStart(5, '0')}`;
      specs[id] =
        i % 4 === 0 ? { prompt: id } : { prompt: id, remix_of: `s${String(i - (i % 4)).padStart(5, '0')}` };
    }
    const m = manifestOf(specs);
    const options = planOptions(m, new MemoryCacheIndex(), {
      quota: { createsPerMinute: 60, maxInFlight: 20 },
    });
    const start = performance.now();
    const plan = planBuild(options);
    const elapsed = performance.now() - start;
    expect(plan.totals.toGenerate).toBe(10_000);
    // 2,500 roots at 60/min need 41 minutes of creates before the last root starts.
    expect(plan.totals.wallTimeMs).toBeGreaterThan(41 * 60_000);
    // Linear-logarithmic work: well under a second on an idle machine; generous for a loaded CI runner.
    expect(elapsed).toBeLessThan(5_000);
  });
});
