import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import {
  errorFromNetwork,
  errorFromResponse,
  parseErrorBody,
  sanitizeCause,
  type ErrorContext,
} from './map-provider-error.ts';
import type { SecretRedactor } from './redact.ts';
import type { ProviderAuth } from './resolve-auth.ts';
import { ProviderError } from './types.ts';

/** What talking to one Azure Sora 1 resource takes (both Sora 1 adapters share it). */
export interface Sora1HttpOptions {
  /** The config name (`providers.<name>`), in every message. */
  readonly name: string;
  /** `https://RESOURCE.openai.azure.com/openai/v1/` (with or without the trailing slash). */
  readonly baseUrl: string;
  readonly auth: ProviderAuth;
  /** Model name -> deployment name sent as `model` (Sora 1 requires a deployment name). */
  readonly deployments: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly redactor: SecretRedactor;
  /** Per-request time limit until the response headers arrive. @default 120_000 */
  readonly timeoutMs?: number;
  /** @default 'preview' (every Sora 1 call is documented with it) */
  readonly apiVersion?: string;
}

/**
 * The HTTP side of Azure's Sora 1 jobs API, over plain `fetch` (the `openai` SDK has no client for it): one
 * exchange per call, never retried here (the engine decides), errors as ProviderErrors with secrets removed.
 */
export class Sora1Http {
  readonly #options: Sora1HttpOptions;
  readonly #base: string;

  constructor(options: Sora1HttpOptions) {
    this.#options = options;
    this.#base = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * One HTTP exchange; a 2xx response is returned with its body unread, anything else is a ProviderError.
   * Under Entra ID a 401 is repeated once with a fresh token (the server refused without acting).
   */
  async send(
    operation: string,
    signal: AbortSignal | undefined,
    method: string,
    path: string,
    query: Record<string, string>,
    init: { body?: FormData | string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = new URL(this.#base + path);
    url.searchParams.set('api-version', this.#options.apiVersion ?? 'preview');
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const { auth } = this.#options;
    for (let tokenRetry = 0; ; tokenRetry++) {
      const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
      if (auth.mode === 'api-key') headers['api-key'] = auth.apiKey;
      else headers['authorization'] = `Bearer ${await auth.tokens.getToken()}`;
      const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 120_000);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(init.body !== undefined ? { body: init.body } : {}),
          signal: combined,
        });
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        throw errorFromNetwork(this.context(operation, signal), error, timeout.aborted);
      }
      if (response.ok) return response;
      const text = await response.text().catch(() => '');
      const parsed = parseErrorBody(safeJson(text));
      const error = errorFromResponse(this.context(operation, signal), response.status, response.headers, {
        ...parsed,
        message: parsed.message ?? (text.trim() === '' ? undefined : text.trim().slice(0, 500)),
      });
      if (auth.mode === 'entra' && tokenRetry === 0 && response.status === 401) {
        auth.tokens.invalidate();
        continue;
      }
      throw error;
    }
  }

  /** A 2xx body as JSON; a lost or garbled body is a `server` error that says the request was delivered. */
  async json<T>(operation: string, response: Response, signal: AbortSignal | undefined): Promise<T> {
    try {
      return (await response.json()) as T;
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      // The server answered 2xx (and, for create, started the job) but the body was lost or garbled.
      throw new ProviderError({
        kind: 'server',
        message: this.#options.redactor.redact(
          `${this.#options.name}: ${operation}: unreadable response body`,
        ),
        status: response.status,
        delivered: 'yes',
        cause: sanitizeCause(error, this.#options.redactor),
      });
    }
  }

  /** The deployment name the manifest's model is sent as. */
  deployment(model: string): string {
    return Object.hasOwn(this.#options.deployments, model) ? this.#options.deployments[model]! : model;
  }

  context(operation: string, signal: AbortSignal | undefined): ErrorContext {
    return {
      provider: this.#options.name,
      operation,
      redactor: this.#options.redactor,
      now: this.#options.clock.now(),
      speed: clockSpeed(this.#options.clock),
      signal,
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
