import type { ServerResponse } from 'node:http';
import { sendJson, startCannedServer, type CannedServer, type RecordedRequest } from './canned-server.ts';

/** The job fields this server keeps; `gets` drives the status forward one step per retrieve. */
interface Job {
  id: string;
  prompt: string;
  model: string;
  width: number;
  height: number;
  n_seconds: number;
  n_variants: number;
  created_at: number;
  gets: number;
  inpaint: unknown;
  files: { name: string; type: string; bytes: Buffer }[];
}

/** Status after the n-th retrieve (azure-sora1-contract.md section 3). */
const PROGRESSION = ['queued', 'preprocessing', 'running', 'processing', 'succeeded'] as const;

export interface Sora1TestServer extends CannedServer {
  readonly jobs: Map<string, Job>;
  /** Answer the next requests with this instead (status, body, headers), one entry per request. */
  readonly injected: { status: number; body: unknown; headers?: Record<string, string> }[];
}

/**
 * A small server speaking Azure's Sora 1 jobs contract under `/openai/v1`: create (JSON or multipart with
 * `inpaint_items` and `files`), get, list (newest first, `after` cursor), delete (204), generation content.
 * A prompt containing "forbidden" fails with `failure_reason: input_moderation`. Auth: the `api-key` header
 * must equal `key`, or the bearer must equal `token`.
 */
export async function startSora1TestServer(auth: { key?: string; token?: string }): Promise<Sora1TestServer> {
  const jobs = new Map<string, Job>();
  const injected: Sora1TestServer['injected'] = [];
  let seq = 0;
  const base = '/openai/v1/video/generations';
  const server = await startCannedServer(async (req, res) => {
    if (req.query.get('api-version') !== 'preview') {
      return sendJson(res, 400, { error: { code: 'BadRequest', message: 'api-version must be preview' } });
    }
    const keyOk = auth.key !== undefined && req.headers['api-key'] === auth.key;
    const tokenOk = auth.token !== undefined && req.headers.authorization === `Bearer ${auth.token}`;
    if (!keyOk && !tokenOk) {
      return sendJson(res, 401, {
        error: {
          code: '401',
          message: 'Access denied due to invalid subscription key or wrong API endpoint.',
        },
      });
    }
    const forced = injected.shift();
    if (forced !== undefined) return sendJson(res, forced.status, forced.body, forced.headers);

    if (req.method === 'POST' && req.path === `${base}/jobs`) return create(req, res);
    const jobMatch = new RegExp(`^${base}/jobs/([^/]+)$`).exec(req.path);
    if (jobMatch !== null) {
      const job = jobs.get(decodeURIComponent(jobMatch[1]!));
      if (job === undefined) return notFound(res);
      if (req.method === 'DELETE') {
        jobs.delete(job.id);
        res.writeHead(204).end();
        return;
      }
      job.gets++;
      return sendJson(res, 200, jobJson(job));
    }
    if (req.method === 'GET' && req.path === `${base}/jobs`) {
      const all = [...jobs.values()].reverse();
      const after = req.query.get('after');
      const start = after === null ? 0 : all.findIndex((j) => j.id === after) + 1;
      const limit = Number(req.query.get('limit') ?? '10');
      const page = all.slice(start, start + limit);
      return sendJson(res, 200, {
        object: 'list',
        data: page.map(jobJson),
        has_more: start + limit < all.length,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      });
    }
    const content = new RegExp(`^${base}/(gen_[^/]+)/content/(video|thumbnail)$`).exec(req.path);
    if (content !== null && req.method === 'GET') {
      const body = Buffer.from(`${content[2]} of ${content[1]} quality=${req.query.get('quality')}`);
      res.writeHead(200, {
        'content-type': content[2] === 'video' ? 'video/mp4' : 'image/jpg',
        'content-length': String(body.length),
        'accept-ranges': 'bytes',
        'last-modified': new Date(0).toUTCString(),
      });
      res.end(body);
      return;
    }
    notFound(res);
  });

  async function create(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    let fields: Record<string, unknown>;
    const files: Job['files'] = [];
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(req.body, { headers: { 'content-type': type } }).formData();
      fields = {};
      for (const [key, value] of form.entries()) {
        if (typeof value === 'string') fields[key] = value;
        else
          files.push({ name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
      }
      fields['inpaint_items'] = JSON.parse(String(fields['inpaint_items'])) as unknown;
    } else {
      fields = JSON.parse(req.body.toString()) as Record<string, unknown>;
    }
    const width = Number(fields['width']);
    if (![480, 854, 720, 1280, 1080, 1920].includes(width)) {
      // The spec's flat error shape (no `error` wrapper).
      return sendJson(res, 400, {
        code: 'invalid_request',
        message: `Unsupported width ${width}`,
        param: 'width',
        type: 'invalid_request_error',
      });
    }
    const job: Job = {
      id: `task_${String(++seq).padStart(26, '0')}`,
      prompt: String(fields['prompt']),
      model: String(fields['model']),
      width,
      height: Number(fields['height']),
      n_seconds: Number(fields['n_seconds'] ?? 5),
      n_variants: Number(fields['n_variants'] ?? 1),
      created_at: 1_748_469_875 + seq,
      gets: 0,
      inpaint: fields['inpaint_items'],
      files,
    };
    jobs.set(job.id, job);
    sendJson(res, 200, jobJson(job));
  }

  return Object.assign(server, { jobs, injected });
}

function jobJson(job: Job): Record<string, unknown> {
  const blocked = job.prompt.includes('forbidden');
  const status =
    blocked && job.gets > 0 ? 'failed' : PROGRESSION[Math.min(job.gets, PROGRESSION.length - 1)]!;
  const done = status === 'succeeded' || status === 'failed';
  return {
    object: 'video.generation.job',
    id: job.id,
    status,
    created_at: job.created_at,
    finished_at: done ? job.created_at + 60 : null,
    expires_at: done ? job.created_at + 86_400 : null,
    generations:
      status === 'succeeded'
        ? [
            {
              object: 'video.generation',
              id: `gen_${job.id.slice(5)}`,
              job_id: job.id,
              created_at: job.created_at + 60,
              width: job.width,
              height: job.height,
              n_seconds: job.n_seconds,
              prompt: job.prompt,
            },
          ]
        : [],
    prompt: job.prompt,
    model: job.model,
    n_variants: job.n_variants,
    n_seconds: job.n_seconds,
    height: job.height,
    width: job.width,
    failure_reason: status === 'failed' ? 'input_moderation' : null,
  };
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, { error: { code: 'NotFound', message: 'Resource not found' } });
}
