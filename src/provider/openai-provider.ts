import { OpenAI, toFile } from 'openai';
import type { Video, VideoSeconds, VideoSize } from 'openai/resources/videos';
import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import { asVideoId, type VideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import { mapSdkError, type ErrorContext } from './map-provider-error.ts';
import type { SecretRedactor } from './redact.ts';
import { contentProbeFailure, progressOf, readVideoAnswer, secondsOf, unixMs } from './openai-video-state.ts';
import { isAzureBaseUrl, type ProviderAuth } from './resolve-auth.ts';
import {
  ProviderError,
  type ContentVariant,
  type CreateRequest,
  type Download,
  type ListOptions,
  type RemoteVideo,
  type VideoProvider,
} from './types.ts';

type RequestOptions = NonNullable<Parameters<OpenAI['videos']['retrieve']>[1]>;

export interface OpenAIProviderOptions {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  /** `openai-videos`, or `emulator` when this adapter talks to the embedded emulator. */
  readonly family: ProviderFamily;
  /** Already resolved: config `base_url`, else OPENAI_BASE_URL, else the SDK default. */
  readonly baseUrl: string;
  readonly auth: ProviderAuth;
  /** Model name -> deployment name sent as `model` (Azure). Models not listed are sent as they are. */
  readonly deployments: Readonly<Record<string, string>>;
  /** Read retries and Entra token expiry run on this clock. */
  readonly clock: Clock;
  /** Knows the key; every token the provider obtains is added to it. */
  readonly redactor: SecretRedactor;
  /** Sent as OpenAI-Organization / OpenAI-Project when set (OPENAI_ORG_ID / OPENAI_PROJECT_ID). */
  readonly organization?: string | undefined;
  readonly project?: string | undefined;
  /**
   * Per-request time limit until the response headers arrive (a download's body may take longer).
   * @default 120_000
   */
  readonly timeoutMs?: number;
  /**
   * The service is an OpenAI-compatible gateway (LiteLLM, new-api): a job it calls completed is confirmed by
   * one content request before it counts as done, since a gateway reports a filtered video as completed and
   * only its content request fails (openai-video-state.ts). @default false
   */
  readonly gateway?: boolean;
  /** Called by `close()` after the adapter's own cleanup (the embedded emulator stops here). */
  readonly onClose?: () => Promise<void>;
}

/**
 * The OpenAI Videos API (`/videos`) through the official `openai` SDK: OpenAI itself, Azure OpenAI's v1 API
 * (`https://RESOURCE.openai.azure.com/openai/v1/`), compatible gateways and the embedded emulator.
 *
 * Retries: the SDK's automatic retries are off for every request (`maxRetries: 0`). Create, remix and
 * extend are never repeated, because a repeat after a lost response could start (and bill) a second job;
 * the engine decides from `ProviderError.delivered`. Reads are not retried here either: every call is one
 * attempt, and the engine (src/engine/read-retries.ts) is the one layer that retries, with an event each
 * time. The one exception is a 401 under Entra ID: the server refused the request without acting on it, so
 * it is sent once more with a freshly fetched token.
 */
export class OpenAIProvider implements VideoProvider {
  readonly name: string;
  readonly family: ProviderFamily;
  readonly #options: OpenAIProviderOptions;
  readonly #client: OpenAI;
  #closed = false;

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name;
    this.family = options.family;
    this.#options = options;
    const { auth } = options;
    const azure = isAzureBaseUrl(options.baseUrl);
    this.#client = new OpenAI({
      baseURL: options.baseUrl,
      // Under Entra ID the SDK calls this before every request; the token provider caches and refreshes.
      apiKey: auth.mode === 'api-key' ? auth.apiKey : () => auth.tokens.getToken(),
      // Azure's documented key header is `api-key`; its v1 API also accepts the key as a Bearer token.
      ...(azure && auth.mode === 'api-key' ? { defaultHeaders: { 'api-key': auth.apiKey } } : {}),
      organization: options.organization ?? null,
      project: options.project ?? null,
      adminAPIKey: null,
      webhookSecret: null,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
      // The SDK must not print (only cli/ and reporter/ do), least of all request details.
      logLevel: 'off',
    });
  }

  async create(request: CreateRequest, signal?: AbortSignal): Promise<RemoteVideo> {
    const ref = request.inputReference;
    const inputReference =
      ref === undefined ? undefined : await toFile(ref.bytes, ref.filename, { type: ref.mime });
    return this.#once('create', signal, async (opts) => {
      const { data, response } = await this.#client.videos
        .create(
          {
            prompt: request.prompt,
            model: this.#deployment(request.model),
            size: request.size as VideoSize,
            seconds: String(request.seconds) as VideoSeconds,
            ...(inputReference !== undefined ? { input_reference: inputReference } : {}),
          },
          opts,
        )
        .withResponse();
      return toRemoteVideo(
        data,
        response.headers,
        clockSpeed(this.#options.clock),
        this.#options.clock.now(),
      );
    });
  }

  remix(parent: VideoId, prompt: string, signal?: AbortSignal): Promise<RemoteVideo> {
    return this.#once(`remix ${parent}`, signal, async (opts) => {
      const { data, response } = await this.#client.videos.remix(parent, { prompt }, opts).withResponse();
      return toRemoteVideo(
        data,
        response.headers,
        clockSpeed(this.#options.clock),
        this.#options.clock.now(),
      );
    });
  }

  extend(parent: VideoId, prompt: string, seconds: number, signal?: AbortSignal): Promise<RemoteVideo> {
    return this.#once(`extend ${parent}`, signal, async (opts) => {
      const { data, response } = await this.#client.videos
        .extend({ prompt, seconds: String(seconds) as VideoSeconds, video: { id: parent } }, opts)
        .withResponse();
      return toRemoteVideo(
        data,
        response.headers,
        clockSpeed(this.#options.clock),
        this.#options.clock.now(),
      );
    });
  }

  async retrieve(id: VideoId, signal?: AbortSignal): Promise<RemoteVideo> {
    const video = await this.#read(`retrieve ${id}`, signal, async (opts) => {
      const { data, response } = await this.#client.videos.retrieve(id, opts).withResponse();
      // The id asked for, not the one echoed: a gateway may echo another spelling of it (LiteLLM drops the
      // model from its encoded id on reads), and the journal keeps the one the create answered.
      return {
        ...toRemoteVideo(data, response.headers, clockSpeed(this.#options.clock), this.#options.clock.now()),
        id,
      };
    });
    if (this.#options.gateway !== true || video.status !== 'completed') return video;
    return this.#confirmContent(video, signal);
  }

  /** A gateway's completed job: one content request says whether there is a video (see `gateway`). */
  async #confirmContent(video: RemoteVideo, signal: AbortSignal | undefined): Promise<RemoteVideo> {
    try {
      await this.#read(`confirm the video of ${video.id}`, signal, async (opts) => {
        const response = await this.#client.videos
          .downloadContent(video.id, { variant: 'video' }, { ...opts, headers: { range: 'bytes=0-0' } })
          .asResponse();
        // Only the answer's status matters; the body (all of it, where the range is ignored) is not read.
        await response.body?.cancel();
      });
      return video;
    } catch (error) {
      const failed = error instanceof ProviderError ? contentProbeFailure(error) : undefined;
      if (failed === undefined) throw error;
      return { ...video, status: 'failed', error: { code: failed.code, message: failed.message } };
    }
  }

  async *list(options: ListOptions = {}, signal?: AbortSignal): AsyncIterable<RemoteVideo> {
    const query = {
      ...(options.order !== undefined ? { order: options.order } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    };
    // The SDK's cursor page follows `has_more` / `last_id` (`after=<last_id>`); each page is a retried read.
    let page = await this.#read('list', signal, (opts) => this.#client.videos.list(query, opts));
    for (;;) {
      for (const video of page.getPaginatedItems()) yield toRemoteVideo(video, undefined);
      if (!page.hasNextPage()) return;
      const current = page;
      page = await this.#read('list', signal, () => current.getNextPage());
    }
  }

  async delete(id: VideoId, signal?: AbortSignal): Promise<void> {
    await this.#read(`delete ${id}`, signal, async (opts) => {
      await this.#client.videos.delete(id, opts);
    });
  }

  download(id: VideoId, variant: ContentVariant, signal?: AbortSignal): Promise<Download> {
    return this.#read(`download ${variant} of ${id}`, signal, async (opts) => {
      // asResponse(): the raw fetch Response, body unread, so the caller streams it to disk while hashing.
      const response = await this.#client.videos.downloadContent(id, { variant }, opts).asResponse();
      if (response.body === null) throw new Error('the response had no body');
      const length = response.headers.get('content-length');
      return {
        body: response.body,
        contentLength: length !== null && /^\d+$/.test(length) ? Number(length) : null,
        contentType: response.headers.get('content-type'),
      };
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#options.onClose?.() ?? Promise.resolve();
  }

  #deployment(model: string): string {
    return Object.hasOwn(this.#options.deployments, model) ? this.#options.deployments[model]! : model;
  }

  /** A request that must reach the server at most once (create, remix, extend). */
  #once<T>(operation: string, signal: AbortSignal | undefined, call: (opts: RequestOptions) => Promise<T>) {
    return this.#attempt(operation, signal, call);
  }

  /** A read: one attempt (the engine decides about retries). */
  #read<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (opts: RequestOptions) => Promise<T>,
  ): Promise<T> {
    return this.#attempt(operation, signal, call);
  }

  /** One call with SDK retries off, errors mapped; under Entra ID a 401 is answered with one fresh token. */
  async #attempt<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (opts: RequestOptions) => Promise<T>,
  ): Promise<T> {
    const opts: RequestOptions = { maxRetries: 0, ...(signal !== undefined ? { signal } : {}) };
    const { auth } = this.#options;
    for (let tokenRetry = 0; ; tokenRetry++) {
      try {
        return await call(opts);
      } catch (error) {
        const mapped = mapSdkError(this.#context(operation, signal), error);
        if (
          auth.mode === 'entra' &&
          tokenRetry === 0 &&
          mapped instanceof ProviderError &&
          mapped.status === 401
        ) {
          auth.tokens.invalidate();
          continue;
        }
        throw mapped;
      }
    }
  }

  #context(operation: string, signal: AbortSignal | undefined): ErrorContext {
    return {
      provider: this.name,
      operation,
      redactor: this.#options.redactor,
      now: this.#options.clock.now(),
      speed: clockSpeed(this.#options.clock),
      signal,
    };
  }
}

