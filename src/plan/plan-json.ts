import type { ComputedPlan } from './compute-plan.ts';
import type { ShotState, StaleReason } from './plan-types.ts';
import { describeReason } from './plan-types.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { ProviderType } from '../config/types.ts';

/** Version of the `plan --json` document; bumped on any incompatible change of `schemas/plan.schema.json`. */
export const PLAN_JSON_VERSION = 1;

/** The `plan --json` document (schemas/plan.schema.json describes it; snake_case like the config). */
export interface PlanJson {
  readonly version: typeof PLAN_JSON_VERSION;
  /** The manifest as the user named it: relative to the working folder when inside it. */
  readonly manifest: string;
  readonly lockfile: string;
  /** Only with `--shard K/N`. */
  readonly shard?: {
    readonly index: number;
    readonly count: number;
    readonly shots: readonly string[];
    readonly chains: number;
    readonly total_shots: number;
  };
  readonly provider: {
    readonly name: string;
    readonly type: ProviderType;
    readonly family: ProviderFamily;
    readonly quota: { readonly creates_per_minute: number; readonly max_in_flight: number };
  };
  readonly shots: readonly PlanJsonShot[];
  readonly totals: {
    readonly shots: number;
    readonly to_generate: number;
    readonly fresh: number;
    readonly cached: number;
    readonly missing: number;
    readonly stale: number;
    readonly blocked: number;
    readonly video_seconds: number;
    /** null when any shot to generate has an unknown price. */
    readonly estimated_cost_usd: number | null;
    readonly known_cost_usd: number;
    readonly unknown_price_shots: number;
    readonly unpriced_models: readonly string[];
    readonly estimated_wall_time_ms: number;
  };
}

export interface PlanJsonShot {
  readonly id: string;
  readonly state: ShotState;
  readonly reasons: readonly { readonly code: StaleReason; readonly message: string }[];
  /** null while blocked: the key needs the parent's new video. */
  readonly key: string | null;
  readonly blocked_by: string | null;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly output: string;
  /** 0 when nothing is generated; null when the price is unknown. */
  readonly estimated_cost_usd: number | null;
  readonly expected_render_ms: number;
  readonly critical_path_ms: number;
}

export interface PlanJsonOptions {
  /** The manifest and lockfile paths as they should be shown. */
  readonly manifestPath: string;
  readonly lockfilePath: string;
  /** The shots' configs, for model/size/seconds/output. */
  readonly shots: ReadonlyMap<string, { model: string; size: string; seconds: number; output: string }>;
}

export function planToJson(computed: ComputedPlan, options: PlanJsonOptions): PlanJson {
  const { plan, provider, family } = computed;
  const t = plan.totals;
  return {
    version: PLAN_JSON_VERSION,
    manifest: options.manifestPath,
    lockfile: options.lockfilePath,
    ...(computed.shard !== undefined
      ? {
          shard: {
            index: computed.shard.index,
            count: computed.shard.count,
            shots: [...computed.shard.shots].sort(),
            chains: computed.shard.chains,
            total_shots: computed.shard.totalShots,
          },
        }
      : {}),
    provider: {
      name: provider.name,
      type: provider.type,
      family,
      quota: {
        creates_per_minute: provider.quota.createsPerMinute,
        max_in_flight: provider.quota.maxInFlight,
      },
    },
    shots: plan.shots.map((s) => {
      const shot = options.shots.get(s.id)!;
      return {
        id: s.id,
        state: s.state,
        reasons: s.reasons.map((code) => ({ code, message: describeReason(code) })),
        key: s.key,
        blocked_by: s.blockedBy,
        model: shot.model,
        size: shot.size,
        seconds: shot.seconds,
        output: shot.output,
        estimated_cost_usd: s.estimatedCostUsd,
        expected_render_ms: s.expectedRenderMs,
        critical_path_ms: s.criticalPathMs,
      };
    }),
    totals: {
      shots: t.shots,
      to_generate: t.toGenerate,
      fresh: t.byState.fresh,
      cached: t.byState.cached,
      missing: t.byState.missing,
      stale: t.byState.stale,
      blocked: t.byState.blocked,
      video_seconds: t.videoSeconds,
      estimated_cost_usd: t.cost.totalUsd,
      known_cost_usd: t.cost.knownUsd,
      unknown_price_shots: t.cost.unknownShots,
      unpriced_models: t.cost.unpricedModels,
      estimated_wall_time_ms: t.wallTimeMs,
    },
  };
}
