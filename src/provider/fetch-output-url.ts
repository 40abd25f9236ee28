/**
 * Downloads an output handed out as a signed URL (Runway's task output, fal's result file): a plain GET with no
 * credentials, since the signature is the permission and our key must never travel to a CDN. The body is
 * returned unread, so the engine streams it into the store while hashing.
 */
import type { FetchedOutput, OutputRef } from './job-api.ts';
import type { ErrorContext } from './map-provider-error.ts';
import { errorFromNetwork, errorFromResponse } from './map-provider-error.ts';
import { ProviderError } from './types.ts';

export interface FetchOutputUrlOptions {
  readonly context: ErrorContext;
  /**
   * Time limit until the response headers arrive, real ms (the body may take longer).
   * @default 120_000
   */
  readonly timeoutMs?: number;
}

export async function fetchOutputUrl(
  output: OutputRef,
  options: FetchOutputUrlOptions,
): Promise<FetchedOutput> {
  const { context } = options;
  if (output.kind !== 'url') {
    // A bug, not a service failure: this adapter never hands out any other kind.
    throw new Error(`internal error: ${context.provider} cannot fetch an output of kind '${output.kind}'`);
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort(new Error('timed out'));
  }, options.timeoutMs ?? 120_000);
  const signal =
    context.signal === undefined ? timeout.signal : AbortSignal.any([context.signal, timeout.signal]);
  let response: Response;
  try {
    response = await fetch(output.url, { signal, redirect: 'follow' });
  } catch (error) {
    if (context.signal?.aborted === true) throw context.signal.reason;
    throw errorFromNetwork(context, error, timeout.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    if (response.status === 403 || response.status === 404 || response.status === 410) {
      // A signed URL past its time (or revoked) is refused as 403 by CDNs. Polling the job again hands out a
      // fresh URL while the service still keeps the output.
      throw new ProviderError({
        kind: 'not-found',
        message: context.redactor.redact(
          `${context.provider}: ${context.operation}: ${response.status}: the output URL has expired or was refused` +
            `${output.expiresAt !== null && output.expiresAt <= context.now ? ' (past its expiry)' : ''}; polling the job again gives a fresh one`,
        ),
        status: response.status,
        delivered: 'yes',
      });
    }
    throw errorFromResponse(context, response.status, response.headers, {
      message: text === '' ? undefined : text,
      code: undefined,
      param: undefined,
    });
  }
  if (response.body === null) {
    throw new ProviderError({
      kind: 'server',
      message: `${context.provider}: ${context.operation}: the response had no body`,
      delivered: 'yes',
    });
  }
  const length = response.headers.get('content-length');
  return {
    body: response.body,
    contentLength: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    contentType: response.headers.get('content-type'),
  };
}