/**
 * The SDK's Video (seconds as a string, Unix seconds) as our RemoteVideo (numbers, Unix milliseconds).
 * `speed` is the clock's (`clockSpeed`): the `openai-poll-after-ms` hint is real time, `pollAfterMs` clock time;
 * `now` (clock time) stands in for a missing `created_at`.
 * The answer is read through openai-video-state.ts, so a gateway's statuses (`processing`, `unknown`,
 * `cancelled`, `NOT_START`, …) and missing fields land on the four this interface knows: a status nobody
 * knows is `queued` (keep polling; only the service ends a job), `cancelled`/`expired` are `failed`.
 */
export function toRemoteVideo(video: Video, headers: Headers | undefined, speed = 1, now = 0): RemoteVideo {
  const pollAfter = headers?.get('openai-poll-after-ms');
  const pollAfterMs = pollAfter !== null && pollAfter !== undefined ? Number(pollAfter) * speed : NaN;
  // Gateways leave fields out that OpenAI always sends; the SDK's types promise them, the wire does not.
  const wire = video as Partial<Video>;
  const reading = readVideoAnswer(wire);
  const status: RemoteVideo['status'] =
    reading.phase === 'failed'
      ? 'failed'
      : reading.phase === 'completed'
        ? 'completed'
        : reading.phase === 'running'
          ? 'in_progress'
          : 'queued';
  return {
    id: asVideoId(String(video.id)),
    status,
    progress: progressOf(wire.progress),
    // A gateway that leaves `created_at` out: the time we read the answer (the create's, on a create).
    createdAt: unixMs(wire.created_at) ?? now,
    completedAt: unixMs(wire.completed_at),
    expiresAt: unixMs(wire.expires_at),
    model: String(wire.model ?? ''),
    size: String(wire.size ?? ''),
    seconds: secondsOf(wire.seconds) ?? 0,
    prompt: typeof wire.prompt === 'string' ? wire.prompt : null,
    remixedFrom:
      typeof wire.remixed_from_video_id === 'string' && wire.remixed_from_video_id !== ''
        ? asVideoId(wire.remixed_from_video_id)
        : null,
    error: reading.phase === 'failed' ? { code: reading.code, message: reading.message } : null,
    pollAfterMs: Number.isFinite(pollAfterMs) && pollAfterMs >= 0 ? pollAfterMs : null,
  };
}
