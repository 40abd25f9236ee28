/**
 * A fault-injecting HTTP proxy on loopback, for tests: sora-build talks to it as its provider's base URL and
 * it forwards to the emulator, except for requests a rule matches, which it spoils in one of the ways a real
 * network does. `heal()` clears every rule.
 *
 * The emulator injects some faults itself (src/emulator/emulator-faults.ts), and tests use those where they
 * fit: `lostCreateResponseRate` (a create processed, its answer lost) and `truncateDownloadRate` (a body cut
 * short of its Content-Length). Its `serverErrorRate` and `dropConnectionRate` hit every endpoint alike, so
 * the per-endpoint faults (List answering 500 while creates work, polls reset, a body corrupted at full
 * length) live here.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFault =
  /** Answer 500 `server_error` without forwarding. */
  | 'status-500'
  /** Destroy the connection without forwarding or answering. */
  | 'reset'
  /** Forward the request (the service acts on it), then destroy the connection instead of answering. */
  | 'drop-response'
  /** Forward, answer with the full Content-Length, send half the body, then destroy the connection. */
  | 'truncate'
  /** Forward, answer with the full length, but with the first 64 bytes of the body flipped. */
  | 'corrupt';

export interface ProxyRule {
  /** HTTP method to match; any when omitted. */
  readonly method?: string;
  /** Matched against the path without the query. */
  readonly path: RegExp;
  readonly fault: ProxyFault;
  /** How many matching requests get the fault. @default Infinity */
  readonly times?: number;
}

/** Paths as the tests name them. */
export const ROUTES = {
  create: { method: 'POST', path: /^\/v1\/videos$/ },
  remix: { method: 'POST', path: /^\/v1\/videos\/[^/]+\/remix$/ },
  list: { method: 'GET', path: /^\/v1\/videos$/ },
  poll: { method: 'GET', path: /^\/v1\/videos\/[^/]+$/ },
  content: { method: 'GET', path: /^\/v1\/videos\/[^/]+\/content$/ },
} as const;

export interface ProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly fault: ProxyFault | null;
}

export interface FaultProxy {
  /** Base URL of the proxy (no trailing slash). */
  readonly url: string;
  /** Replaces the rules. */
  setRules(rules: readonly ProxyRule[]): void;
  /** The network is fine again. */
  heal(): void;
  log(): readonly ProxyLogEntry[];
  close(): Promise<void>;
}

export async function startFaultProxy(options: { readonly target: string }): Promise<FaultProxy> {
  const target = new URL(options.target);
  let rules: { rule: ProxyRule; left: number }[] = [];
  const log: ProxyLogEntry[] = [];

  const pick = (method: string, path: string): ProxyFault | null => {
    for (const entry of rules) {
      if (entry.left <= 0) continue;
      if (entry.rule.method !== undefined && entry.rule.method !== method) continue;
      if (!entry.rule.path.test(path)) continue;
      entry.left--;
      return entry.rule.fault;
    }
    return null;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ res: IncomingMessage; data: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ res, data: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const fault = pick(method, path);
    log.push({ method, path, fault });
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'status-500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Injected by the test proxy.', type: 'server_error' } }));
      return;
    }
    const { res: upstream, data } = await forward(req, body);
    if (fault === 'drop-response') {
      req.socket.destroy();
      return;
    }
    const headers = { ...upstream.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(data.length);
    if (fault === 'truncate' && data.length > 1) {
      res.writeHead(upstream.statusCode ?? 502, headers);
      res.write(data.subarray(0, Math.floor(data.length / 2)), () => req.socket.destroy());
      return;
    }
    let sent = data;
    if (fault === 'corrupt' && data.length > 0) {
      sent = Buffer.from(data);
      // The head (an MP4's box sizes and types): what a verifier can catch. Flipped bytes inside the media
      // payload keep a well-formed file that only a digest from the service could reveal, and the OpenAI
      // API publishes none.
      for (let i = 0; i < Math.min(sent.length, 64); i++) sent[i] = (sent[i] ?? 0) ^ 0xff;
    }
    res.writeHead(upstream.statusCode ?? 502, headers);
    res.end(sent);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setRules(next) {
      rules = next.map((rule) => ({ rule, left: rule.times ?? Infinity }));
    },
    heal() {
      rules = [];
    },
    log: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
