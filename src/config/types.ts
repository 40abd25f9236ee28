import type { Location } from '../core/diagnostic.ts';

/**
 * The kinds of provider adapters. `emulator` runs the embedded emulator and talks to it like `openai`;
 * `vertex-veo`, `runway` and `fal` speak those services' own APIs through their official SDKs.
 */
export type ProviderType = 'emulator' | 'openai' | 'azure-sora1' | 'vertex-veo' | 'runway' | 'fal';

/** The APIs the embedded emulator serves, by the provider type that speaks each. */
export type EmulatedApi = 'openai' | 'azure-sora1';

/** How the `openai` / `azure-sora1` adapters authenticate. */
export type AuthMode = 'api-key' | 'entra';

export interface QuotaConfig {
  /** Create, remix and extend requests allowed in any sliding 60 s window. */
  readonly createsPerMinute: number;
  /** Jobs queued or in progress at once. */
  readonly maxInFlight: number;
}

/**
 * `gateway:` on an `openai` provider: the service is an OpenAI-compatible gateway (LiteLLM, new-api) in front
 * of another model. Its completed jobs are confirmed by a content request (a gateway reports a filtered video
 * as completed), and shots it cannot build are refused at plan time.
 */
export interface GatewayConfig {
  /** The gateway can remix (`POST /videos/{id}/remix`). @default false */
  readonly remix: boolean;
  /** The gateway can extend (`POST /videos/extensions`). @default false */
  readonly extend: boolean;
}

export interface ProviderConfig {
  /** The key under `providers:`. */
  readonly name: string;
  readonly type: ProviderType;
  /** For `openai` / `azure-sora1`; `undefined` means OPENAI_BASE_URL or the SDK's default. */
  readonly baseUrl: string | undefined;
  readonly auth: AuthMode;
  /** Model name -> deployment name sent as `model`. */
  readonly deployments: Readonly<Record<string, string>>;
  readonly quota: QuotaConfig;
  /** Model name -> USD per second of generated video. A model not listed has an unknown price. */
  readonly pricing: Readonly<Record<string, { readonly usdPerSecond: number }>>;
  /** Emulator only: seconds of render time per second of video (emulator time). */
  readonly renderSecondsPerSecond: number | undefined;
  /**
   * `vertex-veo` only: the Google Cloud project and region from the config; absent = GOOGLE_CLOUD_PROJECT /
   * GOOGLE_CLOUD_LOCATION (the SDK's own variables), the region defaulting to us-central1.
   */
  readonly vertex?: { readonly project?: string; readonly location?: string };
  /**
   * Emulator only: the API the embedded emulator is spoken to through (`api:`), so a storyboard written for
   * another API builds offline; its capabilities are that API's. @default 'openai'
   */
  readonly api?: EmulatedApi;
  /** `openai` only: set when the service is a gateway. */
  readonly gateway?: GatewayConfig | undefined;
  /**
   * `type: pool`: the members (resolved, in `members:` order). The pool's `type` is theirs, its quota their
   * sum; creates go to a member with room, a remix or extension to its parent's (provider/pool-provider.ts).
   */
  readonly pool?: { readonly members: readonly ProviderConfig[] } | undefined;
  readonly location: Location;
}

export interface ProjectConfig {
  /** Absolute path of `sora.config.yaml`, or `undefined` when none was found (built-in defaults). */
  readonly path: string | undefined;
  /** The folder paths in the project are relative to: the config's folder, else the manifest's. */
  readonly root: string;
  /** The provider chosen by `provider:` or `--provider`. */
  readonly provider: ProviderConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  /** Absolute. @default `<root>/out` */
  readonly outDir: string;
  /** Absolute. @default `<root>/.sora-build` */
  readonly cacheDir: string;
  /** Where `out_dir:` and `cache_dir:` are written in the config, for problems found on the disk. */
  readonly folderLocations?: { readonly outDir?: Location; readonly cacheDir?: Location };
  /** Default manifest, absolute: from `manifest:` (relative to the config), else `storyboard.yaml` in the current folder (design.md section 8). */
  readonly manifest: string;
  /** `cache.remote`: the team's shared cache and claims (design.md section 11); absent: local only. */
  readonly remoteCache?: RemoteCacheConfig | undefined;
}

/**
 * `cache.remote` in `sora.config.yaml`: an Azure Blob container shared by a team's machines. Names the place,
 * never a secret: the connection string (AZURE_STORAGE_CONNECTION_STRING) and the signing key
 * (SORA_BUILD_CACHE_KEY) come from the environment.
 */
export interface RemoteCacheConfig {
  readonly type: 'azure-blob';
  /** The blob container (created by the team's admin; see the README). */
  readonly container: string;
  /**
   * `https://ACCOUNT.blob.core.windows.net`, reached with @azure/identity (Entra ID); undefined: the account
   * comes from AZURE_STORAGE_CONNECTION_STRING.
   */
  readonly accountUrl: string | undefined;
  /** The `remote:` entry in the config, where warnings about the remote cache point. */
  readonly location: Location;
}
