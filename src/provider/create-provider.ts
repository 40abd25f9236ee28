import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { Clock } from '../core/clock.ts';
import { unreachable } from '../core/unreachable.ts';
import type { ProviderConfig } from '../config/types.ts';
import { providerFamily } from '../config/capabilities.ts';
import { AzureSora1Provider } from './azure-sora1-provider.ts';
import { AzureSora1JobProvider, type AzureSora1JobProviderOptions } from './azure-sora1-job-provider.ts';
import { OpenAIProvider } from './openai-provider.ts';
import { PoolProvider } from './pool-provider.ts';
import { SecretRedactor } from './redact.ts';
import { OPENAI_DEFAULT_BASE_URL, resolveAuth } from './resolve-auth.ts';
import type { JobProvider } from './job-api.ts';
import { ProviderError, type VideoProvider } from './types.ts';
import { asJobProvider } from './legacy-job-provider.ts';

export interface CreateProviderOptions {
  readonly config: ProviderConfig;
  /** Read for OPENAI_BASE_URL, the API keys, OPENAI_ORG_ID / OPENAI_PROJECT_ID; never stored. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Read retries, token expiry, and the embedded emulator's time. */
  readonly clock: Clock;
  /** The project's `.sora-build/` folder: the embedded emulator keeps its jobs under `emulator/` there. */
  readonly cacheDir: string;
  /** Replaces DefaultAzureCredential for `auth: entra` (tests). */
  readonly credential?: TokenCredential;
  /**
   * Obtain the Entra ID token now (it is kept for the first requests), so a credential that cannot give one
   * is found once, before anything is sent, rather than by every shot. A missing API key is found either way.
   * @default false
   */
  readonly checkAuth?: boolean;
}

/**
 * The engine's entry point: the configured provider as a `JobProvider`. A type with a native `JobProvider`
 * adapter is built here; the others are `createProvider`'s older adapters behind the shim
 * (legacy-job-provider.ts) until they move.
 */
export async function createJobProvider(options: CreateProviderOptions): Promise<JobProvider> {
  const { config } = options;
  if (config.type === 'vertex-veo') {
    // Imported here: the Google SDK loads only for a project that uses it.
    const { createVertexVeoProvider } = await import('./create-vertex-veo.ts');
    return createVertexVeoProvider({
      config,
      env: options.env,
      clock: options.clock,
      ...(options.checkAuth !== undefined && { checkAuth: options.checkAuth }),
    });
  }
  if (config.type === 'runway' || config.type === 'fal') {
    const { createPartnerProvider } = await import('./create-partner-provider.ts');
    return createPartnerProvider({
      config: { ...config, type: config.type },
      env: options.env,
      clock: options.clock,
    });
  }
  return asJobProvider(await makeProvider(options, 'job'), options.config.type);
}

/**
 * Builds the adapter for a configured provider:
 * - `openai`: the OpenAI Videos API through the official SDK (OpenAI, Azure v1, compatible gateways);
 * - `azure-sora1`: Azure's Sora 1 video generation jobs API;
 * - `emulator`: starts the embedded emulator on a loopback port with a random per-process key and talks to
 *   it through the same `openai` adapter, so the offline default exercises the real path. Closing the
 *   provider stops the emulator.
 * Throws a ProviderError (`auth`, delivered `no`) when credentials are missing.
 */
export function createProvider(options: CreateProviderOptions): Promise<VideoProvider> {
  return makeProvider(options, 'video');
}

/**
 * `job`: the native JobProvider where a type has one (azure-sora1, also behind the embedded emulator's
 * `api: azure-sora1`); `video`: the older VideoProvider, which the `videos`, `status --remote` and
 * `why --remote` commands still read through.
 */
