/**
 * `sora-build review`'s web server: one page (the contact sheet), its data, its media and the pin action,
 * on loopback by default. Safety, because any web page the user visits can make the browser send requests
 * to 127.0.0.1:
 * - pinning needs the per-run token that only the page served here carries, sent in a header (so a plain
 *   cross-site form cannot send it) with a JSON body; a request whose `Origin` is not this server or whose
 *   `Sec-Fetch-Site` is not `same-origin` is refused before the token is even looked at;
 * - the `Host` header must name this server (a DNS-rebinding page on another name is refused);
 * - nothing is sent with CORS headers, so another origin cannot read the model or the event stream;
 * - files are served by digest only, and only the digests the current model names (store objects of the
 *   project's own cache); no request path is ever joined to a folder.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Sha256, ShotId } from '../core/brand.ts';
import { Store } from '../cache/store.ts';
import { pinTake } from '../cache/pin-take.ts';
import type { PinTakeFailure } from '../cache/pin-take.ts';
import { unreachable } from '../core/unreachable.ts';
import { loadReview } from './review-model.ts';
import type { LoadedReview, LoadReviewOptions } from './review-model.ts';
import { renderPage } from './render-page.ts';
import { LiveFollower } from './live-follower.ts';
import type { LiveSnapshot } from './live-follower.ts';
import { Posters } from './posters.ts';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ReviewServerOptions {
  /** How to (re)load the project. */
  readonly review: LoadReviewOptions;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** The pinning token. @default 32 random bytes, hex */
  readonly token?: string;
  /** @default the binary from `@ffmpeg-installer/ffmpeg` */
  readonly ffmpegPath?: string;
}

export interface ReviewServer {
  readonly url: string;
  readonly token: string;
  /** The model now (after the last reload). */
  current(): LoadedReview;
  close(): Promise<void>;
}

const HEADER = 'x-sora-build-token';

interface PinOutcome {
  readonly status: number;
  readonly error?: string;
  readonly written?: boolean;
}
const MEDIA = /^\/media\/([0-9a-f]{64})\.(mp4|webp|jpg)$/;

