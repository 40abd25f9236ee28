import type { TokenCredential } from '@azure/identity';
import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/types.ts';
import { EntraTokenProvider } from './entra-token-provider.ts';
import type { SecretRedactor } from './redact.ts';
import { ProviderError } from './types.ts';

/** The SDK's own default, used when neither the config nor OPENAI_BASE_URL names one. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * Azure endpoints take AZURE_OPENAI_API_KEY: the classic `*.openai.azure.com`, the multi-service
 * `*.cognitiveservices.azure.com`, AI Foundry's `*.services.ai.azure.com`, and anything served under
 * `/openai/v1` (gateways and the emulator's Azure path).
 */
export function isAzureBaseUrl(baseUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return false;
  }
  const host = url.hostname.toLowerCase();
  return (
    host.endsWith('.openai.azure.com') ||
    host.endsWith('.cognitiveservices.azure.com') ||
    host.endsWith('.services.ai.azure.com') ||
    /\/openai\/v1\/?$/.test(url.pathname)
  );
}

/** How requests are authenticated, resolved once when the provider is built. */
export type ProviderAuth =
  | { readonly mode: 'api-key'; readonly apiKey: string; readonly variable: string }
  | { readonly mode: 'entra'; readonly tokens: EntraTokenProvider };

export interface ResolveAuthOptions {
  readonly config: ProviderConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly baseUrl: string;
  readonly redactor: SecretRedactor;
  /** Used instead of DefaultAzureCredential for `auth: entra` (tests, or a caller with its own). */
  readonly credential?: TokenCredential | undefined;
}

/**
 * The API key from the environment (AZURE_OPENAI_API_KEY first for Azure endpoints, OPENAI_API_KEY first
 * otherwise; either is accepted), or an Entra ID token provider. A missing key is an `auth` ProviderError
 * that names the variables, never their values.
 */
export async function resolveAuth(options: ResolveAuthOptions): Promise<ProviderAuth> {
  const { config, env, redactor } = options;
  if (config.auth === 'entra') {
    // DefaultAzureCredential reads these itself; an identity error must still never repeat the secret.
    redactor.add(env['AZURE_CLIENT_SECRET']);
    const credential = options.credential ?? (await defaultAzureCredential());
    return {
      mode: 'entra',
      tokens: new EntraTokenProvider({ credential, clock: options.clock, redactor, provider: config.name }),
    };
  }
  const variables = isAzureBaseUrl(options.baseUrl)
    ? ['AZURE_OPENAI_API_KEY', 'OPENAI_API_KEY']
    : ['OPENAI_API_KEY', 'AZURE_OPENAI_API_KEY'];
  for (const variable of variables) {
    const value = env[variable]?.trim();
    if (value !== undefined && value !== '') {
      redactor.add(value);
      return { mode: 'api-key', apiKey: value, variable };
    }
  }
  throw new ProviderError({
    kind: 'auth',
    message:
      `${config.name}: no API key for ${options.baseUrl}: set ${variables.join(' or ')}, ` +
      `or use \`auth: entra\` in sora.config.yaml for Microsoft Entra ID`,
    delivered: 'no',
  });
}

/** Loaded only when needed: @azure/identity pulls in MSAL, which a build against the emulator never uses. */
async function defaultAzureCredential(): Promise<TokenCredential> {
  const identity = await import('@azure/identity');
  return new identity.DefaultAzureCredential();
}
