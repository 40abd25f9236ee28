/**
 * One `JobContext` per provider a build uses (`providers.<name>` in sora.config.yaml): each with its own
 * adapter (opened on first use: a build with nothing to generate never connects anywhere), its own quota
 * (the per-minute ledger, `max_in_flight`, the create turns, the polls) and its deployment map, over the
 * state every provider shares (the store, the action cache, the journal, the clock, the downloads lane,
 * which is this machine's bandwidth). So one run builds through two providers, each at its own pace.
 */
import type { ProviderConfig } from '../config/types.ts';
import type { JobHandle, JobProvider } from '../provider/job-api.ts';
import { asJobProvider } from '../provider/legacy-job-provider.ts';
import { CreateLedger } from '../scheduler/create-ledger.ts';
import type { BuildEngineOptions } from './build-types.ts';
import type { JobContext } from './job-types.ts';
import { createLanes } from './lanes.ts';
import type { Lanes } from './lanes.ts';

export class ProviderContexts {
  readonly #options: BuildEngineOptions;
  readonly #downloads: Lanes['downloads'];
  readonly #contexts = new Map<string, JobContext>();
  readonly #opened = new Map<string, Promise<JobProvider>>();
  /** Remote ids this process knows belong to jobs (submitted, resumed, pinned): never matched by a List. */
  readonly knownVideoIds = new Set<string>();

  constructor(options: BuildEngineOptions) {
    this.#options = options;
    this.#downloads = createLanes({ maxInFlight: 1, downloads: options.downloadConcurrency ?? 4 }).downloads;
  }

  /** The configured provider's name: what a shot without its own `provider` uses. */
  get defaultName(): string {
    return this.#options.config.provider.name;
  }

  /** The context of provider `name`; undefined when the config has no such provider. */
  get(name: string): JobContext | undefined {
    let ctx = this.#contexts.get(name);
    if (ctx === undefined) {
      const config = this.#configOf(name);
      if (config === undefined) return undefined;
      ctx = this.#contextFor(config);
      this.#contexts.set(name, ctx);
    }
    return ctx;
  }

  /** The context of the configured provider (always there). */
  get default(): JobContext {
    return this.get(this.defaultName)!;
  }

  /** Closes every provider opened. */
  async close(): Promise<void> {
    await Promise.all([...this.#opened.values()].map(async (p) => (await p.catch(() => undefined))?.close()));
  }

  #configOf(name: string): ProviderConfig | undefined {
    const { config } = this.#options;
    return name === config.provider.name ? config.provider : config.providers.get(name);
  }

  #open(config: ProviderConfig): Promise<JobProvider> {
    let opened = this.#opened.get(config.name);
    if (opened === undefined) {
      const { options } = { options: this.#options };
      const factory =
        config.name === options.config.provider.name
          ? options.provider
          : options.providerFor === undefined
            ? () => Promise.reject(new Error(`internal error: no way to open provider ${config.name}`))
            : () => options.providerFor!(config);
      // An adapter still on the older interface is wrapped (legacy-job-provider.ts).
      opened = factory().then((p) => asJobProvider(p, config.type));
      this.#opened.set(config.name, opened);
    }
    return opened;
  }

  #contextFor(config: ProviderConfig): JobContext {
    const { store, actionCache, journal, clock, emit, durations } = this.#options;
    const isDefault = config.name === this.#options.config.provider.name;
    const ledger = isDefault
      ? this.#options.ledger
      : (this.#options.ledgerFor?.(config.name) ??
        CreateLedger.open({ cacheDir: this.#options.config.cacheDir, provider: config.name, clock }));
    const lanes: Lanes = {
      ...createLanes({ maxInFlight: config.quota.maxInFlight }),
      downloads: this.#downloads,
    };
    // model|size|seconds: what the learned render durations are keyed by (see open-engine.ts).
    const kind = (spec: {
      request: { model: string; seconds: number };
      expected: { size: string };
    }): string => `${spec.request.model}|${spec.expected.size}|${spec.request.seconds}`;
    const remoteModel = (model: string): string => config.deployments[model] ?? model;
    return {
      provider: () => this.#open(config),
      providerName: config.name,
      providerConfig: config,
      handleFor: (videoId, model, createdAt): JobHandle => ({
        type: config.type,
        provider: config.name,
        id: videoId,
        model: remoteModel(model),
        createdAt: createdAt ?? 0,
      }),
      store,
      actionCache,
      journal,
      ledger,
      lanes,
      clock,
      emit: (event) => {
        if (event.type === 'job-submitted' || event.type === 'resumed') this.knownVideoIds.add(event.videoId);
        emit(event);
      },
      createsPerMinute: config.quota.createsPerMinute,
      remoteModel,
      claimedVideoIds: () => new Set(this.knownVideoIds),
      estimateRenderMs: (spec) => durations?.estimate(kind(spec)) ?? null,
      recordRenderMs: (spec, ms) => durations?.record(kind(spec), ms),
      random: this.#options.random ?? Math.random,
    };
  }
}