export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('hex');
  let loaded = await loadReview(options.review);
  // Known whenever the manifest and config loaded, even if planning failed: watching starts anyway, so the
  // page recovers when the storyboard is fixed.
  const cacheDir = loaded.paths?.cacheDir;
  const manifestPath = loaded.paths?.manifest;
  const posters =
    cacheDir === undefined
      ? undefined
      : new Posters({ cacheDir, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}) });
  const clients = new Set<ServerResponse>();
  let live: LiveSnapshot = { building: false, shots: {} };

  const send = (event: string, data: unknown): void => {
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(chunk);
  };

  // Reloads are serialised and coalesced: a burst of lockfile writes during a build costs one or two plans.
  let reloading: Promise<void> | undefined;
  let again = false;
  const reload = (): Promise<void> => {
    if (reloading !== undefined) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        again = false;
        const next = await loadReview(options.review);
        const changed =
          JSON.stringify({ ...next.model, generatedAt: 0 }) !==
          JSON.stringify({ ...loaded.model, generatedAt: 0 });
        loaded = next;
        if (changed) send('model', loaded.model);
      } while (again);
    })().finally(() => (reloading = undefined));
    return reloading;
  };
  const reloadSoon = (): void => {
    reload().catch(() => undefined);
  };

  let liveTimer: NodeJS.Timeout | undefined;
  const follower =
    cacheDir === undefined || manifestPath === undefined
      ? undefined
      : new LiveFollower({
          cacheDir,
          manifest: manifestPath,
          onChange: (snapshot) => {
            live = snapshot;
            // At most ten pushes a second: progress events of many shots arrive in bursts.
            liveTimer ??= setTimeout(() => {
              liveTimer = undefined;
              send('live', live);
            }, 100);
          },
          onSettled: reloadSoon,
        });
  follower?.start();

  // The manifest's folder: the manifest itself (an edit) and its lockfile (a build, a reroll, a pin).
  let folderWatcher: FSWatcher | undefined;
  if (manifestPath !== undefined) {
    const watched = new Set([path.basename(manifestPath), path.basename(loaded.paths!.lockfile)]);
    folderWatcher = watch(path.dirname(manifestPath), (_t, name) => {
      if (typeof name === 'string' && watched.has(name)) reloadSoon();
    });
    folderWatcher.on('error', () => undefined);
  }

  let pinning: Promise<unknown> = Promise.resolve();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: `internal error: ${String(error)}` });
      else res.destroy();
    });
  });

  // Filled once the port is known; every request arrives after that.
  const origins = new Set<string>();
  const anyHost = host === '0.0.0.0' || host === '::';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A wildcard bind (0.0.0.0, ::) answers on names we cannot know: the user chose the network, and the
    // token and the Origin checks below still hold.
    if (!anyHost && !origins.has(`http://${req.headers.host ?? ''}`))
      return json(res, 421, { error: 'unknown host' });
    const url = new URL(req.url ?? '/', 'http://review.invalid');
    if (req.method === 'POST' && url.pathname === '/api/pin') return pin(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    switch (url.pathname) {
      case '/':
      case '/index.html': {
        const nonce = randomBytes(16).toString('base64');
        const body = renderPage({ model: loaded.model, token, live: true }, nonce);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        });
        res.end(body);
        return;
      }
      case '/api/model':
        return json(res, 200, loaded.model);
      case '/api/events': {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/event-stream',
          connection: 'keep-alive',
        });
        res.write(`event: model\ndata: ${JSON.stringify(loaded.model)}\n\n`);
        res.write(`event: live\ndata: ${JSON.stringify(live)}\n\n`);
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
      default: {
        const m = MEDIA.exec(url.pathname);
        if (m === null || cacheDir === undefined) return json(res, 404, { error: 'not found' });
        return media(req, res, m[1] as Sha256, m[2] as 'mp4' | 'webp' | 'jpg');
      }
    }
  };

  const media = async (
    req: IncomingMessage,
    res: ServerResponse,
    digest: Sha256,
    ext: 'mp4' | 'webp' | 'jpg',
  ): Promise<void> => {
    const kind = loaded.media.get(digest);
    const wanted = ext === 'webp' ? 'thumbnail' : 'video';
    if (kind !== wanted) return json(res, 404, { error: 'not found' });
    const object = Store.open(cacheDir!).objectPath(digest);
    if (ext === 'jpg') {
      const poster = await posters!.poster(digest, object);
      if (poster === null) return json(res, 404, { error: 'no frame' });
      return sendFile(req, res, poster, 'image/jpeg');
    }
    return sendFile(req, res, object, ext === 'mp4' ? 'video/mp4' : 'image/webp');
  };

  const pin = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Cross-site checks first: a browser always sends these on a cross-origin fetch.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`)
      return json(res, 403, { error: 'cross-origin request refused' });
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin')
      return json(res, 403, { error: 'cross-site request refused' });
    const given = req.headers[HEADER];
    if (typeof given !== 'string' || !sameToken(given, token))
      return json(res, 403, { error: 'missing or wrong token' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return json(res, 415, { error: 'expected application/json' });
    const body = await readBody(req, 4096);
    let shot: unknown;
    let take: unknown;
    try {
      ({ shot, take } = JSON.parse(body) as { shot: unknown; take: unknown });
    } catch {
      return json(res, 400, { error: 'expected a JSON body {shot, take}' });
    }
    if (typeof shot !== 'string' || typeof take !== 'number' || !Number.isInteger(take) || take < 1)
      return json(res, 400, { error: 'expected {shot: string, take: 1, 2, ...}' });
    // One pin at a time, each against a fresh plan (the lockfile may have moved since the page loaded).
    const result: Promise<PinOutcome> = pinning.then(async (): Promise<PinOutcome> => {
      const fresh = await loadReview(options.review);
      const p = fresh.project;
      if (p === undefined) return { status: 409, error: 'the project cannot be planned right now' };
      const planned = p.planned.get(shot as ShotId);
      const config = p.manifest.shots.get(shot as ShotId);
      if (planned === undefined || config === undefined)
        return { status: 404, error: `there is no shot '${shot}'` };
      const pinned = await pinTake({
        cacheDir: p.config.cacheDir,
        outDir: p.config.outDir,
        lockfilePath: p.manifest.lockfilePath,
        shot: config,
        planned,
        take,
      });
      if (!pinned.ok) return { status: 409, error: describePinFailure(shot, take, pinned.error) };
      return { status: 200, written: pinned.value.written };
    });
    pinning = result.catch(() => undefined);
    const outcome = await result;
    if (outcome.status !== 200) return json(res, outcome.status, { error: outcome.error });
    await reload();
    return json(res, 200, { ok: true, written: outcome.written, model: loaded.model });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  origins.add(`http://${shownHost}:${port}`);
  if (isLoopback(host))
    for (const h of ['127.0.0.1', 'localhost', '[::1]']) origins.add(`http://${h}:${port}`);

  return {
    url: `http://${shownHost}:${port}/`,
    token,
    current: () => loaded,
    async close() {
      follower?.close();
      folderWatcher?.close();
      if (liveTimer !== undefined) clearTimeout(liveTimer);
      for (const c of clients) c.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // the browser's idle keep-alive connections would hold close() open
      await closed;
      await reloading?.catch(() => undefined);
    },
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function describePinFailure(shot: string, take: number, failure: PinTakeFailure): string {
  switch (failure.reason) {
    case 'not-fresh':
      return failure.state === 'missing'
        ? `${shot} was never built: there is no take to pin; run \`sora-build build\` first`
        : `${shot} is not fresh (${failure.state}): its inputs changed since the lockfile; run \`sora-build build\` first`;
    case 'no-such-take':
      return `${shot} has ${failure.takes} take${failure.takes === 1 ? '' : 's'} for its current key, so there is no take ${take}`;
    case 'take-removed':
      return `take ${take} of ${shot} (${failure.sample.videoId}) is no longer in the local store (removed by gc)`;
    case 'invalid-lockfile':
      return `the lockfile cannot be read: ${failure.diagnostics.map((d) => d.message).join('; ')}`;
    default:
      return unreachable(failure);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A file with single-range support (browsers seek in videos with `Range`). */
async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  type: string,
): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return json(res, 404, { error: 'not found' });
  }
  const headers = {
    ...SECURITY_HEADERS,
    'content-type': type,
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=31536000, immutable',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (range !== null && (range[1] !== '' || range[2] !== '')) {
    if (range[1] === '') {
      start = Math.max(0, size - Number(range[2]));
    } else {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
    }
    if (start > end || start >= size) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': end - start + 1,
    });
  } else res.writeHead(200, { ...headers, 'content-length': size });
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
