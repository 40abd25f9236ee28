/**
 * The OpenAI Videos API (`/videos…`), served at `/v1` and at Azure's `/openai/v1`: create, list, retrieve,
 * delete, content, remix and extend, as openai-videos-contract.md describes them.
 */
import type { ApiError } from './api-error.ts';
import { invalidRequest, invalidType, invalidValue, videoNotFound } from './api-error.ts';
import { formatResetDuration } from './create-quota.ts';
import { validateCreate, validateExtend, validateRemix } from './create-validation.ts';
import { findWord } from './emulator-faults.ts';
import type { EmulatorState, NewJob, RouteResult } from './emulator-state.ts';
import type { VideoJob } from './job-store.ts';
import { toVideoResource, viewJob } from './job-store.ts';
import type { ParsedBody } from './request-body.ts';

export interface VideosRequest {
  readonly method: string;
  /** Path after the API prefix, e.g. `/videos/video_123/content`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Parsed lazily: only create-type routes need a body. */
  readonly body: () => Result<ParsedBody>;
  /** The Range header, if any. */
  readonly range?: string | undefined;
  /** Came in on Azure's `/openai/v1` path. */
  readonly azure?: boolean;
}

type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

const VARIANTS = {
  video: 'video/mp4',
  thumbnail: 'image/webp',
  spritesheet: 'image/jpeg',
} as const;

const error = (e: ApiError, videoId?: string): RouteResult =>
  videoId === undefined ? { kind: 'error', error: e } : { kind: 'error', error: e, videoId };

/** Routes one Videos API request; `undefined` when no route matches (the caller answers "Invalid URL"). */
export async function routeVideos(
  state: EmulatorState,
  req: VideosRequest,
): Promise<RouteResult | undefined> {
  // A trailing slash is tolerated; an empty segment in the middle (`/videos//content`) matches nothing.
  const parts = req.path.replace(/^\/|\/$/g, '').split('/');
  if (parts.includes('')) return undefined;
  if (parts[0] !== 'videos') return undefined;
  const [, id, action] = parts;
  if (parts.length === 1) {
    if (req.method === 'POST') return createVideo(state, req);
    if (req.method === 'GET') return listVideos(state, req.query);
    return undefined;
  }
  if (parts.length === 2 && id === 'extensions' && req.method === 'POST') return extendVideo(state, req);
  if (parts.length === 2 && id !== undefined) {
    if (req.method === 'GET') return retrieveVideo(state, id);
    if (req.method === 'DELETE') return deleteVideo(state, id);
    return undefined;
  }
  if (parts.length === 3 && id !== undefined) {
    if (action === 'content' && req.method === 'GET') return videoContent(state, id, req.query);
    if (action === 'remix' && req.method === 'POST') return remixVideo(state, id, req);
  }
  return undefined;
}

/** `openai-poll-after-ms` in real ms (see `EmulatorState.wallMs`), for a job still running. */
function withPollHint(state: EmulatorState, job: VideoJob): Record<string, string> {
  const ms = state.pollAfterMs(job);
  return ms === null ? {} : { 'openai-poll-after-ms': String(Math.max(1, Math.round(state.wallMs(ms)))) };
}

/** The x-ratelimit-* headers of the create quota, as of now. */
export function rateLimitHeaders(state: EmulatorState): Record<string, string> {
  const q = state.quota.state(state.clock.now());
  return {
    'x-ratelimit-limit-requests': String(q.limit),
    'x-ratelimit-remaining-requests': String(q.remaining),
    'x-ratelimit-reset-requests': formatResetDuration(state.wallMs(q.resetMs)),
  };
}

/**
 * The 429 of a full create window (both APIs; `limits` is the part of the message that differs), or null
 * when a slot is free. Every wait in it is real time (`EmulatorState.wallMs`): `retry-after-ms` exact,
 * `retry-after` whole seconds. At real speed `retry-after` rounds up to at least 1 s, as the service's does;
 * on a sped-up clock it rounds down, so it never asks for more than the wait it stands for, and is left out
 * when that is under a second (the spec's minimum is 1; it allows the header to be absent). The SDKs read
 * `retry-after-ms` first and wait exactly.
 */
export function quotaRefusal(
  state: EmulatorState,
  model: string,
  limits: (limit: number) => string,
): ApiError | null {
  const q = state.quota.state(state.clock.now());
  if (q.remaining > 0) return null;
  const ms = Math.max(1, Math.round(state.wallMs(q.retryAfterMs)));
  const spedUp = state.wallMs(1000) < 1000;
  const seconds = spedUp ? Math.floor(ms / 1000) : Math.max(1, Math.ceil(ms / 1000));
  const wait = spedUp && ms < 1000 ? `${ms}ms` : `${seconds}s`;
  return {
    status: 429,
    message: `Rate limit reached for ${model} on requests per min (RPM): ${limits(q.limit)}. Please try again in ${wait}.`,
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
    headers: {
      ...(seconds >= 1 ? { 'retry-after': String(seconds) } : {}),
      'retry-after-ms': String(ms),
      ...rateLimitHeaders(state),
    },
  };
}