async function makeProvider(options: CreateProviderOptions, shape: 'video'): Promise<VideoProvider>;
async function makeProvider(
  options: CreateProviderOptions,
  shape: 'job',
): Promise<VideoProvider | JobProvider>;
async function makeProvider(
  options: CreateProviderOptions,
  shape: 'video' | 'job',
): Promise<VideoProvider | JobProvider> {
  const { config, env, clock } = options;
  if (config.pool !== undefined) return createPool(options, config.pool.members);
  const sora1 = (o: AzureSora1JobProviderOptions): VideoProvider | JobProvider =>
    shape === 'job' ? new AzureSora1JobProvider(o) : new AzureSora1Provider(o);
  const redactor = new SecretRedactor();
  switch (config.type) {
    case 'emulator': {
      // Imported here so a build against a real service never loads the emulator (and its renderer).
      const { startEmulator } = await import('../emulator/server.ts');
      const apiKey = `emu-${randomBytes(24).toString('hex')}`;
      redactor.add(apiKey);
      const emulator = await startEmulator({
        host: '127.0.0.1',
        port: 0,
        clock,
        createsPerMinute: config.quota.createsPerMinute,
        ...(config.renderSecondsPerSecond !== undefined
          ? { renderSecondsPerSecond: config.renderSecondsPerSecond }
          : {}),
        apiKeys: [apiKey],
        // Jobs outlive the command, as a real service's videos do (24 h): `videos list` after a build shows
        // them, and an asset asked for later is still rendered.
        // Each configured emulator is its own service (members of a pool must not see each other's jobs).
        stateDir: join(options.cacheDir, config.name === 'emulator' ? 'emulator' : `emulator-${config.name}`),
      });
      if (config.api === 'azure-sora1') {
        return sora1({
          name: config.name,
          family: providerFamily(config.type),
          baseUrl: `${emulator.url}/openai/v1`,
          auth: { mode: 'api-key', apiKey, variable: 'the emulator key' },
          deployments: config.deployments,
          clock,
          redactor,
          onClose: () => emulator.close(),
        });
      }
      return new OpenAIProvider({
        name: config.name,
        family: providerFamily(config.type),
        baseUrl: `${emulator.url}/v1`,
        auth: { mode: 'api-key', apiKey, variable: 'the emulator key' },
        deployments: config.deployments,
        clock,
        redactor,
        onClose: () => emulator.close(),
      });
    }
    case 'openai': {
      const baseUrl = config.baseUrl ?? nonEmpty(env['OPENAI_BASE_URL']) ?? OPENAI_DEFAULT_BASE_URL;
      const auth = await resolveAuth({
        config,
        env,
        clock,
        baseUrl,
        redactor,
        credential: options.credential,
      });
      if (options.checkAuth === true && auth.mode === 'entra') await auth.tokens.getToken();
      return new OpenAIProvider({
        name: config.name,
        family: providerFamily(config.type),
        baseUrl,
        auth,
        deployments: config.deployments,
        clock,
        redactor,
        organization: nonEmpty(env['OPENAI_ORG_ID']),
        project: nonEmpty(env['OPENAI_PROJECT_ID']),
        gateway: config.gateway !== undefined,
      });
    }
    case 'azure-sora1': {
      const baseUrl = config.baseUrl ?? nonEmpty(env['OPENAI_BASE_URL']);
      if (baseUrl === undefined) {
        throw new ProviderError({
          kind: 'invalid-request',
          message:
            `${config.name}: an azure-sora1 provider needs \`base_url\` (https://RESOURCE.openai.azure.com/openai/v1/) ` +
            'in sora.config.yaml or OPENAI_BASE_URL',
          delivered: 'no',
        });
      }
      const auth = await resolveAuth({
        config,
        env,
        clock,
        baseUrl,
        redactor,
        credential: options.credential,
      });
      if (options.checkAuth === true && auth.mode === 'entra') await auth.tokens.getToken();
      return sora1({
        name: config.name,
        baseUrl,
        auth,
        deployments: config.deployments,
        clock,
        redactor,
      });
    }
    case 'vertex-veo':
      // A JobProvider only (createJobProvider above): Veo has no list, no delete, no content endpoint.
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${config.name}: this command does not work with a vertex-veo provider (Vertex AI cannot list or delete Veo jobs)`,
        delivered: 'no',
      });
    case 'runway':
    case 'fal':
      // Only the build engine talks to these (createJobProvider): they have no OpenAI-shaped video list.
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${config.name}: a ${config.type} provider has no remote video list to read or manage (only \`build\` talks to it)`,
        delivered: 'no',
      });
    default:
      return unreachable(config.type);
  }
}

/** A pool over its members' adapters; with `checkAuth`, every member is opened (and checked) now. */
async function createPool(
  options: CreateProviderOptions,
  members: readonly ProviderConfig[],
): Promise<VideoProvider> {
  const open = (member: ProviderConfig): Promise<VideoProvider> =>
    createProvider({ ...options, config: member });
  const opened =
    options.checkAuth === true ? await Promise.all(members.map(open)) : members.map(() => undefined);
  return new PoolProvider({
    name: options.config.name,
    family: providerFamily(options.config.type),
    clock: options.clock,
    members: members.map((member, i) => ({
      name: member.name,
      quota: member.quota,
      open: () => (opened[i] !== undefined ? Promise.resolve(opened[i]) : open(member)),
    })),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
