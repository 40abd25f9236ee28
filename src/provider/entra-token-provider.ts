import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Clock } from '../core/clock.ts';
import { ProviderError } from './types.ts';
import type { SecretRedactor } from './redact.ts';

/** The scope of Azure OpenAI / Azure AI Foundry data-plane tokens. */
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

export interface EntraTokenProviderOptions {
  readonly credential: TokenCredential;
  /** Token times are compared with this clock (the system clock in real use; tests share theirs). */
  readonly clock: Clock;
  /** Every token is added here so no error text can carry it. */
  readonly redactor: SecretRedactor;
  /** The provider's config name, for messages. */
  readonly provider: string;
  /** @default COGNITIVE_SERVICES_SCOPE */
  readonly scope?: string;
  /**
   * Refresh this long before `expiresOnTimestamp` (a request can take a while to reach the server).
   * @default 300_000 (5 minutes)
   */
  readonly refreshMarginMs?: number;
}

/**
 * Caches an Entra ID access token and fetches a new one before it expires: at `refreshAfterTimestamp` when
 * the credential gives one, else `refreshMarginMs` before expiry. Concurrent callers share one refresh.
 * If a refresh fails while the cached token is still valid, the cached token is used.
 */
export class EntraTokenProvider {
  readonly #options: EntraTokenProviderOptions;
  #token: AccessToken | undefined;
  #pending: Promise<AccessToken> | undefined;

  constructor(options: EntraTokenProviderOptions) {
    this.#options = options;
  }

  /** A valid token's text. */
  async getToken(): Promise<string> {
    const now = this.#options.clock.now();
    const cached = this.#token;
    if (cached !== undefined && now < this.#refreshAt(cached)) return cached.token;
    try {
      return (await this.#refresh()).token;
    } catch (error) {
      if (cached !== undefined && now < cached.expiresOnTimestamp) return cached.token;
      throw error;
    }
  }

  /** Forgets the cached token (after a 401), so the next call fetches a new one. */
  invalidate(): void {
    this.#token = undefined;
  }

  #refreshAt(token: AccessToken): number {
    const margin = this.#options.refreshMarginMs ?? 300_000;
    return Math.min(token.refreshAfterTimestamp ?? Infinity, token.expiresOnTimestamp - margin);
  }

  #refresh(): Promise<AccessToken> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<AccessToken> {
    const { credential, redactor, provider } = this.#options;
    let token: AccessToken | null;
    try {
      token = await credential.getToken(this.#options.scope ?? COGNITIVE_SERVICES_SCOPE);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError({
        kind: 'auth',
        message: redactor.redact(
          `${provider}: could not get an Entra ID token for ${this.#options.scope ?? COGNITIVE_SERVICES_SCOPE}: ${message}. ` +
            'DefaultAzureCredential reads AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET, a managed identity, or `az login`.',
        ),
        delivered: 'no',
      });
    }
    if (token === null || token.token === '') {
      throw new ProviderError({
        kind: 'auth',
        message: `${provider}: the Entra ID credential returned no token`,
        delivered: 'no',
      });
    }
    redactor.add(token.token);
    this.#token = token;
    return token;
  }
}
