import type { Clock } from '../core/clock.ts';
import { SORA1_FPS, type ProviderFamily } from '../config/capabilities.ts';
import type { ProviderType } from '../config/types.ts';
import type {
  CropBounds,
  FetchedOutput,
  FramePosition,
  GenerationRequest,
  JobHandle,
  JobProvider,
  JobState,
  ListedJob,
  OutputRef,
  SubmitOptions,
  VariantOutput,
} from './job-api.ts';
import { isModerationCode } from './map-provider-error.ts';
import { Sora1Http } from './sora1-http.ts';
import type { SecretRedactor } from './redact.ts';
import type { ProviderAuth } from './resolve-auth.ts';
import { ProviderError } from './types.ts';

export interface AzureSora1JobProviderOptions {
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
   * The provider family entering the shot key: `azure-sora1`, or `emulator` when the embedded emulator serves
   * this API (placeholders must never satisfy a real build).
   * @default 'azure-sora1'
   */
  readonly family?: ProviderFamily;
  /** Per-request time limit until the response headers arrive. @default 120_000 */
  readonly timeoutMs?: number;
  /** @default 'preview' (every Sora 1 call is documented with it) */
  readonly apiVersion?: string;
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
  readonly n_variants?: number;
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

/** One entry of `inpaint_items` (the spec's `InpaintItem`). */
interface InpaintItem {
  readonly frame_index: number;
  readonly type: 'image' | 'video';
  readonly file_name: string;
  readonly crop_bounds?: {
    readonly left_fraction: number;
    readonly top_fraction: number;
    readonly right_fraction: number;
    readonly bottom_fraction: number;
  };
}

/**
 * Azure OpenAI's Sora 1 "video generation jobs" API (`/video/generations/jobs`, `api-version=preview`) as a
 * JobProvider, over plain fetch: the openai SDK has no client for it (azure-sora1-contract.md section 0).
 *
 * - submit: one POST. JSON when there is nothing to upload; otherwise multipart, where the scalars are form
 *   strings, every frame image and the input video is a `files` part, and `inpaint_items` (one JSON-encoded
 *   field) places each at a `frame_index` with optional `crop_bounds`. `n_variants` asks for several
 *   generations of one job.
 * - the handle's id is the **job** id (`task_…`), what list, get and delete take.
 * - poll: `preprocessing`/`queued` → queued, `running`/`processing` → running, `succeeded` → one
 *   VariantOutput per `generations[i]` (video and JPEG thumbnail, each fetched through its generation's
 *   content endpoint), `failed` → safety for the moderation reasons, else upstream; `cancelled` → upstream.
 *   A status we do not know is `unknown` (keep polling). Sora 1 has no progress figure.
 * - no remix, extend, reference images, negative prompt, seed or audio: a request with one is refused before
 *   anything is sent (analysis refuses it earlier, with a position).
 *
 * Every call is one attempt; the engine is the one layer that retries (a create never).
 */
export class AzureSora1JobProvider implements JobProvider {
  readonly name: string;
  readonly type: ProviderType = 'azure-sora1';
  readonly family: ProviderFamily;
  readonly #options: AzureSora1JobProviderOptions;
  readonly #http: Sora1Http;
  #closed: Promise<void> | undefined;

  constructor(options: AzureSora1JobProviderOptions) {
    this.name = options.name;
    this.family = options.family ?? 'azure-sora1';
    this.#options = options;
    this.#http = new Sora1Http(options);
  }