const videosLimits = (limit: number): string => `Limit ${limit}, Used ${limit}, Requested 1`;

/** Quota, synchronous moderation, then the job; shared by create, remix and extend. */
function admit(state: EmulatorState, job: NewJob): RouteResult {
  const refusal = quotaRefusal(state, job.model, videosLimits);
  if (refusal !== null) return error(refusal);
  if (findWord(job.prompt, state.faults.moderationRejectWords) !== undefined) {
    return error(
      invalidRequest(
        'Your request was blocked by our moderation system. Your prompt may contain content that is not allowed.',
        null,
        'moderation_blocked',
      ),
    );
  }
  state.quota.take(state.clock.now());
  const created = state.createJob(job);
  return {
    kind: 'json',
    status: 200,
    // The service answers a create with the job as created (queued, 0 %), however long the response takes.
    body: toVideoResource(created, created.createdAt),
    headers: { ...rateLimitHeaders(state), ...withPollHint(state, created) },
    videoId: created.id,
    created: true,
  };
}

function createVideo(state: EmulatorState, req: VideosRequest): RouteResult {
  const body = req.body();
  if (!body.ok) return error(body.error);
  // The quota gate comes before validation, as a gateway's would.
  const model = body.value.fields.model;
  const refusal = quotaRefusal(state, typeof model === 'string' ? model : 'sora-2', videosLimits);
  if (refusal !== null) return error(refusal);
  const input = validateCreate(body.value, {
    azure: req.azure === true,
    deployments: state.azureDeployments,
  });
  if (!input.ok) return error(input.error);
  return admit(state, {
    model: input.value.model,
    prompt: input.value.prompt,
    size: input.value.size,
    seconds: input.value.seconds,
    newSeconds: input.value.seconds,
    segments: [{ prompt: input.value.prompt, seconds: input.value.seconds }],
    remixedFrom: null,
    audio: true,
    ...(input.value.reference !== null && { reference: input.value.reference.bytes }),
  });
}

/** A parent for remix or extend: it must exist, be completed and not have expired. */
function usableParent(
  state: EmulatorState,
  id: string,
  verb: string,
  param: string | null,
): Result<VideoJob> {
  const parent = state.job(id, 'videos');
  if (parent === undefined) return { ok: false, error: videoNotFound(id, param) };
  const view = viewJob(parent, state.clock.now());
  if (view.status !== 'completed') {
    return {
      ok: false,
      error: invalidRequest(
        `Video '${id}' is not completed (status: ${view.status}); only completed videos can be ${verb}.`,
        param,
        null,
      ),
    };
  }
  if (view.expired) return { ok: false, error: expiredError(id, param) };
  return { ok: true, value: parent };
}

/**
 * An expired video's assets are gone: its content and any remix or extension of it answer 404, like an id the
 * service no longer has (the video itself can still be retrieved, listed and deleted).
 */
function expiredError(id: string, param: string | null): ApiError {
  return {
    status: 404,
    message: `Video '${id}' has expired; its assets are no longer available.`,
    type: 'invalid_request_error',
    param,
    code: null,
  };
}

function remixVideo(state: EmulatorState, id: string, req: VideosRequest): RouteResult {
  const body = req.body();
  if (!body.ok) return error(body.error, id);
  const prompt = validateRemix(body.value);
  const refusal = quotaRefusal(state, 'sora-2', videosLimits);
  if (refusal !== null) return error(refusal, id);
  if (!prompt.ok) return error(prompt.error, id);
  const parent = usableParent(state, id, 'remixed', null);
  if (!parent.ok) return error(parent.error, id);
  const p = parent.value;
  return admit(state, {
    model: p.model,
    prompt: prompt.value,
    size: p.size,
    seconds: p.seconds,
    newSeconds: p.seconds,
    segments: [{ prompt: prompt.value, seconds: p.seconds }],
    remixedFrom: p.id,
    audio: p.audio,
    parent: { kind: 'remix', id: p.id, prompt: p.prompt },
  });
}

function extendVideo(state: EmulatorState, req: VideosRequest): RouteResult {
  const body = req.body();
  if (!body.ok) return error(body.error);
  const input = validateExtend(body.value);
  const refusal = quotaRefusal(state, 'sora-2', videosLimits);
  if (refusal !== null) return error(refusal);
  if (!input.ok) return error(input.error);
  const parent = usableParent(state, input.value.parentId, 'extended', 'video.id');
  if (!parent.ok) return error(parent.error, input.value.parentId);
  const p = parent.value;
  const total = p.seconds + input.value.seconds;
  return admit(state, {
    model: p.model,
    prompt: input.value.prompt,
    size: p.size,
    seconds: total,
    newSeconds: input.value.seconds,
    segments: [...p.segments, { prompt: input.value.prompt, seconds: input.value.seconds }],
    remixedFrom: null,
    audio: p.audio,
    parent: { kind: 'extension', id: p.id, prompt: p.prompt },
  });
}

