/**
 * Puts a project into the state a successful build leaves (store objects, action-cache samples, lockfile
 * entries computed by the real planner) without generating anything, so `status`, `why` and `reroll` can
 * be tested on exact, known states. The "videos" are labelled bytes; the remote ids are whatever the test
 * says (real emulator ids when it needs them).
 */
import { Readable } from 'node:stream';
import type { ShotId, VideoId } from '../../src/core/brand.ts';
import { asVideoId } from '../../src/core/brand.ts';
import { Store } from '../../src/cache/store.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import { writeLockfile } from '../../src/cache/lockfile.ts';
import type { LockEntry, Sample } from '../../src/cache/types.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';
import { lockEntryFor } from '../../src/plan/lock-entry-for.ts';

export interface PinOptions {
  readonly dir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Remote id to record per shot. @default `video_<shot>_<take>` */
  readonly videoId?: (shot: ShotId, take: number) => string;
  /** Also store each prompt's text in the CAS under its digest (what `why` reads). @default false */
  readonly recordPrompts?: boolean;
  /** Samples per shot; the last one is pinned. @default 1 */
  readonly takes?: number;
}

/** Pins every shot of the project's manifest; returns the lock entries by shot. */
export async function pinAll(options: PinOptions): Promise<Map<ShotId, LockEntry>> {
  const env = options.env ?? {};
  const loaded = await loadProject({ cwd: options.dir, env });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const { config, manifest } = loaded;
  const store = Store.open(config.cacheDir);
  const pinned = new Map<ShotId, LockEntry>();
  for (let round = 0; round < 10; round++) {
    const actionCache = ActionCache.open(config.cacheDir);
    const computed = await computePlan({ config, manifest });
    if (!computed.ok) throw new Error(JSON.stringify(computed.error));
    const { plan, lockfile } = computed.value;
    const todo = plan.shots.filter((s) => s.state !== 'fresh');
    if (todo.length === 0) break;
    const shots = new Map(lockfile.shots);
    for (const s of todo) {
      if (s.keyData === null) continue; // blocked: its parent is pinned this round
      let sample: Sample | undefined;
      for (let take = 1; take <= (options.takes ?? 1); take++) {
        const bytes = Buffer.from(`video of ${s.id}, key ${s.key}, take ${take}`);
        const ingested = await store.ingest(Readable.from([bytes]));
        if (!ingested.ok) throw new Error('ingest failed');
        sample = {
          output: ingested.value.digest,
          bytes: ingested.value.bytes,
          videoId: asVideoId(options.videoId?.(s.id, take) ?? `video_${s.id}_${take}`),
          provider: config.provider.name,
          createdAt: Date.now(),
          expiresAt: null,
          costUsd: 0.4,
          assets: {},
        };
        await actionCache.addSample(s.key!, sample);
      }
      if (options.recordPrompts === true) await store.ingest(Readable.from([Buffer.from(s.keyData.prompt)]));
      const entry = lockEntryFor(s.id, s.keyData, sample!);
      shots.set(s.id, entry);
      pinned.set(s.id, entry);
    }
    await writeLockfile(manifest.lockfilePath, { version: 1, shots });
  }
  return pinned;
}

export const STORYBOARD = `version: 1
defaults:
  model: sora-2
  size: 1280x720
  seconds: 4
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn.
  lighthouse:
    prompt: Slow dolly-in on a lighthouse as the fog lifts.
  lighthouse-night:
    remix_of: lighthouse
    prompt: The same shot at night.
`;

export type { VideoId };