  async submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }> {
    const { body, headers } = this.#createBody(request);
    // Azure documents no idempotency key for these jobs; a lost response is reconciled through `list`.
    const response = await this.#http.send(
      'create',
      options.signal,
      'POST',
      '/video/generations/jobs',
      {},
      {
        body,
        headers,
      },
    );
    const job = await this.#http.json<SoraJob>('create', response, options.signal);
    if (typeof job.id !== 'string' || job.id === '') {
      throw new ProviderError({
        kind: 'server',
        message: `${this.name}: create: the response has no job id`,
        status: response.status,
        delivered: 'yes',
      });
    }
    const handle = this.#handle(job, this.#http.deployment(request.model));
    return { handle, state: toJobState(job, handle) };
  }

  async poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState> {
    return toJobState(await this.#getJob(handle.id, signal), handle);
  }

  async fetch(output: OutputRef, signal?: AbortSignal): Promise<FetchedOutput> {
    if (output.kind !== 'content' || output.asset === 'spritesheet') {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: Azure Sora 1 serves only a video and a thumbnail per generation, through its content endpoint (asked for a ${output.kind} ${output.asset})`,
        delivered: 'no',
      });
    }
    const what = `${output.asset} of ${output.handle.id} variant ${output.index + 1}`;
    // The generation id is in the ref; an older ref without it is resolved through the job.
    const generation = output.ref ?? (await this.#generationId(output.handle, output.index, signal));
    const gen = encodeURIComponent(generation);
    const path = `/video/generations/${gen}/content/${output.asset}`;
    const query: Record<string, string> = output.asset === 'video' ? { quality: 'high' } : {};
    const response = await this.#http.send(`download ${what}`, signal, 'GET', path, query);
    if (response.body === null) {
      throw new ProviderError({
        kind: 'server',
        message: `${this.name}: download ${what}: the response had no body`,
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

  async *list(signal?: AbortSignal): AsyncIterable<ListedJob> {
    // Newest first (Sora 1 has no `order`); `limit` is required by the spec.
    let after: string | undefined;
    for (;;) {
      const query: Record<string, string> = { limit: '50' };
      if (after !== undefined) query['after'] = after;
      const response = await this.#http.send('list', signal, 'GET', '/video/generations/jobs', query);
      const page = await this.#http.json<SoraJobList>('list', response, signal);
      const jobs = page.data ?? [];
      for (const job of jobs) {
        yield {
          handle: this.#handle(job, job.model ?? ''),
          model: job.model ?? '',
          size: job.width !== undefined && job.height !== undefined ? `${job.width}x${job.height}` : null,
          seconds: job.n_seconds ?? null,
          prompt: job.prompt ?? null,
          parentId: null,
        };
      }
      const last = page.last_id ?? jobs.at(-1)?.id;
      if (page.has_more !== true || jobs.length === 0 || last === undefined || last === null) return;
      after = last;
    }
  }

  async delete(handle: JobHandle, signal?: AbortSignal): Promise<void> {
    const path = `/video/generations/jobs/${encodeURIComponent(handle.id)}`;
    const response = await this.#http.send(`delete ${handle.id}`, signal, 'DELETE', path, {});
    await response.body?.cancel();
  }

  close(): Promise<void> {
    this.#closed ??= this.#options.onClose?.() ?? Promise.resolve();
    return this.#closed;
  }

  /** The create body: JSON, or multipart when there are frames or an input video to upload. */
  #createBody(request: GenerationRequest): { body: FormData | string; headers: Record<string, string> } {
    const refuse = unsupported(request);
    if (refuse !== undefined) {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: Azure Sora 1 takes no ${refuse}`,
        delivered: 'no',
      });
    }
    const [width, height] = parseSize(this.name, request.size);
    const fields = {
      prompt: request.prompt,
      model: this.#http.deployment(request.model),
      width,
      height,
      n_seconds: request.seconds,
      n_variants: request.variants,
    };
    const uploads: { item: InpaintItem; blob: Blob }[] = [];
    const names = uniqueNames([
      ...request.frames.map((f) => f.image.filename),
      ...(request.inputVideo === undefined ? [] : [request.inputVideo.filename]),
    ]);
    for (const [i, frame] of request.frames.entries()) {
      uploads.push({
        item: inpaintItem('image', names[i]!, frameIndex(frame.at, request.seconds), frame.crop),
        blob: new Blob([frame.image.bytes], { type: frame.image.mime }),
      });
    }
    const video = request.inputVideo;
    if (video !== undefined) {
      uploads.push({
        item: inpaintItem('video', names.at(-1)!, video.at, video.crop),
        blob: new Blob([video.bytes], { type: video.mime }),
      });
    }
    if (uploads.length === 0) {
      return { body: JSON.stringify(fields), headers: { 'content-type': 'application/json' } };
    }
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
    // "inpaint_items must be JSON string" (the docs); each file_name names a `files` part.
    form.append('inpaint_items', JSON.stringify(uploads.map((u) => u.item)));
    for (const { item, blob } of uploads) form.append('files', blob, item.file_name);
    return { body: form, headers: {} };
  }

  #handle(job: SoraJob, model: string): JobHandle {
    return {
      type: this.type,
      provider: this.name,
      id: job.id,
      model,
      createdAt: typeof job.created_at === 'number' ? job.created_at * 1000 : this.#options.clock.now(),
    };
  }

  async #generationId(handle: JobHandle, index: number, signal: AbortSignal | undefined): Promise<string> {
    const job = await this.#getJob(handle.id, signal);
    const id = job.generations?.[index]?.id;
    if (job.status !== 'succeeded' || id === undefined) {
      throw new ProviderError({
        kind: 'not-found',
        message: `${this.name}: ${handle.id} is ${job.status} and has no generation ${index + 1}`,
        status: 200,
        delivered: 'yes',
      });
    }
    return id;
  }

  async #getJob(id: string, signal: AbortSignal | undefined): Promise<SoraJob> {
    const path = `/video/generations/jobs/${encodeURIComponent(id)}`;
    const response = await this.#http.send(`retrieve ${id}`, signal, 'GET', path, {});
    return this.#http.json<SoraJob>(`retrieve ${id}`, response, signal);
  }
}

