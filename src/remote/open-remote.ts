/**
 * Opens the remote cache and its claims for one process, from `cache.remote`, the mode and the environment's
 * secrets (passed in: core code never reads `process.env`). @azure/storage-blob is imported only here, when a
 * remote cache is configured and on.
 */
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { Clock } from '../core/clock.ts';
import type { RemoteCacheConfig } from '../config/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import type { ShotClaims } from '../scheduler/shot-claims.ts';
import { BlobRemoteCache } from './remote-cache.ts';
import type { RemoteCache, RemoteCacheMode } from './remote-cache.ts';
import { BlobShotClaims } from './blob-shot-claims.ts';
import { RemoteHealth } from './remote-health.ts';

export interface OpenRemoteOptions {
  readonly config: RemoteCacheConfig;
  readonly mode: RemoteCacheMode;
  /** SORA_BUILD_CACHE_KEY. */
  readonly secret: string;
  /** AZURE_STORAGE_CONNECTION_STRING, used when the config has no `account_url`. */
  readonly connectionString: string | undefined;
  /** For `account_url` (Entra ID). @default DefaultAzureCredential */
  readonly credential?: TokenCredential;
  readonly store: Store;
  readonly actionCache: ActionCache;
  /** For the claims' refreshes and staleness (real time in the CLI: see open-engine.ts). */
  readonly clock: Clock;
  readonly warn: (message: string) => void;
  /** Claim timing (tests). */
  readonly claims?: { readonly refreshMs?: number; readonly staleMs?: number };
}

export interface OpenedRemote {
  readonly cache: RemoteCache;
  /** The team's claims (to be layered under the machine's). */
  readonly claims: ShotClaims;
}

export async function openRemote(options: OpenRemoteOptions): Promise<OpenedRemote> {
  const { config, mode, clock, warn } = options;
  const health = new RemoteHealth({ warn });
  const { BlobServiceClient } = await import('@azure/storage-blob');
  // Few, quick retries: a remote that does not answer is given up on (one warning) rather than waited for,
  // since the local build works without it.
  const pipeline = {
    retryOptions: { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000, tryTimeoutInMs: 60_000 },
    userAgentOptions: { userAgentPrefix: 'sora-build' },
  };
  let container: ContainerClient;
  if (config.accountUrl !== undefined) {
    const credential = options.credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
    container = new BlobServiceClient(config.accountUrl, credential, pipeline).getContainerClient(
      config.container,
    );
  } else if (options.connectionString !== undefined && options.connectionString !== '') {
    container = BlobServiceClient.fromConnectionString(options.connectionString, pipeline).getContainerClient(
      config.container,
    );
  } else {
    throw new TypeError('openRemote: expected `account_url` or a connection string');
  }
  return {
    cache: new BlobRemoteCache({
      container,
      mode,
      secret: options.secret,
      store: options.store,
      actionCache: options.actionCache,
      health,
    }),
    claims: new BlobShotClaims({
      container,
      health,
      clock,
      write: mode === 'readwrite',
      ...options.claims,
    }),
  };
}

/**
 * The same, opened on first use: a build whose shots are all fresh never loads the SDK or sends a request.
 * A remote that cannot even be opened (a credential that cannot be made) is down from the start.
 */
export function openRemoteLazily(options: OpenRemoteOptions): OpenedRemote {
  let opened: Promise<OpenedRemote | null> | undefined;
  const get = (): Promise<OpenedRemote | null> =>
    (opened ??= openRemote(options).catch((error: unknown) => {
      new RemoteHealth({ warn: options.warn }).fail(error, 'connecting');
      return null;
    }));
  return {
    cache: {
      restore: async (input) => (await get())?.cache.restore(input) ?? null,
      restoreObject: async (input) => (await get())?.cache.restoreObject(input) ?? false,
      publish: async (key, sample) => {
        await (await get())?.cache.publish(key, sample);
      },
    },
    claims: {
      tryAcquire: async (key) => {
        const remote = await get();
        return remote === null ? { key, release: () => Promise.resolve() } : remote.claims.tryAcquire(key);
      },
      owner: async (key) => (await get())?.claims.owner(key) ?? null,
    },
  };
}
