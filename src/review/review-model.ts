/**
 * What the review page shows, as one plain JSON document: the storyboard in manifest order, per shot its
 * prompt (interpolated), model, size, seconds, state and why, cost, lineage, and its takes (the action
 * cache's samples for the shot's current key, oldest first, numbered as `reroll --list` numbers them).
 *
 * Built from local files only (manifest, config, lockfile, store, action cache, journal, failure records),
 * with the same planner and status rules as `plan` and `status`, so the page never disagrees with them.
 * Media are named by digest; `media` lists every digest the page may ask the server for, so the server
 * serves those store objects and nothing else.
 */
import type { Sha256, ShotId } from '../core/brand.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { ActionCache } from '../cache/action-cache.ts';
import { Failures } from '../cache/failures.ts';
import { Store } from '../cache/store.ts';
import type { Sample } from '../cache/types.ts';
import type { ProjectConfig } from '../config/types.ts';
import { loadProject } from '../manifest/load-project.ts';
import { formatDiagnostic } from '../manifest/format-diagnostic.ts';
import type { Manifest } from '../manifest/types.ts';
import { computePlan } from '../plan/compute-plan.ts';
import { describeReason } from '../plan/plan-types.ts';
import type { PlannedShot } from '../plan/plan-types.ts';
import { Journal } from '../scheduler/journal.ts';
import { statusRows } from '../plan/shot-status.ts';
import type { StatusState } from '../plan/shot-status.ts';

/** One take of a shot: a sample of its current key. */
export interface ReviewTake {
  /** 1-based, as `reroll --take N` counts. */
  readonly n: number;
  readonly videoId: string;
  readonly createdAt: number;
  readonly costUsd: number | null;
  /** The video's digest, or null when it left the local store (gc). */
  readonly video: Sha256 | null;
  /** The provider's thumbnail, when it was fetched (`assets: [thumbnail]`); else the page uses a frame. */
  readonly thumbnail: Sha256 | null;
  readonly pinned: boolean;
}

export interface ReviewShot {
  readonly id: ShotId;
  readonly prompt: string;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  /** Output path relative to out_dir. */
  readonly output: string;
  readonly state: StatusState;
  /** Why, in words: reasons for stale, the error for failed, the remote job for in flight. */
  readonly detail: string;
  /** The pinned video (also for a stale shot: the one pinned for older inputs), or null. */
  readonly pinned: {
    readonly video: Sha256 | null;
    readonly videoId: string;
    readonly outdated: boolean;
  } | null;
  /** Cost of the pinned take when known, else null. */
  readonly costUsd: number | null;
  /** What generating it would cost now (0 when nothing is generated), null when the price is unknown. */
  readonly estimatedCostUsd: number | null;
  readonly parent: { readonly id: ShotId; readonly relation: 'remix_of' | 'extend_of' } | null;
  readonly children: readonly ShotId[];
  readonly takes: readonly ReviewTake[];
  /** Whether a take may be pinned now (the shot is fresh: its takes belong to the manifest's inputs). */
  readonly pinnable: boolean;
}

export interface ReviewModel {
  /** The manifest's file name, for the title. */
  readonly title: string;
  readonly provider: string;
  /** Unix ms. */
  readonly generatedAt: number;
  /** Diagnostics, formatted, when the project cannot be planned right now (a manifest mid-edit). */
  readonly errors: readonly string[];
  readonly shots: readonly ReviewShot[];
}

export interface LoadReviewOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly manifestPath?: string | undefined;
  readonly configPath?: string | undefined;
  readonly provider?: string | undefined;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** The model, plus what the server needs to serve and pin (never sent to the page). */
export interface LoadedReview {
  readonly model: ReviewModel;
  /** Present when the project planned cleanly. */
  readonly project?: {
    readonly config: ProjectConfig;
    readonly manifest: Manifest;
    readonly planned: ReadonlyMap<ShotId, PlannedShot>;
  };
  /** Where the project keeps things; present when the manifest and config loaded (even if planning failed). */
  readonly paths?: { readonly cacheDir: string; readonly manifest: string; readonly lockfile: string };
  /** Digest -> whether it is a video (mp4) or a thumbnail (webp), for every digest the model names. */
  readonly media: ReadonlyMap<Sha256, 'video' | 'thumbnail'>;
}

