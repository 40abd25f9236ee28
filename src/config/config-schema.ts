/**
 * The config file's own schema, in code (see src/manifest/manifest-schema.ts for why): field lists for the
 * loader, and the JSON Schema written to `schemas/config.schema.json`.
 */
import { unreachable } from '../core/unreachable.ts';
import type { AuthMode, EmulatedApi, ProviderType } from './types.ts';

export const PROVIDER_TYPES: readonly ProviderType[] = [
  'emulator',
  'openai',
  'azure-sora1',
  'vertex-veo',
  'runway',
  'fal',
];
export const AUTH_MODES: readonly AuthMode[] = ['api-key', 'entra'];
export const EMULATED_APIS: readonly EmulatedApi[] = ['openai', 'azure-sora1'];
/** Provider names: used on the command line (`--provider NAME`) and in file names under the cache. */
export const PROVIDER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export type ConfigField =
  'version' | 'provider' | 'providers' | 'manifest' | 'out_dir' | 'cache_dir' | 'cache';
export const CONFIG_FIELDS: readonly ConfigField[] = [
  'version',
  'provider',
  'providers',
  'manifest',
  'out_dir',
  'cache_dir',
  'cache',
];

export type RemoteCacheField = 'type' | 'container' | 'account_url';
export const REMOTE_CACHE_FIELDS: readonly RemoteCacheField[] = ['type', 'container', 'account_url'];
export const REMOTE_CACHE_TYPES = ['azure-blob'] as const;
/** Azure's rule for container names: 3-63 of lowercase letters, digits and single hyphens. */
export const CONTAINER_NAME_PATTERN = '^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$';

export type ProviderField =
  | 'type'
  | 'base_url'
  | 'auth'
  | 'deployments'
  | 'quota'
  | 'pricing'
  | 'render_seconds_per_second'
  | 'project'
  | 'location'
  | 'api'
  | 'gateway'
  | 'members';
export const PROVIDER_FIELDS: readonly ProviderField[] = [
  'type',
  'base_url',
  'auth',
  'deployments',
  'quota',
  'pricing',
  'render_seconds_per_second',
  'project',
  'location',
  'api',
  'gateway',
  'members',
];

export type QuotaField = 'creates_per_minute' | 'max_in_flight';
export const QUOTA_FIELDS: readonly QuotaField[] = ['creates_per_minute', 'max_in_flight'];

/** Defaults (documented in the README): conservative enough for a new Azure deployment. */
export const DEFAULT_QUOTA = { createsPerMinute: 2, maxInFlight: 4 } as const;

/**
 * A provider type's quota when the config sets none, each figure with where it comes from (the README's
 * provider table repeats them). A service's own limits differ per account: these only start a project safely.
 */
export function defaultQuota(type: ProviderType): {
  readonly createsPerMinute: number;
  readonly maxInFlight: number;
} {
  switch (type) {
    case 'emulator':
    case 'openai':
      return DEFAULT_QUOTA;
    case 'azure-sora1':
      // "2 jobs running at once; a third must wait" (Azure's Sora 1 page): more in flight only waits queued.
      return { createsPerMinute: DEFAULT_QUOTA.createsPerMinute, maxInFlight: 2 };
    case 'runway':
      // 1 at once: Runway's Tier 1 concurrency for video models (docs.dev.runwayml.com/usage/tiers; tasks
      // beyond it wait THROTTLED, they are not refused). Runway publishes no per-minute limit: 5 is a guess.
      return { createsPerMinute: 5, maxInFlight: 1 };
    case 'fal':
      // 2 at once: a new fal account's concurrency (fal's FAQ; it rises with credits up to 40, and requests
      // beyond it wait IN_QUEUE). fal publishes no per-minute limit: 10 is a guess, set it.
      return { createsPerMinute: 10, maxInFlight: 2 };
    case 'vertex-veo':
      // 10 a minute: Vertex's Veo 3 page, "Maximum API requests per minute per project: 10" (a third-party page
      // says 50 for the 3.1 -001 models; not confirmed). 4 at once: a guess, set it (Google publishes none).
      return { createsPerMinute: 10, maxInFlight: 4 };
    default:
      return unreachable(type);
  }
}
export const DEFAULT_PROVIDER_NAME = 'emulator';
export const DEFAULT_OUT_DIR = 'out';
export const DEFAULT_CACHE_DIR = '.sora-build';
export const DEFAULT_MANIFEST = 'storyboard.yaml';
/** Ajv's options for the config schema, shared by the loader and the precompiled validator. */
export const CONFIG_AJV_OPTIONS = {
  allErrors: true,
  verbose: true,
  allowUnionTypes: true,
  strict: true,
} as const;

/** The name of the config file looked for in the manifest's folder and every folder above it. */
export const CONFIG_FILE_NAME = 'sora.config.yaml';

type JsonSchema = Readonly<Record<string, unknown>>;

// Whole numbers beyond 2^53 - 1 are not exact in JavaScript (1e21 + 1 === 1e21): refused, not rounded.
const quotaSchema: Readonly<Record<QuotaField, JsonSchema>> = {
  creates_per_minute: {
    type: 'integer',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'Create, remix and extend requests in any sliding 60 s window. Default 2 (vertex-veo 10, runway 5, fal 10; see the README).',
  },
  max_in_flight: {
    type: 'integer',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'Jobs queued or in progress at once. Default 4 (azure-sora1 2, runway 1, fal 2; see the README).',
  },
};

