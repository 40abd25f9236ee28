/**
 * The API emulator: a node:http server that a real client cannot tell from the service on the paths it
 * emulates (design.md section 9). The OpenAI Videos API is served at `/v1/videos…` and at Azure's
 * `/openai/v1/videos…` (any `api-version` is accepted and ignored); a small control API at `/__emulator/…`
 * lets tests in other processes read the request log and change faults.
 *
 * Order of work for each API request: log it, wait `latencyMs` (emulator clock), maybe drop the connection,
 * maybe answer 500, read the body, check credentials, route, then send (maybe losing a create's response or
 * truncating a download).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { ApiError } from './api-error.ts';
import { errorBody, invalidRequest, invalidUrl, serverError } from './api-error.ts';
import type { EmulatorFaults } from './emulator-faults.ts';
import { NO_FAULTS, mergeFaults } from './emulator-faults.ts';
import type { RouteResult } from './emulator-state.ts';
import { EmulatorState } from './emulator-state.ts';
import { JobArchive } from './job-archive.ts';
import { routeGatewayVideos } from './gateway-shape.ts';
import { routeVideos } from './openai-routes.ts';
import type { BodyProblem, ParsedBody } from './request-body.ts';
import { parseBody, readBody } from './request-body.ts';
import { routeSora1 } from './sora1-routes.ts';
import type { PartnerApi, PartnerRequest } from './partner-api.ts';
import { json, partnerApiOf, partnerServerError } from './partner-api.ts';
import { routeVertex } from './vertex-routes.ts';
import { answerGceMetadata, GCE_METADATA_PREFIX } from './gce-metadata.ts';
import { routeRunway } from './runway-routes.ts';
import { routeFal } from './fal-routes.ts';

export type { EmulatorFaults } from './emulator-faults.ts';

export interface EmulatorOptions {
  /** Interface to bind. Anything but loopback needs `allowNonLoopback`. @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks any free port. @default 0 */
  readonly port?: number;
  /** Time for jobs, quota, expiry and latency. @default systemClock */
  readonly clock?: Clock;
  /** Emulator-clock seconds of rendering per second of video (a 4 s video takes 24 s by default). @default 6 */
  readonly renderSecondsPerSecond?: number;
  /** Sliding-window create quota (create, remix, extend); `Infinity` for none. @default 2 */
  readonly createsPerMinute?: number;
  /** Accepted API keys (as `Authorization: Bearer` or `api-key`). @default any non-empty key */
  readonly apiKeys?: readonly string[];
  /** Further accepted bearer tokens, e.g. Entra ID test tokens. @default [] */
  readonly bearerTokens?: readonly string[];
  /**
   * The access token the emulated GCE metadata server (`/computeMetadata/v1/…`, gce-metadata.ts) hands to
   * Google's Application Default Credentials. @default the first bearer token, else the first API key, else a
   * random token this emulator accepts
   */
  readonly metadataToken?: string;
  /** Faults to inject from the start. @default none */
  readonly faults?: Partial<EmulatorFaults>;
  /** Bind to a non-loopback host. @default false */
  readonly allowNonLoopback?: boolean;
  /** Seeds ids, faults and job outcomes, for deterministic tests. @default a random seed */
  readonly seed?: number;
  /** Frame rate of the placeholder videos. @default 8 */
  readonly renderFps?: number;
  /**
   * Render a job's placeholder assets when it is created rather than on its first download. Under a fast
   * scaled clock, a real second of ffmpeg on the download path is a minute of emulator time that no real
   * service would spend (its video is ready when the job completes); benchmarks turn this on. @default false
   */
  readonly renderOnCreate?: boolean;
  /**
   * A folder that keeps jobs across runs (created if missing): an emulator started later on the same folder
   * knows them, lists them and renders their assets, for 24 h of its clock after each was created, as a real
   * service keeps videos. The embedded emulator uses `<cache_dir>/emulator/`. @default none: memory only
   */
  readonly stateDir?: string;
  /**
   * Azure deployments (deployment name -> model, e.g. `{ 'contoso-sora-2': 'sora-2' }`) for the `model` field
   * on `/openai/v1/videos`; other names get Azure's 404. @default any name is accepted as a deployment
   */
  readonly azureDeployments?: Readonly<Record<string, string>>;
}

