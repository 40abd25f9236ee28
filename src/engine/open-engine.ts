/**
 * Wires a BuildEngine for a project: the store, action cache, journal, shared quota ledger, learned render
 * durations and failure memory under `cacheDir`, and a provider created on first use. Used by `build`,
 * `reroll` and `watch`.
 */
import type { TokenCredential } from '@azure/identity';
import type { Clock } from '../core/clock.ts';
import type { BuildEvent } from '../core/events.ts';
import type { ProjectConfig, ProviderConfig } from '../config/types.ts';
import type { JobProvider } from '../provider/job-api.ts';
import { Store } from '../cache/store.ts';
import { ActionCache } from '../cache/action-cache.ts';
import { Failures } from '../cache/failures.ts';
import { Journal } from '../scheduler/journal.ts';
import { CreateLedger } from '../scheduler/create-ledger.ts';
import { DurationEstimates } from '../scheduler/duration-estimates.ts';
import type { VideoProvider } from '../provider/types.ts';
import { BuildEngine } from './build-engine.ts';

export interface OpenEngineOptions {
  readonly config: ProjectConfig;
  /** Read by the provider for base URLs and credentials; never stored. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly emit: (event: BuildEvent) => void;
  /** Replaces DefaultAzureCredential (tests). */
  readonly credential?: TokenCredential;
  /** Replaces the configured provider (tests). */
  readonly provider?: () => Promise<JobProvider | VideoProvider>;
  /** See BuildEngineOptions.ordering. @default 'critical-path' */
  readonly ordering?: 'critical-path' | 'fifo';
}

export function openEngine(options: OpenEngineOptions): BuildEngine {
  const { config, clock } = options;
  const durations = DurationEstimates.open(config.cacheDir);
  // Imported on first use: the SDKs are a large part of start-up, and a build with nothing to generate never
  // needs them.
  const open = async (provider: ProviderConfig): Promise<JobProvider | VideoProvider> =>
    (await import('../provider/create-provider.ts')).createJobProvider({
      config: provider,
      env: options.env,
      clock,
      cacheDir: config.cacheDir,
      ...(options.credential === undefined ? {} : { credential: options.credential }),
    });
  const provider = options.provider ?? (() => open(config.provider));
  const kind = (k: string): { model: string; size: string; seconds: number } => {
    const [model = '', size = '', seconds = '0'] = k.split('|');
    return { model, size, seconds: Number(seconds) };
  };
  return new BuildEngine({
    config,
    provider,
    // Any other provider a shot names, opened on first use (its credentials are checked then).
    providerFor: open,
    store: Store.open(config.cacheDir, { clock }),
    actionCache: ActionCache.open(config.cacheDir),
    journal: Journal.open({ cacheDir: config.cacheDir, clock }),
    ledger: CreateLedger.open({ cacheDir: config.cacheDir, provider: config.provider.name, clock }),
    failures: Failures.open(config.cacheDir),
    clock,
    emit: options.emit,
    ...(options.ordering === undefined ? {} : { ordering: options.ordering }),
    durations: {
      estimate: (k) => durations.estimate(kind(k)),
      record: (k, ms) => {
        if (ms > 0) void durations.record(kind(k), ms).catch(() => undefined);
      },
    },
  });
}
