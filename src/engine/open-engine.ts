/**
 * Wires a BuildEngine for a project: the store, action cache, journal, shared quota ledger, learned render
 * durations and failure memory under `cacheDir`, and a provider created on first use. Used by `build`,
 * `reroll` and `watch`.
 */
import type { TokenCredential } from '@azure/identity';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { BuildEvent } from '../core/events.ts';
import { diagnosticEvent } from '../core/events.ts';
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
import { FileShotClaims } from '../scheduler/shot-claims.ts';
import { LayeredShotClaims } from '../remote/blob-shot-claims.ts';
import { openRemoteLazily } from '../remote/open-remote.ts';
import type { RemoteCacheMode } from '../remote/remote-cache.ts';

/** How this process uses `cache.remote` (decided by the CLI: src/remote/remote-mode.ts). */
export type EngineRemote =
  | {
      readonly mode: RemoteCacheMode;
      /** SORA_BUILD_CACHE_KEY. */
      readonly secret: string;
      /** AZURE_STORAGE_CONNECTION_STRING, when the config has no `account_url`. */
      readonly connectionString: string | undefined;
      /** Claim timing (tests). */
      readonly claims?: { readonly refreshMs?: number; readonly staleMs?: number };
    }
  /** Off; `note` says why when the config asked for a remote cache. */
  | { readonly mode: 'off'; readonly note: string | null };

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
  /** The team's remote cache (`cache.remote`). @default off */
  readonly remote?: EngineRemote;
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
  const store = Store.open(config.cacheDir, { clock });
  const actionCache = ActionCache.open(config.cacheDir);
  const remote = remoteFor(options, store, actionCache);
  return new BuildEngine({
    config,
    provider,
    // Any other provider a shot names, opened on first use (its credentials are checked then).
    providerFor: open,
    store,
    actionCache,
    ...(remote === undefined
      ? {}
      : {
          remote: remote.cache,
          claims: new LayeredShotClaims({
            local: new FileShotClaims({ cacheDir: config.cacheDir }),
            remote: remote.claims,
          }),
        }),
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

/** Opens `cache.remote` when on; its warnings point at the config's `remote:` entry (one per message). */
function remoteFor(
  options: OpenEngineOptions,
  store: Store,
  actionCache: ActionCache,
): ReturnType<typeof openRemoteLazily> | undefined {
  const { config, remote, clock, emit } = options;
  const at = config.remoteCache;
  if (remote === undefined || at === undefined) return undefined;
  const said = new Set<string>();
  const warn = (message: string): void => {
    if (said.has(message)) return;
    said.add(message);
    emit(diagnosticEvent({ severity: 'warning', message, location: at.location }, clock.now()));
  };
  if (remote.mode === 'off') {
    if (remote.note !== null) warn(remote.note);
    return undefined;
  }
  return openRemoteLazily({
    config: at,
    mode: remote.mode,
    secret: remote.secret,
    connectionString: remote.connectionString,
    ...(options.credential === undefined ? {} : { credential: options.credential }),
    store,
    actionCache,
    // Claims judge whether their owner is alive in real time, like the machine's file claims: a scaled clock
    // (tests, benchmarks) must not make a busy owner look dead after a real second.
    clock: systemClock,
    warn,
    ...(remote.claims === undefined ? {} : { claims: remote.claims }),
  });
}