export interface RequestLogEntry {
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  /** The query string without its `?` ('' when none). */
  readonly query: string;
  /** The HTTP status sent; 0 when no response was sent (dropped connection, lost create response). */
  readonly status: number;
  /** Emulator-clock milliseconds when the request arrived. */
  readonly time: number;
  /** For create, remix and extend: the new video; otherwise the video the path names. */
  readonly videoId?: string;
  /** The fault injected into this request, if any. */
  readonly fault?: 'dropped-connection' | 'server-error' | 'lost-response' | 'truncated-download';
}

export interface EmulatorHandle {
  /** E.g. `http://127.0.0.1:PORT`; the OpenAI base URL is `${url}/v1`, Azure's is `${url}/openai/v1`. */
  readonly url: string;
  requestLog(): readonly RequestLogEntry[];
  clearLog(): void;
  /** Merges `partial` over the current faults; throws a TypeError listing every invalid field. */
  setFaults(partial: Partial<EmulatorFaults>): void;
  faults(): EmulatorFaults;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return isLoopbackHost(address) || /^::ffff:127(\.\d{1,3}){3}$/.test(address);
}

type MutableEntry = { -readonly [K in keyof RequestLogEntry]: RequestLogEntry[K] };

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && options.allowNonLoopback !== true) {
    throw new TypeError(
      `Refusing to bind the emulator to the non-loopback host '${host}': it accepts any API key and serves a control endpoint. Pass allowNonLoopback (--allow-remote) to do it anyway.`,
    );
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`Expected \`port\` to be an integer from 0 to 65535, got ${port}`);
  }
  const rsps = options.renderSecondsPerSecond ?? 6;
  if (!(rsps >= 0) || !Number.isFinite(rsps)) {
    throw new TypeError(`Expected \`renderSecondsPerSecond\` to be a non-negative number, got ${rsps}`);
  }
  const initialFaults = mergeFaults(NO_FAULTS, options.faults ?? {});
  if (!initialFaults.ok) throw new TypeError(initialFaults.error.join(' '));
  const clock = options.clock ?? systemClock;
  const state = new EmulatorState({
    clock,
    renderSecondsPerSecond: rsps,
    createsPerMinute: options.createsPerMinute ?? 2,
    faults: initialFaults.value,
    seed: options.seed ?? randomInt(0x7fffffff),
    renderFps: options.renderFps ?? 8,
    renderOnCreate: options.renderOnCreate ?? false,
    azureDeployments: options.azureDeployments,
    archive: options.stateDir === undefined ? undefined : new JobArchive(options.stateDir),
  });
  await state.restore();
  const apiKeys = options.apiKeys;
  const metadataToken =
    options.metadataToken ??
    options.bearerTokens?.[0] ??
    apiKeys?.[0] ??
    `ya29.emulator-${randomUUID().replace(/-/g, '')}`;
  const bearerTokens = [...(options.bearerTokens ?? []), metadataToken];
  let log: MutableEntry[] = [];

  const authenticate = (req: IncomingMessage, azure: boolean): ApiError | null => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const header = req.headers['api-key'];
    const apiKey = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
    if (bearer === undefined && apiKey === undefined) {
      return {
        status: 401,
        message: azure
          ? 'Access denied due to missing subscription key. Make sure to include the subscription key when making requests to an API.'
          : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: 'invalid_request_error',
        param: null,
        code: azure ? '401' : null,
      };
    }
    const keyOk = (k: string | undefined): boolean =>
      k !== undefined && (apiKeys === undefined || apiKeys.includes(k));
    if (keyOk(bearer) || keyOk(apiKey) || (bearer !== undefined && bearerTokens.includes(bearer)))
      return null;
    // Never echo the key, not even masked: secrets stay out of logs and messages.
    return {
      status: 401,
      message: azure
        ? 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.'
        : 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      param: null,
      code: azure ? '401' : 'invalid_api_key',
    };
  };

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  };

  const sendResult = async (res: ServerResponse, result: RouteResult, entry: MutableEntry): Promise<void> => {
    if (result.videoId !== undefined) entry.videoId = result.videoId;
    const faults = state.faults;
    switch (result.kind) {
      case 'json':
        if (result.created === true && state.faultRandom.chance(faults.lostCreateResponseRate)) {
          entry.fault = 'lost-response';
          res.socket?.destroy();
          return;
        }
        entry.status = result.status;
        sendJson(res, result.status, result.body, { ...result.headers });
        return;
      case 'error':
        entry.status = result.error.status;
        sendJson(res, result.error.status, errorBody(result.error), { ...result.error.headers });
        return;
      case 'empty':
        entry.status = result.status;
        res.writeHead(result.status);
        res.end();
        return;
      case 'binary': {
        const padHeader = result.padHeader ?? Buffer.alloc(0);
        const padZeros = result.padZeros ?? 0;
        const total = result.bytes.length + padHeader.length + padZeros;
        entry.status = result.status ?? 200;
        res.writeHead(entry.status, {
          ...result.headers,
          'content-type': result.contentType,
          'content-length': String(total),
        });
        if (result.headOnly === true) {
          res.end();
          return;
        }
        const truncate = state.faultRandom.chance(faults.truncateDownloadRate);
        // Cut at half: the client has been promised `total` bytes and gets fewer.
        let budget = truncate ? Math.floor(total / 2) : total;
        const write = async (chunk: Buffer): Promise<boolean> => {
          if (budget <= 0 || res.destroyed) return false;
          const part = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
          budget -= part.length;
          if (!res.write(part)) {
            // Whichever comes first; the other listener is removed, so a long body does not pile them up.
            const done = new AbortController();
            await Promise.race([
              once(res, 'drain', { signal: done.signal }),
              once(res, 'close', { signal: done.signal }),
            ]).finally(() => done.abort());
          }
          return !res.destroyed;
        };
        let going = (await write(result.bytes)) && (await write(padHeader));
        if (going && padZeros > 0) {
          const zeros = Buffer.alloc(Math.min(padZeros, 1024 * 1024));
          for (let left = padZeros; going && left > 0; left -= zeros.length) {
            going = await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
          }
        }
        if (truncate) {
          entry.fault = 'truncated-download';
          // End the socket (not destroy) so the first half really arrives before the connection closes.
          res.socket?.end();
        } else res.end();
        return;
      }
    }
  };

  const handleControl = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      sendJson(
        res,
        403,
        errorBody({
          status: 403,
          message: 'The control endpoint answers loopback clients only.',
          type: 'forbidden',
          param: null,
          code: null,
        }),
      );
      return;
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (path === '/__emulator/log' && req.method === 'GET') return sendJson(res, 200, log);
    if (path === '/__emulator/log' && req.method === 'POST') {
      const cleared = log.length;
      log = [];
      return sendJson(res, 200, { cleared });
    }
    if (path === '/__emulator/faults' && req.method === 'GET') return sendJson(res, 200, state.faults);
    if (path === '/__emulator/faults' && req.method === 'POST') {
      let partial: unknown;
      try {
        partial = JSON.parse(raw.ok ? raw.value.toString('utf8') || '{}' : '');
      } catch {
        return sendJson(res, 400, errorBody(invalidRequest('Expected a JSON object of faults.')));
      }
      const merged = mergeFaults(state.faults, partial);
      if (!merged.ok) return sendJson(res, 400, errorBody(invalidRequest(merged.error.join(' '))));
      state.faults = merged.value;
      return sendJson(res, 200, state.faults);
    }
    sendJson(res, 404, errorBody(invalidUrl(req.method ?? 'GET', path)));
  };

  /**
   * The faults every API shares, before the request is read: latency, a dropped connection, a 5xx in the API's
   * own error shape. True when the request has been answered (or dropped) here.
   */
  const transportFault = async (
    req: IncomingMessage,
    res: ServerResponse,
    entry: MutableEntry,
    serverErrorResult: () => RouteResult,
  ): Promise<boolean> => {
    const faults = state.faults;
    if (faults.latencyMs > 0) await clock.sleep(faults.latencyMs);
    if (state.faultRandom.chance(faults.dropConnectionRate)) {
      entry.fault = 'dropped-connection';
      req.socket.destroy();
      return true;
    }
    if (state.faultRandom.chance(faults.serverErrorRate)) {
      entry.fault = 'server-error';
      await sendResult(res, serverErrorResult(), entry);
      return true;
    }
    return false;
  };

  /** Veo on Vertex, Runway and fal: the same faults, each API's own credentials and error shapes. */
  const handlePartner = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: MutableEntry,
    api: PartnerApi,
    path: string,
  ): Promise<void> => {
    if (await transportFault(req, res, entry, () => partnerServerError(api))) return;
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (!raw.ok) return sendResult(res, json(413, { error: 'The request body is too large.' }), entry);
    const request: PartnerRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: req.headers,
      origin: `http://${req.headers.host ?? 'localhost'}`,
      raw: raw.value,
      accepts: (k) =>
        k !== undefined &&
        k !== '' &&
        (apiKeys === undefined || apiKeys.includes(k) || bearerTokens.includes(k)),
    };
    let result: RouteResult;
    switch (api) {
      case 'vertex':
        result = await routeVertex(state, request);
        break;
      case 'runway':
        result = await routeRunway(state, request);
        break;
      case 'fal':
        result = await routeFal(state, request);
        break;
    }
    await state.flush();
    await sendResult(res, result, entry);
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    entry: MutableEntry,
  ): Promise<void> => {
    const partner = partnerApiOf(url.pathname, req.headers);
    if (partner !== undefined) return handlePartner(req, res, url, entry, partner.api, partner.path);
    const azure = url.pathname.startsWith('/openai/');
    if (azure) res.setHeader('apim-request-id', randomUUID());
    if (await transportFault(req, res, entry, () => ({ kind: 'error', error: serverError() }))) return;
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (!raw.ok) {
      return sendResult(
        res,
        { kind: 'error', error: { ...invalidRequest('The request body is too large.'), status: 413 } },
        entry,
      );
    }
    const denied = authenticate(req, azure);
    if (denied !== null) return sendResult(res, { kind: 'error', error: denied }, entry);
    let parsed: { ok: true; value: ParsedBody } | { ok: false; error: ApiError } | undefined;
    const body = (): { ok: true; value: ParsedBody } | { ok: false; error: ApiError } => {
      if (parsed === undefined) {
        const r = parseBody(raw.value, req.headers['content-type']);
        parsed = r.ok ? { ok: true, value: r.value } : { ok: false, error: bodyError(r.error) };
      }
      return parsed;
    };
    const prefix = azure ? '/openai/v1' : '/v1';
    const rest = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : undefined;
    const method = req.method ?? 'GET';
    const request = {
      method,
      path: rest ?? '',
      query: url.searchParams,
      body,
      range: req.headers.range,
      azure,
    };
    const result =
      rest === undefined
        ? undefined
        : state.faults.gateway !== 'off' && !azure
          ? await routeGatewayVideos(state, state.faults.gateway, request)
          : ((await routeVideos(state, request)) ?? (azure ? await routeSora1(state, request) : undefined));
    await state.flush();
    await sendResult(res, result ?? { kind: 'error', error: invalidUrl(method, url.pathname) }, entry);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    res.setHeader('x-request-id', `req_${randomUUID().replace(/-/g, '')}`);
    if (url.pathname.startsWith('/__emulator/')) {
      handleControl(req, res, url.pathname).catch((error: unknown) => failInternally(res, error));
      return;
    }
    const entry: MutableEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      // A Google API key may ride in `?key=`: it never reaches the log.
      query: url.search.replace(/^\?/, '').replace(/(^|&)key=[^&]*/g, '$1key=REDACTED'),
      status: 0,
      time: clock.now(),
    };
    log.push(entry);
    if (url.pathname.startsWith(`${GCE_METADATA_PREFIX}/`) || url.pathname === GCE_METADATA_PREFIX) {
      // Not the service: the machine's own metadata server, which no service fault touches.
      const answer = answerGceMetadata(url.pathname, req.headers, metadataToken);
      entry.status = answer.status;
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    handleApi(req, res, url, entry).catch((error: unknown) => {
      entry.status = 500;
      failInternally(res, error);
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  server.listen(port, host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    requestLog: () => log.map((e) => ({ ...e })),
    clearLog: () => {
      log = [];
    },
    setFaults: (partial) => {
      const merged = mergeFaults(state.faults, partial);
      if (!merged.ok) throw new TypeError(merged.error.join(' '));
      state.faults = merged.value;
    },
    faults: () => state.faults,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await state.renderer.close();
    },
  };
}

function failInternally(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = serverError(`The emulator failed: ${error instanceof Error ? error.message : String(error)}`);
  const text = errorBody(e);
  res.writeHead(500, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function bodyError(problem: BodyProblem): ApiError {
  switch (problem.reason) {
    case 'invalid-json':
      return invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      );
    case 'not-an-object':
      return invalidRequest('The JSON body of your request must be an object.');
    case 'bad-multipart':
      return invalidRequest(`Could not parse the multipart form data: ${problem.detail}.`);
    case 'unsupported-type':
      return invalidRequest(
        `Unsupported content type: '${problem.contentType}'. This API method only accepts 'application/json' and 'multipart/form-data' requests, but you specified the header 'Content-Type: ${problem.contentType}'. Please try again with a supported content type.`,
      );
  }
}
