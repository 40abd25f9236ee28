/**
 * In-memory builders for the pure planner and graph tests (no file system, no manifest parser): a fake
 * manifest text whose lines are the shots, so diagnostics carry real, checkable positions.
 */
import type { Sha256, ShotId, ShotKey, VideoId } from '../../src/core/brand.ts';
import { asSha256, asShotId } from '../../src/core/brand.ts';
import type { Location, SourceFile } from '../../src/core/diagnostic.ts';
import type { CacheIndex, LockEntry, Lockfile, Sample } from '../../src/cache/types.ts';
import type { Manifest, ReferenceImage, ShotConfig, ShotField } from '../../src/manifest/types.ts';
import { createHash } from 'node:crypto';
import { buildGraph } from '../../src/graph/build-graph.ts';
import { selectTargets } from '../../src/graph/select-targets.ts';
import { planBuild } from '../../src/plan/plan-build.ts';
import type { PlanBuildOptions } from '../../src/plan/plan-build.ts';
import { lockEntryFor } from '../../src/plan/lock-entry-for.ts';

export interface ShotSpec {
  prompt?: string;
  model?: string;
  size?: string;
  seconds?: number;
  remix_of?: string;
  extend_of?: string;
  output?: string;
  reference?: { sourceDigest: string; fit?: 'none' | 'cover' | 'contain' };
  assets?: ShotConfig['assets'];
}

export const MANIFEST_PATH = '/project/storyboard.yaml';

/**
 * A manifest from `{ id: spec }`. The fake source text has one line per shot field, like the real YAML
 * (`  a:` then `    remix_of: b`), and each ShotConfig's locations point into it.
 */
export function manifestOf(specs: Record<string, ShotSpec>): Manifest {
  const lines: string[] = ['shots:'];
  const pending: { id: string; spec: ShotSpec; offsets: Partial<Record<ShotField, number>>; at: number }[] =
    [];
  let offset = lines[0]!.length + 1;
  const push = (line: string): number => {
    const at = offset;
    lines.push(line);
    offset += line.length + 1;
    return at;
  };
  for (const [id, spec] of Object.entries(specs)) {
    const at = push(`  ${id}:`) + 2;
    const offsets: Partial<Record<ShotField, number>> = {};
    offsets.prompt = push(`    prompt: ${spec.prompt ?? `prompt of ${id}`}`) + 4;
    if (spec.remix_of !== undefined) offsets.remix_of = push(`    remix_of: ${spec.remix_of}`) + 4;
    if (spec.extend_of !== undefined) offsets.extend_of = push(`    extend_of: ${spec.extend_of}`) + 4;
    pending.push({ id, spec, offsets, at });
  }
  const file: SourceFile = { path: MANIFEST_PATH, contents: lines.join('\n') + '\n' };
  const loc = (off: number, length: number): Location => ({ file, range: { offset: off, length } });
  const shots = new Map<ShotId, ShotConfig>();
  for (const { id, spec, offsets, at } of pending.sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const size = spec.size ?? '1280x720';
    const [w, h] = size.split('x').map(Number) as [number, number];
    const fieldLocations: Partial<Record<ShotField, Location>> = {};
    for (const [field, off] of Object.entries(offsets) as [ShotField, number][]) {
      fieldLocations[field] = loc(off, field.length);
    }
    const reference: ReferenceImage | undefined =
      spec.reference === undefined
        ? undefined
        : {
            path: `/project/refs/${id}.png`,
            displayPath: `refs/${id}.png`,
            fit: spec.reference.fit ?? 'none',
            mime: 'image/png',
            width: w,
            height: h,
            sourceDigest: asSha256(spec.reference.sourceDigest),
            location: loc(at, id.length),
          };
    shots.set(asShotId(id), {
      id: asShotId(id),
      prompt: spec.prompt ?? `prompt of ${id}`,
      model: spec.model ?? 'sora-2',
      size,
      width: w,
      height: h,
      seconds: spec.seconds ?? 8,
      inputReference: reference,
      remixOf: spec.remix_of === undefined ? undefined : asShotId(spec.remix_of),
      extendOf: spec.extend_of === undefined ? undefined : asShotId(spec.extend_of),
      provider: 'emulator',
      frames: [],
      inputVideo: undefined,
      referenceImages: [],
      variants: 1,
      negativePrompt: undefined,
      seed: undefined,
      audio: undefined,
      output: spec.output ?? `${id}.mp4`,
      outputs: [spec.output ?? `${id}.mp4`],
      assets: spec.assets ?? ['video'],
      location: loc(at, id.length),
      fieldLocations,
    });
  }
  return {
    path: MANIFEST_PATH,
    lockfilePath: '/project/storyboard.lock',
    version: 1,
    shots,
    envVarsUsed: [],
  };
}

