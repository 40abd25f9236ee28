import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test server received, body fully read. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** Answers one request; `n` counts requests from 0. Drop the connection with `res.socket?.destroy()`. */
export type CannedHandler = (
  request: RecordedRequest,
  res: ServerResponse,
  n: number,
) => void | Promise<void>;

export interface CannedServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that answers with whatever the test says, and records every request. The
 * adapters talk to it over real sockets, so status codes, headers, dropped connections and streaming are
 * what the SDK and fetch actually see.
 */
export async function startCannedServer(handler: CannedHandler): Promise<CannedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const n = requests.length;
      requests.push(recorded);
      Promise.resolve(handler(recorded, res, n)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A `Video` object as the OpenAI Videos API sends it (every key present, nullable ones null). */
export function videoJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'video_0001',
    object: 'video',
    model: 'sora-2',
    status: 'queued',
    progress: 0,
    created_at: 1_760_000_000,
    completed_at: null,
    expires_at: null,
    prompt: 'a harbor at dawn',
    size: '1280x720',
    seconds: '8',
    remixed_from_video_id: null,
    error: null,
    ...overrides,
  };
}