/** A Sora 1 job as a JobState (see the class comment for the mapping). */
export function toJobState(job: SoraJob, handle: JobHandle): JobState {
  const ms = (s: number | null | undefined): number | null => (typeof s === 'number' ? s * 1000 : null);
  switch (job.status) {
    case 'preprocessing':
    case 'queued':
      return { state: 'queued', progress: null, pollAfterMs: null };
    case 'running':
    case 'processing':
      return { state: 'running', progress: null, pollAfterMs: null };
    case 'succeeded': {
      const expiresAt = ms(job.expires_at);
      const outputs: VariantOutput[] = (job.generations ?? []).map((g, index) => ({
        index,
        video: { kind: 'content', handle, index, asset: 'video', ref: g.id, expiresAt },
        thumbnail: { kind: 'content', handle, index, asset: 'thumbnail', ref: g.id, expiresAt },
      }));
      if (outputs.length === 0) {
        // Nothing to download: every generation was withheld (output moderation, as far as anyone can tell).
        return {
          state: 'failed',
          kind: 'safety',
          code: job.failure_reason ?? 'output_moderation',
          message: 'the job succeeded with no generations: every variant was withheld',
        };
      }
      return {
        state: 'succeeded',
        outputs,
        completedAt: ms(job.finished_at),
        expiresAt,
        ...(typeof job.n_seconds === 'number' && { seconds: job.n_seconds }),
      };
    }
    case 'failed': {
      const code = job.failure_reason ?? 'unknown';
      return {
        state: 'failed',
        kind: isModerationCode(code) ? 'safety' : 'upstream',
        code,
        message: isModerationCode(code)
          ? `the job was refused by moderation (${code})`
          : `the job failed (${code})`,
      };
    }
    case 'cancelled':
      return { state: 'failed', kind: 'upstream', code: 'cancelled', message: 'the job was cancelled' };
    default:
      return { state: 'unknown', raw: String(job.status) };
  }
}

/** What a GenerationRequest asks for that Sora 1 cannot do, or undefined. */
function unsupported(request: GenerationRequest): string | undefined {
  if (request.parent !== undefined)
    return `${request.parent.relation} (it needs Sora 2 on an openai provider)`;
  if (request.referenceImages.length > 0) return 'reference images';
  if (request.negativePrompt !== undefined) return 'negative prompt';
  if (request.seed !== undefined) return 'seed';
  if (request.audio === true) return 'audio (its videos are silent)';
  return undefined;
}

/** `at` as a Sora 1 frame index: first is 0, last is the final frame of a `seconds` long video. */
export function frameIndex(at: FramePosition, seconds: number): number {
  if (at === 'first') return 0;
  if (at === 'last') return Math.max(0, seconds * SORA1_FPS - 1);
  return at;
}

function inpaintItem(
  type: 'image' | 'video',
  fileName: string,
  at: number,
  crop: CropBounds | undefined,
): InpaintItem {
  return {
    frame_index: at,
    type,
    file_name: fileName,
    ...(crop !== undefined && {
      crop_bounds: {
        left_fraction: crop.left,
        top_fraction: crop.top,
        right_fraction: crop.right,
        bottom_fraction: crop.bottom,
      },
    }),
  };
}

/** Upload names, unique because `file_name` must pick out one `files` part (`a.png`, `2-a.png`). */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name, i) => {
    const unique = seen.has(name) ? `${i + 1}-${name}` : name;
    seen.add(unique);
    return unique;
  });
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
