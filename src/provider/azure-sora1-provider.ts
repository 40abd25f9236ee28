import type { Clock } from '../core/clock.ts';
import { asVideoId, type VideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import { Sora1Http } from './sora1-http.ts';
import type { SecretRedactor } from './redact.ts';
import type { ProviderAuth } from './resolve-auth.ts';
import {
  ProviderError,
  type ContentVariant,
  type CreateRequest,
  type Download,
  type ListOptions,
  type RemoteStatus,
  type RemoteVideo,
  type VideoProvider,
} from './types.ts';

export interface AzureSora1ProviderOptions {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  /** `https://RESOURCE.openai.azure.com/openai/v1/` (with or without the trailing slash). */
  readonly baseUrl: string;
  readonly auth: ProviderAuth;
  /** Model name -> deployment name sent as `model` (Sora 1 requires a deployment name). */
  readonly deployments: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly redactor: SecretRedactor;
  /**
   * Per-request time limit until the response headers arrive.
   * @default 120_000
   */
  readonly timeoutMs?: number;
  /** @default 'preview' (every Sora 1 call is documented with it) */
  readonly apiVersion?: string;
  /** `emulator` when the embedded emulator serves this API. @default 'azure-sora1' */
  readonly family?: ProviderFamily;
  /** Called once by close() (the embedded emulator stops there). */
  readonly onClose?: () => Promise<void>;
}

/** The wire shape of `VideoGenerationJob` (azure-sora1-contract.md section 3), as far as we read it. */
interface SoraJob {
  readonly id: string;
  readonly status: string;
  readonly created_at: number;
  readonly finished_at?: number | null;
  readonly expires_at?: number | null;
  readonly generations?: readonly { readonly id: string }[];
  readonly prompt?: string;
  readonly model?: string;
  readonly n_seconds?: number;
  readonly width?: number;
  readonly height?: number;
  readonly failure_reason?: string | null;
}

interface SoraJobList {
  readonly data?: readonly SoraJob[];
  readonly has_more?: boolean;
  readonly last_id?: string | null;
}

/**
 * Azure OpenAI's Sora 1 "video generation jobs" API (`/video/generations/jobs`, `api-version=preview`) over
 * plain fetch: the openai SDK has no client for it.
 *
 * Id mapping: the VideoId is the **job** id (`task_…`): it is what create returns, what the journal stores
 * and what retrieve, list and delete take. Sora 1 serves bytes per *generation*, so `download` first reads
 * the job and fetches `generations[0]` (we always ask for one variant, `n_variants: 1`).
 *
 * Status mapping: `preprocessing`/`queued` -> queued, `running`/`processing` -> in_progress,
 * `succeeded` -> completed, `failed`/`cancelled` -> failed (with `failure_reason` as the error code).
 * Sora 1 has no progress figure, so `progress` is null. Remix and extend do not exist in this API.
 *
 * Retries as in OpenAIProvider: every call is one attempt; the engine is the one layer that retries.
 */
export class AzureSora1Provider implements VideoProvider {
  readonly name: string;
  readonly family: ProviderFamily;
  readonly #options: AzureSora1ProviderOptions;
  readonly #http: Sora1Http;
  #closed: Promise<void> | undefined;

  constructor(options: AzureSora1ProviderOptions) {
    this.name = options.name;
    this.family = options.family ?? 'azure-sora1';
    this.#options = options;
    this.#http = new Sora1Http(options);
  }

  async create(request: CreateRequest, signal?: AbortSignal): Promise<RemoteVideo> {
    const [width, height] = parseSize(this.name, request.size);
    const model = this.#http.deployment(request.model);
    const fields = {
      prompt: request.prompt,
      model,
      width,
      height,
      n_seconds: request.seconds,
      n_variants: 1,
    };
    const ref = request.inputReference;
    let body: FormData | string;
    const headers: Record<string, string> = {};
    if (ref === undefined) {
      body = JSON.stringify(fields);
      headers['content-type'] = 'application/json';
    } else {
      // Multipart: scalars as strings, `inpaint_items` as one JSON-encoded field naming the `files` part.
      const form = new FormData();
      for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
      const item = { frame_index: 0, type: 'image', file_name: ref.filename };
      form.append('inpaint_items', JSON.stringify([item]));
      form.append('files', new Blob([ref.bytes], { type: ref.mime }), ref.filename);
      body = form;
    }
    const response = await this.#http.send(
      'create',
      signal,
      'POST',
      '/video/generations/jobs',
      {},
      { body, headers },
    );
    return toRemoteVideo(await this.#http.json<SoraJob>('create', response, signal));
  }

  remix(parent: VideoId, _prompt: string, _signal?: AbortSignal): Promise<RemoteVideo> {
    return Promise.reject(this.#unsupported(`remix of ${parent}`, 'remix_of'));
  }

  extend(parent: VideoId, _prompt: string, _seconds: number, _signal?: AbortSignal): Promise<RemoteVideo> {
    return Promise.reject(this.#unsupported(`extend of ${parent}`, 'extend_of'));
  }

  async retrieve(id: VideoId, signal?: AbortSignal): Promise<RemoteVideo> {
    return toRemoteVideo(await this.#getJob(id, signal));
  }

  async *list(options: ListOptions = {}, signal?: AbortSignal): AsyncIterable<RemoteVideo> {
    // Sora 1 lists newest first and has no `order` parameter; `limit` is required by the spec.
    let after: string | undefined;
    for (;;) {
      const query: Record<string, string> = { limit: String(options.limit ?? 10) };
      if (after !== undefined) query['after'] = after;
      const page = await this.#readJson<SoraJobList>('list', signal, 'GET', '/video/generations/jobs', query);
      const jobs = page.data ?? [];
      for (const job of jobs) yield toRemoteVideo(job);
      const last = page.last_id ?? jobs.at(-1)?.id;
      if (page.has_more !== true || jobs.length === 0 || last === undefined || last === null) return;
      after = last;
    }
  }

  async delete(id: VideoId, signal?: AbortSignal): Promise<void> {
    const path = `/video/generations/jobs/${encodeURIComponent(id)}`;
    const response = await this.#http.send(`delete ${id}`, signal, 'DELETE', path, {});
    await response.body?.cancel();
  }

  async download(id: VideoId, variant: ContentVariant, signal?: AbortSignal): Promise<Download> {
    if (variant === 'spritesheet') {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: Azure Sora 1 has no spritesheet for ${id} (only video and thumbnail)`,
        delivered: 'no',
      });
    }
    const job = await this.#getJob(id, signal);
    const generation = job.generations?.[0]?.id;
    if (job.status !== 'succeeded' || generation === undefined) {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: download ${variant} of ${id}: the job is ${job.status} and has no generation to download`,
        status: 200,
        delivered: 'yes',
      });
    }
    const gen = encodeURIComponent(generation);
    const path =
      variant === 'video'
        ? `/video/generations/${gen}/content/video`
        : `/video/generations/${gen}/content/thumbnail`;
    const query: Record<string, string> = variant === 'video' ? { quality: 'high' } : {};
    const response = await this.#http.send(`download ${variant} of ${id}`, signal, 'GET', path, query);
    if (response.body === null) {
      throw new ProviderError({
        kind: 'server',
        message: `${this.name}: download ${variant} of ${id}: the response had no body`,
        status: response.status,
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

  close(): Promise<void> {
    this.#closed ??= this.#options.onClose?.() ?? Promise.resolve();
    return this.#closed;
  }

  #getJob(id: VideoId, signal: AbortSignal | undefined): Promise<SoraJob> {
    return this.#readJson<SoraJob>(
      `retrieve ${id}`,
      signal,
      'GET',
      `/video/generations/jobs/${encodeURIComponent(id)}`,
      {},
    );
  }

  async #readJson<T>(
    operation: string,
    signal: AbortSignal | undefined,
    method: string,
    path: string,
    query: Record<string, string>,
  ): Promise<T> {
    const response = await this.#http.send(operation, signal, method, path, query);
    return this.#http.json<T>(operation, response, signal);
  }

  #unsupported(operation: string, option: string): ProviderError {
    return new ProviderError({
      kind: 'invalid-request',
      message: `${this.name}: ${operation}: Azure Sora 1 supports neither remix nor extend; \`${option}\` needs an \`openai\` provider (Sora 2)`,
      delivered: 'no',
    });
  }
}

const STATUS: Readonly<Record<string, RemoteStatus>> = {
  preprocessing: 'queued',
  queued: 'queued',
  running: 'in_progress',
  processing: 'in_progress',
  succeeded: 'completed',
  failed: 'failed',
  cancelled: 'failed',
};

/** A Sora 1 job as a RemoteVideo (see the class comment for the mapping). */
export function toRemoteVideo(job: SoraJob): RemoteVideo {
  // An unknown status is treated as still running, so the poller keeps asking rather than giving up.
  const status = STATUS[job.status] ?? 'in_progress';
  const failed = status === 'failed';
  const reason = job.failure_reason ?? (job.status === 'cancelled' ? 'cancelled' : 'unknown');
  return {
    id: asVideoId(job.id),
    status,
    progress: null,
    createdAt: job.created_at * 1000,
    completedAt: job.finished_at === null || job.finished_at === undefined ? null : job.finished_at * 1000,
    expiresAt: job.expires_at === null || job.expires_at === undefined ? null : job.expires_at * 1000,
    model: job.model ?? '',
    size: `${job.width ?? 0}x${job.height ?? 0}`,
    seconds: job.n_seconds ?? 0,
    prompt: job.prompt ?? null,
    remixedFrom: null,
    error: failed ? { code: reason, message: `the job ${job.status} (${reason})` } : null,
    pollAfterMs: null,
  };
}

function parseSize(provider: string, size: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (m === null) {
    throw new ProviderError({
      kind: 'invalid-request',
      message: `${provider}: expected size to look like WIDTHxHEIGHT, but was ${JSON.stringify(size)}`,
      param: 'size',
      delivered: 'no',
    });
  }
  return [Number(m[1]), Number(m[2])];
}