/** A deterministic fake digest: sha256 of a label, so tests can name digests ("out-a", "ref-1"). */
export const digestOf = (label: string): Sha256 => asSha256(createHash('sha256').update(label).digest('hex'));

/** An in-memory CacheIndex: a lockfile, the digests present in the store, and action-cache samples. */
export class MemoryCacheIndex implements CacheIndex {
  readonly lock = new Map<ShotId, LockEntry>();
  readonly objects = new Set<Sha256>();
  readonly cached = new Map<ShotKey, Sample[]>();

  lockEntry(shot: ShotId): LockEntry | undefined {
    return this.lock.get(shot);
  }
  hasObject(digest: Sha256): boolean {
    return this.objects.has(digest);
  }
  samples(key: ShotKey): readonly Sample[] {
    return this.cached.get(key) ?? [];
  }
  lockfile(): Lockfile {
    return { version: 1, shots: this.lock };
  }
}

export function sampleOf(output: Sha256, videoId = 'video_x'): Sample {
  return {
    output,
    bytes: 1000,
    videoId: videoId as VideoId,
    provider: 'emulator',
    createdAt: 0,
    expiresAt: null,
    costUsd: null,
    assets: {},
  };
}

/** Planner options with test defaults: sora-2 at $0.10/s, 2 creates/min, 4 in flight, 10 s render per second. */
export function planOptions(
  manifest: Manifest,
  cache: CacheIndex,
  overrides: Partial<Omit<PlanBuildOptions, 'manifest' | 'cache'>> & { shots?: readonly string[] } = {},
): PlanBuildOptions {
  const g = buildGraph(manifest);
  if (!g.ok) throw new Error(g.error.map((d) => d.message).join('\n'));
  const t = selectTargets(g.value, overrides.shots ?? []);
  if (!t.ok) throw new Error(t.error.message);
  const referenceDigests = new Map<ShotId, Sha256 | null>();
  for (const [id, shot] of manifest.shots)
    referenceDigests.set(id, shot.inputReference?.sourceDigest ?? null);
  const { shots: _, ...rest } = overrides;
  return {
    manifest,
    graph: g.value,
    targets: t.value,
    cache,
    family: 'openai-videos',
    referenceDigests,
    pricing: { 'sora-2': { usdPerSecond: 0.1 } },
    quota: { createsPerMinute: 2, maxInFlight: 4 },
    renderEstimate: (seconds) => seconds * 10_000,
    ...rest,
  };
}

/**
 * A miniature build engine for planner tests: repeatedly plans and "generates" every shot that can be
 * (a fresh fake output per generation, added to the store and the action cache) or re-pins cached
 * samples, until every target is fresh. Returns the number of generations.
 */
export function buildAll(
  manifest: Manifest,
  cache: MemoryCacheIndex,
  overrides: Parameters<typeof planOptions>[2] = {},
): number {
  let generations = 0;
  for (let round = 0; round < 1000; round++) {
    const plan = planBuild(planOptions(manifest, cache, overrides));
    const todo = plan.shots.filter((s) => s.state !== 'fresh' && s.state !== 'blocked');
    if (todo.length === 0) return generations;
    for (const s of todo) {
      let sample = s.cachedSample;
      if (sample === null) {
        generations++;
        sample = sampleOf(digestOf(`video ${s.id} #${++videoCounter}`), `video_${videoCounter}`);
        cache.objects.add(sample.output);
        const list = cache.cached.get(s.key!) ?? [];
        list.push(sample);
        cache.cached.set(s.key!, list);
      }
      cache.lock.set(s.id, lockEntryFor(s.id, s.keyData!, sample));
    }
  }
  throw new Error('buildAll did not converge');
}
let videoCounter = 0;