const providerSchema: Readonly<Record<ProviderField, JsonSchema>> = {
  type: {
    enum: [...PROVIDER_TYPES, 'pool'],
    description:
      'emulator (embedded, offline, free), openai (the OpenAI Videos API: OpenAI, Azure OpenAI v1, gateways), azure-sora1, vertex-veo (Veo 3.1 on Google Vertex AI), runway (@runwayml/sdk, RUNWAYML_API_SECRET) or fal (@fal-ai/client, FAL_KEY).',
  },
  base_url: {
    type: 'string',
    description:
      'http(s) URL of the API, e.g. https://RESOURCE.openai.azure.com/openai/v1/. openai: default OPENAI_BASE_URL, else the SDK default. vertex-veo: the service root (default https://LOCATION-aiplatform.googleapis.com/). runway: default https://api.dev.runwayml.com. fal: the queue base, default https://queue.fal.run.',
  },
  auth: {
    enum: AUTH_MODES,
    description: 'api-key (AZURE_OPENAI_API_KEY or OPENAI_API_KEY; the default) or entra (@azure/identity).',
  },
  deployments: {
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1 },
    description: 'Model name -> deployment name sent as model.',
  },
  quota: { type: 'object', additionalProperties: false, properties: quotaSchema },
  pricing: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      required: ['usd_per_second'],
      properties: { usd_per_second: { type: 'number', minimum: 0 } },
    },
    description: 'Model name -> price. A model not listed has an unknown price (never $0).',
  },
  render_seconds_per_second: {
    type: 'number',
    exclusiveMinimum: 0,
    description: 'emulator only: seconds of render time per second of video. Default 6.',
  },
  project: {
    type: 'string',
    minLength: 1,
    description: 'vertex-veo only: the Google Cloud project. Default GOOGLE_CLOUD_PROJECT.',
  },
  location: {
    type: 'string',
    pattern: '^[a-z0-9-]+$',
    description: 'vertex-veo only: the Vertex AI region. Default GOOGLE_CLOUD_LOCATION, else us-central1.',
  },
  api: {
    enum: EMULATED_APIS,
    description:
      'emulator only: the API the embedded emulator is spoken to through (openai: the Videos API, Sora 2; azure-sora1: Sora 1 jobs). Default openai.',
  },
  gateway: {
    type: 'object',
    additionalProperties: false,
    properties: {
      remix: { type: 'boolean', description: 'The gateway can remix videos. Default false.' },
      extend: { type: 'boolean', description: 'The gateway can extend videos. Default false.' },
    },
    description:
      'openai only: the service is an OpenAI-compatible gateway (LiteLLM, new-api). Completed jobs are confirmed by their content; remix/extend are refused at plan time unless allowed here.',
  },
  members: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', pattern: PROVIDER_NAME_PATTERN },
    description:
      "pool only: the providers (of one type) whose quotas the pool adds up; creates go where quota is free, a remix or extension to its parent's member.",
  },
};

const remoteCacheSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'container'],
  description:
    "A team's shared cache and claims. Secrets come from the environment: AZURE_STORAGE_CONNECTION_STRING (without account_url) and the signing key SORA_BUILD_CACHE_KEY.",
  properties: {
    type: { enum: REMOTE_CACHE_TYPES, description: 'azure-blob: an Azure Blob Storage container.' },
    container: {
      type: 'string',
      pattern: CONTAINER_NAME_PATTERN,
      description: 'The blob container: 3-63 lowercase letters, digits and single hyphens.',
    },
    account_url: {
      type: 'string',
      description:
        'https://ACCOUNT.blob.core.windows.net, reached with Entra ID (@azure/identity). Without it: AZURE_STORAGE_CONNECTION_STRING.',
    },
  } satisfies Record<RemoteCacheField, JsonSchema>,
};

export function configJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/sora-build/sora-build/schemas/config.schema.json',
    title: 'sora-build project configuration (sora.config.yaml)',
    type: 'object',
    additionalProperties: false,
    required: ['version'],
    properties: {
      version: { const: 1, description: 'Config format version; always 1.' },
      provider: {
        type: 'string',
        minLength: 1,
        description: 'The provider to use; --provider NAME overrides. Default emulator.',
      },
      providers: {
        type: 'object',
        propertyNames: { pattern: PROVIDER_NAME_PATTERN },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['type'],
          properties: providerSchema,
        },
      },
      manifest: {
        type: 'string',
        minLength: 1,
        description:
          'Default manifest, relative to this file. Default: storyboard.yaml in the current folder.',
      },
      out_dir: {
        type: 'string',
        minLength: 1,
        description: 'Where videos are written, relative to this file. Default out.',
      },
      cache_dir: {
        type: 'string',
        minLength: 1,
        description: 'The local store, relative to this file. Default .sora-build.',
      },
      cache: {
        type: 'object',
        additionalProperties: false,
        properties: { remote: { ...remoteCacheSchema } },
      },
    },
  };
}
