import type { ProviderConfig } from '../../src/config/types.ts';

/** A ProviderConfig as loadProject would give it, with test overrides. */
export function providerConfig(overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    name: 'test',
    type: 'openai',
    baseUrl: undefined,
    auth: 'api-key',
    deployments: {},
    quota: { createsPerMinute: 60, maxInFlight: 4 },
    pricing: {},
    renderSecondsPerSecond: undefined,
    location: { file: { path: '/virtual/sora.config.yaml', contents: '' }, range: { offset: 0, length: 0 } },
    ...overrides,
  };
}
