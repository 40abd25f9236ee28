/**
 * Writes a synthetic project of N shots for benchmarks: `sora.config.yaml` (the emulator, 60 creates a
 * minute, 20 in flight), `storyboard.yaml` and a reference image. A quarter of the shots are roots
 * (mixed sizes and durations, one in a hundred with a reference image); the others form remix/extend
 * chains of four, so the graph, the keys of dependants and the critical path all do real work.
 *
 * `pinned: true` also leaves the state a successful build would (videos in the store, samples in the action
 * cache, a full lockfile), so `plan` finds every shot fresh: the everyday "nothing changed" case.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ShotId, ShotKey } from '../src/core/brand.ts';
import { asSha256, asVideoId } from '../src/core/brand.ts';
import { createHash } from 'node:crypto';
import { writeLockfile } from '../src/cache/lockfile.ts';
import type { LockEntry, Sample } from '../src/cache/types.ts';
import { loadProject } from '../src/manifest/load-project.ts';
import { computePlan } from '../src/plan/compute-plan.ts';
import { lockEntryFor } from '../src/plan/lock-entry-for.ts';
import type { CacheIndex } from '../src/cache/types.ts';

export interface GenerateOptions {
  /** Folder to (re)create. */
  readonly dir: string;
  readonly shots: number;
  /** Also pin every shot as a build would. @default false */
  readonly pinned?: boolean;
}

const id = (i: number): string => `s${String(i).padStart(6, '0')}`;

export function manifestText(shots: number): string {
  const lines = [
    'version: 1',
    'defaults:',
    '  model: sora-2',
    '  size: 1280x720',
    '  seconds: 8',
    'vars:',
    '  product: Contoso ThermoMug',
    '  look: 35mm film, golden hour, shallow depth of field',
    'shots:',
  ];
  for (let i = 0; i < shots; i++) {
    lines.push(`  ${id(i)}:`);
    const link = i % 4;
    if (link === 0) {
      lines.push(
        `    prompt: Shot ${i} of the campaign, the \${product} seen from angle ${i % 360}, \${look}.`,
      );
      if (i % 40 === 12) lines.push('    size: 720x1280');
      if (i % 12 === 4) lines.push('    seconds: 4');
      if (i % 400 === 0) lines.push('    input_reference: refs/frame.png');
    } else {
      lines.push(`    ${link === 3 ? 'extend_of' : 'remix_of'}: ${id(i - 1)}`);
      lines.push(`    prompt: Variation ${link} of shot ${i - link}, a different palette, \${look}.`);
      if (link === 3) lines.push('    seconds: 4');
    }
  }
  return `${lines.join('\n')}\n`;
}

const CONFIG = `version: 1
provider: emulator
providers:
  emulator:
    type: emulator
    quota: { creates_per_minute: 60, max_in_flight: 20 }
out_dir: out
cache_dir: .sora-build
`;

export async function generateProject(options: GenerateOptions): Promise<void> {
  const { dir } = options;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'refs'), { recursive: true });
  await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG);
  await writeFile(path.join(dir, 'storyboard.yaml'), manifestText(options.shots));
  const frame = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
  await writeFile(path.join(dir, 'refs/frame.png'), frame);
  if (options.pinned === true) await pinAll(dir);
}

/**
 * Pins every shot through the real planner, writing CAS objects directly (no fsync per object: this is
 * set-up, not the code under test) and the action cache as `ActionCache` lays it out.
 */
export async function pinAll(dir: string): Promise<void> {
  const loaded = await loadProject({ cwd: dir, env: {} });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const { config, manifest } = loaded;
  const lock = new Map<ShotId, LockEntry>();
  const objects = new Set<string>();
  const samples = new Map<ShotKey, Sample[]>();
  const cache: CacheIndex = {
    lockEntry: (shot) => lock.get(shot),
    hasObject: (digest) => objects.has(digest),
    samples: (key) => samples.get(key) ?? [],
  };
  for (let round = 0; ; round++) {
    if (round > 20) throw new Error('pinning did not converge');
    const computed = await computePlan({ config, manifest, cache, lockfile: { version: 1, shots: lock } });
    if (!computed.ok) throw new Error(JSON.stringify(computed.error));
    const todo = computed.value.plan.shots.filter((s) => s.state !== 'fresh' && s.state !== 'blocked');
    if (todo.length === 0) break;
    for (const s of todo) {
      const bytes = Buffer.from(`placeholder video of ${s.id}, key ${s.key}`);
      const digest = asSha256(createHash('sha256').update(bytes).digest('hex'));
      const objectPath = path.join(config.cacheDir, 'cas', 'sha256', digest.slice(0, 2), digest.slice(2));
      await mkdir(path.dirname(objectPath), { recursive: true });
      await writeFile(objectPath, bytes);
      objects.add(digest);
      const sample: Sample = {
        output: digest,
        bytes: bytes.length,
        videoId: asVideoId(`video_${s.id}`),
        provider: config.provider.name,
        createdAt: 1_700_000_000_000,
        expiresAt: null,
        costUsd: 0,
        assets: {},
      };
      samples.set(s.key!, [sample]);
      const acPath = path.join(config.cacheDir, 'ac', s.key!.slice(0, 2), `${s.key}.json`);
      await mkdir(path.dirname(acPath), { recursive: true });
      await writeFile(acPath, JSON.stringify({ version: 1, key: s.key, samples: [sample] }));
      lock.set(s.id, lockEntryFor(s.id, s.keyData!, sample));
    }
  }
  await writeLockfile(manifest.lockfilePath, { version: 1, shots: lock });
}