function retrieveVideo(state: EmulatorState, id: string): RouteResult {
  const job = state.job(id, 'videos');
  if (job === undefined) return error(videoNotFound(id), id);
  return {
    kind: 'json',
    status: 200,
    body: toVideoResource(job, state.clock.now()),
    headers: withPollHint(state, job),
    videoId: id,
  };
}

function deleteVideo(state: EmulatorState, id: string): RouteResult {
  const job = state.job(id, 'videos');
  if (job === undefined) return error(videoNotFound(id), id);
  const { status } = viewJob(job, state.clock.now());
  if (status !== 'completed' && status !== 'failed') {
    return error(
      invalidRequest(
        `Video '${id}' cannot be deleted while it is ${status}; only completed or failed videos can be deleted.`,
      ),
      id,
    );
  }
  state.forget(id);
  return { kind: 'json', status: 200, body: { id, object: 'video.deleted', deleted: true }, videoId: id };
}

function listVideos(state: EmulatorState, query: URLSearchParams): RouteResult {
  let limit = 20;
  const rawLimit = query.get('limit');
  if (rawLimit !== null) {
    if (!/^-?\d+$/.test(rawLimit)) return error(invalidType('limit', 'an integer', rawLimit));
    limit = Number(rawLimit);
    if (limit < 0) {
      return error(
        invalidRequest(
          `Invalid 'limit': integer below minimum value. Expected a value >= 0, but got ${limit} instead.`,
          'limit',
          'integer_below_min_value',
        ),
      );
    }
    if (limit > 100) {
      return error(
        invalidRequest(
          `Invalid 'limit': integer above maximum value. Expected a value <= 100, but got ${limit} instead.`,
          'limit',
          'integer_above_max_value',
        ),
      );
    }
  }
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') return error(invalidValue('order', order, ['asc', 'desc']));
  const after = query.get('after');
  if (after !== null && state.job(after, 'videos') === undefined) {
    return error(
      invalidRequest(`Invalid 'after': no video with id '${after}' exists.`, 'after', 'invalid_value'),
    );
  }
  state.refresh();
  const page = state.jobs.list(
    after === null ? { api: 'videos', order, limit } : { api: 'videos', order, limit, after },
  );
  const now = state.clock.now();
  return {
    kind: 'json',
    status: 200,
    body: {
      object: 'list',
      data: page.data.map((j) => toVideoResource(j, now)),
      first_id: page.data[0]?.id ?? null,
      last_id: page.data[page.data.length - 1]?.id ?? null,
      has_more: page.hasMore,
    },
  };
}

/** MP4 `free` box naming the job, appended to its video so two samples of one render differ in bytes. */
function idBox(id: string): Buffer {
  const payload = Buffer.from(`sora-build emulator ${id}`, 'utf8');
  const box = Buffer.alloc(8 + payload.length);
  box.writeUInt32BE(box.length, 0);
  box.write('free', 4, 'latin1');
  payload.copy(box, 8);
  return box;
}

/** Header of a `free` box of `total` bytes (64-bit size when it does not fit 32 bits). */
export function freeBoxHeader(total: number): Buffer {
  if (total <= 0xffffffff) {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(total, 0);
    h.write('free', 4, 'latin1');
    return h;
  }
  const h = Buffer.alloc(16);
  h.writeUInt32BE(1, 0);
  h.write('free', 4, 'latin1');
  h.writeBigUInt64BE(BigInt(total), 8);
  return h;
}

async function videoContent(state: EmulatorState, id: string, query: URLSearchParams): Promise<RouteResult> {
  const variant = query.get('variant') ?? 'video';
  if (!Object.hasOwn(VARIANTS, variant)) {
    return error(invalidValue('variant', variant, Object.keys(VARIANTS)), id);
  }
  const job = state.job(id, 'videos');
  if (job === undefined) return error(videoNotFound(id), id);
  const view = viewJob(job, state.clock.now());
  if (view.status !== 'completed') {
    const message =
      view.status === 'failed'
        ? `Video '${id}' failed and has no content.`
        : `Video '${id}' is not ready yet (status: ${view.status}); download its content once its status is completed.`;
    return error(invalidRequest(message), id);
  }
  if (view.expired) return error(expiredError(id, null), id);
  const assets = await state.assets(job);
  const key = variant as keyof typeof VARIANTS;
  if (key !== 'video') {
    return { kind: 'binary', contentType: VARIANTS[key], bytes: assets[key], videoId: id };
  }
  const bytes = Buffer.concat([assets.video, idBox(id)]);
  const target = state.faults.largeVideoBytes;
  // A `free` box needs at least its 8-byte header (16 when over 4 GiB).
  const pad = target - bytes.length;
  if (pad >= 8) {
    const header = freeBoxHeader(pad);
    if (pad >= header.length) {
      return {
        kind: 'binary',
        contentType: 'video/mp4',
        bytes,
        padHeader: header,
        padZeros: pad - header.length,
        videoId: id,
      };
    }
  }
  return { kind: 'binary', contentType: 'video/mp4', bytes, videoId: id };
}
