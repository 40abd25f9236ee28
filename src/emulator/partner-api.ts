/**
 * What the non-OpenAI APIs of the emulator share (Veo on Vertex AI, Runway, fal.ai's queue): which API a
 * request is for, the request as their route modules see it, credentials, the quota wait, the server-error
 * fault in each API's own error shape, and signed expiring download URLs for the APIs that hand out URLs.
 * Each API answers in its own error shape, never OpenAI's: its official SDK parses nothing else.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EmulatorState, RouteResult } from './emulator-state.ts';

export type PartnerApi = 'vertex' | 'runway' | 'fal';

/** The host fal's client sends queue requests to; the emulator also takes them through fal's proxy mode. */
export const FAL_QUEUE_HOST = 'queue.fal.run';

export interface PartnerRequest {
  readonly method: string;
  /** The path the client addressed on the service (for fal, the path on queue.fal.run). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** How the client reached the emulator (`http://127.0.0.1:PORT`): download URLs point back here. */
  readonly origin: string;
  readonly raw: Buffer;
  /** Whether the credential the request carries is accepted (each API reads its own header). */
  readonly accepts: (credential: string | undefined) => boolean;
}

/**
 * The API a request is for, and the path on that API; undefined for the OpenAI and Azure paths. Vertex is
 * everything under `/v1beta1/` (and `/v1/projects/…`), Runway its `/v1/` task paths and its output URLs, fal
 * the `/fal/queue/…` base (client `requestMiddleware`), the `/fal/proxy` endpoint (client `proxyUrl`, the
 * real URL in `x-fal-target-url`) and its file URLs.
 */
export function partnerApiOf(
  pathname: string,
  headers: IncomingHttpHeaders,
): { api: PartnerApi; path: string } | undefined {
  if (pathname.startsWith('/v1beta1/') || /^\/v1\/(projects|publishers)\//.test(pathname))
    return { api: 'vertex', path: pathname };
  if (/^\/v1\/(text_to_video|image_to_video|tasks)(\/|$)/.test(pathname) || pathname.startsWith('/runway/'))
    return { api: 'runway', path: pathname };
  if (pathname.startsWith('/fal/queue/')) return { api: 'fal', path: pathname.slice('/fal/queue'.length) };
  if (pathname.startsWith('/fal/files/')) return { api: 'fal', path: pathname };
  if (pathname === '/fal/proxy') {
    const target = headers['x-fal-target-url'];
    let url: URL | undefined;
    try {
      url = typeof target === 'string' ? new URL(target) : undefined;
    } catch {
      url = undefined;
    }
    // Only the queue host: anything else (fal.run, storage) would need the internet, which the emulator never uses.
    return { api: 'fal', path: url?.host === FAL_QUEUE_HOST ? url.pathname : '/__unknown_target' };
  }
  return undefined;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): RouteResult {
  return headers === undefined ? { kind: 'json', status, body } : { kind: 'json', status, body, headers };
}

/** The body as JSON, or undefined when it is not a JSON object. */
export function jsonObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8') || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The 500 of the server-error fault, in each API's shape. */
export function partnerServerError(api: PartnerApi): RouteResult {
  switch (api) {
    case 'vertex':
      return json(500, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } });
    case 'runway':
      return json(500, { error: 'An unexpected error occurred.' });
    case 'fal':
      return json(500, { detail: 'Internal Server Error' });
  }
}

/**
 * The wait until the shared create window has a slot, in real ms and whole seconds (both real time: a
 * client on the wall clock is told how long to really wait), or null when a create may go ahead.
 */
export function quotaWait(state: EmulatorState): { ms: number; seconds: number; limit: number } | null {
  const q = state.quota.state(state.clock.now());
  if (q.remaining > 0) return null;
  const ms = Math.max(1, Math.round(state.wallMs(q.retryAfterMs)));
  return { ms, seconds: Math.ceil(ms / 1000), limit: q.limit };
}

/** `retry-after-ms` (exact, read by Stainless SDKs such as Runway's) and `retry-after` (whole seconds). */
export function retryHeaders(wait: { ms: number; seconds: number }): Record<string, string> {
  return { 'retry-after': String(wait.seconds), 'retry-after-ms': String(wait.ms) };
}

const secrets = new WeakMap<EmulatorState, Buffer>();

function secretOf(state: EmulatorState): Buffer {
  let secret = secrets.get(state);
  if (secret === undefined) {
    secret = randomBytes(32);
    secrets.set(state, secret);
  }
  return secret;
}

/** `path?exp=…&sig=…`: a download URL that works until `expiresAt` (emulator ms), as a CDN's signed URL. */
export function signedPath(state: EmulatorState, path: string, expiresAt: number): string {
  const exp = String(Math.floor(expiresAt / 1000));
  const sig = createHmac('sha256', secretOf(state)).update(`${path}\n${exp}`).digest('hex').slice(0, 32);
  return `${path}?exp=${exp}&sig=${sig}`;
}

/** Whether a signed URL is genuine ('ok'), forged or altered ('invalid') or past its time ('expired'). */
export function checkSigned(
  state: EmulatorState,
  path: string,
  query: URLSearchParams,
): 'ok' | 'invalid' | 'expired' {
  const exp = query.get('exp') ?? '';
  const sig = Buffer.from(query.get('sig') ?? '');
  const want = Buffer.from(
    createHmac('sha256', secretOf(state)).update(`${path}\n${exp}`).digest('hex').slice(0, 32),
  );
  if (!/^\d+$/.test(exp) || sig.length !== want.length || !timingSafeEqual(sig, want)) return 'invalid';
  return state.clock.now() >= Number(exp) * 1000 ? 'expired' : 'ok';
}

/** An image sent inline as a data URI (`data:image/png;base64,…`), decoded; undefined for anything else. */
export function decodeDataUri(uri: string): Buffer | undefined {
  const m = /^data:image\/[a-z0-9.+-]+;base64,([A-Za-z0-9+/=\s]+)$/i.exec(uri);
  return m === null ? undefined : Buffer.from(m[1]!, 'base64');
}