export async function loadReview(options: LoadReviewOptions): Promise<LoadedReview> {
  const clock = options.clock ?? systemClock;
  const loaded = await loadProject({
    cwd: options.cwd,
    env: options.env,
    manifestPath: options.manifestPath,
    configPath: options.configPath,
    provider: options.provider,
  });
  const title = (p: string | undefined): string => (p === undefined ? 'storyboard' : p.split(/[\\/]/).pop()!);
  if (!loaded.ok) {
    return {
      model: {
        title: title(options.manifestPath),
        provider: '',
        generatedAt: clock.now(),
        errors: loaded.diagnostics.map((d) => formatDiagnostic(d, { cwd: options.cwd })),
        shots: [],
      },
      media: new Map(),
    };
  }
  const { config, manifest } = loaded;
  const paths = { cacheDir: config.cacheDir, manifest: manifest.path, lockfile: manifest.lockfilePath };
  const computed = await computePlan({ config, manifest });
  if (!computed.ok) {
    const errors =
      computed.error.reason === 'unknown-shot'
        ? [computed.error.message]
        : computed.error.diagnostics.map((d) => formatDiagnostic(d, { cwd: options.cwd }));
    return {
      model: {
        title: title(manifest.path),
        provider: config.provider.name,
        generatedAt: clock.now(),
        errors,
        shots: [],
      },
      paths,
      media: new Map(),
    };
  }
  const { plan } = computed.value;
  const store = Store.open(config.cacheDir);
  const actionCache = ActionCache.open(config.cacheDir);
  const failures = Failures.open(config.cacheDir);
  const pending = (await Journal.open({ cacheDir: config.cacheDir, clock }).pending()).filter(
    (p) => p.intent.provider === config.provider.name,
  );
  const status = new Map(
    statusRows({ plan, pending, failure: (k) => failures.last(k) }).map((r) => [r.shot, r]),
  );
  const media = new Map<Sha256, 'video' | 'thumbnail'>();
  const inStore = (digest: Sha256, kind: 'video' | 'thumbnail'): Sha256 | null => {
    if (!store.hasObject(digest)) return null;
    media.set(digest, kind);
    return digest;
  };

  const children = new Map<ShotId, ShotId[]>();
  for (const shot of manifest.shots.values()) {
    const parent = shot.remixOf ?? shot.extendOf;
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), shot.id]);
  }
  // Manifest order: the order the shots are written in, which is the storyboard's order.
  const ordered = [...manifest.shots.values()].sort(
    (a, b) => a.location.range.offset - b.location.range.offset,
  );
  const shots: ReviewShot[] = [];
  for (const shot of ordered) {
    const planned = plan.byId.get(shot.id)!;
    const row = status.get(shot.id)!;
    const lock = planned.lockEntry;
    const samples: readonly Sample[] = planned.key === null ? [] : actionCache.samples(planned.key);
    const takes = samples.map((s, i): ReviewTake => ({
      n: i + 1,
      videoId: s.videoId,
      createdAt: s.createdAt,
      costUsd: s.costUsd,
      video: inStore(s.output, 'video'),
      thumbnail: s.assets.thumbnail === undefined ? null : inStore(s.assets.thumbnail, 'thumbnail'),
      pinned:
        lock !== null && lock.key === planned.key && lock.output === s.output && lock.videoId === s.videoId,
    }));
    const pinnedTake = takes.find((t) => t.pinned);
    const parentId = shot.remixOf ?? shot.extendOf;
    shots.push({
      id: shot.id,
      prompt: shot.prompt,
      model: shot.model,
      size: shot.size,
      seconds: shot.seconds,
      output: shot.output,
      state: row.state,
      detail: row.state === 'stale' ? planned.reasons.map(describeReason).join(', ') : row.detail,
      pinned:
        lock === null
          ? null
          : {
              video: inStore(lock.output, 'video'),
              videoId: lock.videoId,
              outdated: planned.state !== 'fresh',
            },
      costUsd: pinnedTake?.costUsd ?? null,
      estimatedCostUsd: planned.estimatedCostUsd,
      parent:
        parentId === undefined
          ? null
          : { id: parentId, relation: shot.remixOf !== undefined ? 'remix_of' : 'extend_of' },
      children: (children.get(shot.id) ?? []).sort(),
      takes,
      pinnable: planned.state === 'fresh',
    });
  }
  return {
    model: {
      title: title(manifest.path),
      provider: config.provider.name,
      generatedAt: clock.now(),
      errors: [],
      shots,
    },
    project: { config, manifest, planned: plan.byId },
    paths,
    media,
  };
}
