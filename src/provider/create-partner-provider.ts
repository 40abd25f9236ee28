/**
 * Builds the adapters of the services that speak their own API through their own SDK: `runway`
 * (RUNWAYML_API_SECRET) and `fal` (FAL_KEY). Each takes config `base_url` (default: the service's own), so a
 * project points at an emulator the same way for every type. Keys come from the environment only, never the
 * config, and are known to the redactor before any request.
 */
import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/types.ts';
import { FAL_DEFAULT_BASE_URL, FalProvider } from './fal-provider.ts';
import type { JobProvider } from './job-api.ts';
import { SecretRedactor } from './redact.ts';
import { RUNWAY_DEFAULT_BASE_URL, RunwayProvider } from './runway-provider.ts';
import { ProviderError } from './types.ts';

export interface CreatePartnerProviderOptions {
  readonly config: ProviderConfig & { readonly type: 'runway' | 'fal' };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
}

/** The variable each type reads its key from (the services' own names, which their SDKs also read). */
export const KEY_VARIABLES = { runway: 'RUNWAYML_API_SECRET', fal: 'FAL_KEY' } as const;

export function createPartnerProvider(options: CreatePartnerProviderOptions): JobProvider {
  const { config, env, clock } = options;
  const variable = KEY_VARIABLES[config.type];
  const apiKey = env[variable]?.trim();
  if (apiKey === undefined || apiKey === '') {
    throw new ProviderError({
      kind: 'auth',
      message: `${config.name}: set ${variable} to your ${config.type === 'runway' ? 'Runway API secret' : 'fal API key'} (provider type ${config.type})`,
      delivered: 'no',
    });
  }
  const redactor = new SecretRedactor();
  redactor.add(apiKey);
  switch (config.type) {
    case 'runway':
      return new RunwayProvider({
        name: config.name,
        baseUrl: config.baseUrl ?? RUNWAY_DEFAULT_BASE_URL,
        apiKey,
        clock,
        redactor,
        deployments: config.deployments,
      });
    case 'fal':
      return new FalProvider({
        name: config.name,
        baseUrl: config.baseUrl ?? FAL_DEFAULT_BASE_URL,
        apiKey,
        clock,
        redactor,
      });
  }
}
