/**
 * Azure's Sora 1 "video generation jobs" API (azure-sora1-contract.md), under `/openai/v1/video/…`: create
 * (JSON, or multipart with `inpaint_items` as a JSON string and `files` parts), list with `before`/`after`/
 * `limit`/`statuses`, get, delete (204), generations, their video (GET and HEAD, `quality`, single byte
 * ranges) and JPEG thumbnail. Errors use the wrapped `{"error":{…}}` shape, which the OpenAI SDK parses (the
 * spec's flat error schema is unconfirmed on the wire; see the contract, section 5).
 */
import type { ApiError } from './api-error.ts';
import {
  invalidRequest,
  invalidType,
  invalidValue,
  missingParameter,
  quoteList,
  unknownParameter,
} from './api-error.ts';
import { findWord } from './emulator-faults.ts';
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import { EXPIRY_MS, slotWait, viewJob } from './job-store.ts';
import type { VideoJob } from './job-store.ts';
import { probeImage } from './image-probe.ts';
import { mp4DurationSeconds } from './mp4-duration.ts';
import { quotaRefusal, rateLimitHeaders } from './openai-routes.ts';
import type { VideosRequest } from './openai-routes.ts';
import type { ParsedBody } from './request-body.ts';
import { isPlainObject } from './request-body.ts';

const SIZES = [
  '480x480',
  '480x854',
  '854x480',
  '720x720',
  '720x1280',
  '1280x720',
  '1080x1080',
  '1080x1920',
  '1920x1080',
];
/** Jobs running at once per resource; a third waits in the queue (azure-sora1-contract.md section 4). */
const SORA1_CONCURRENCY = 2;
const STATUSES = ['preprocessing', 'queued', 'running', 'processing', 'cancelled', 'succeeded', 'failed'];

type Sora1Status = 'queued' | 'preprocessing' | 'running' | 'processing' | 'succeeded' | 'failed';

const err = (error: ApiError, videoId?: string): RouteResult =>
  videoId === undefined ? { kind: 'error', error } : { kind: 'error', error, videoId };

export async function routeSora1(state: EmulatorState, req: VideosRequest): Promise<RouteResult | undefined> {
  // A trailing slash is tolerated; an empty segment in the middle (`/videos//content`) matches nothing.
  const parts = req.path.replace(/^\/|\/$/g, '').split('/');
  if (parts.includes('')) return undefined;
  if (parts[0] !== 'video' || parts[1] !== 'generations') return undefined;
  const rest = parts.slice(2);
  if (rest[0] === 'jobs') {
    if (rest.length === 1 && req.method === 'POST') return createJob(state, req);
    if (rest.length === 1 && req.method === 'GET') return listJobs(state, req.query);
    if (rest.length === 2) {
      if (req.method === 'GET') return getJob(state, rest[1]!);
      if (req.method === 'DELETE') return deleteJob(state, rest[1]!);
    }
    return undefined;
  }
  const genId = rest[0];
  if (genId === undefined) return undefined;
  if (rest.length === 1 && req.method === 'GET') return getGeneration(state, genId);
  if (rest.length === 3 && rest[1] === 'content') {
    const head = req.method === 'HEAD';
    if (rest[2] === 'video' && (req.method === 'GET' || head))
      return generationContent(state, genId, 'video', req, head);
    if (rest[2] === 'thumbnail' && req.method === 'GET')
      return generationContent(state, genId, 'thumbnail', req, false);
  }
  return undefined;
}

/** The job's Sora 1 status as of `now` (default: the emulator's now), and when it finished. */
function sora1View(
  state: EmulatorState,
  job: VideoJob,
  now = state.clock.now(),
): { status: Sora1Status; finishedAt: number | null } {
  const view = viewJob(job, now);
  switch (view.status) {
    case 'queued':
      return { status: 'queued', finishedAt: null };
    case 'in_progress': {
      // Azure's documented progression inside the render: preprocessing, running, processing.
      const fraction = (now - job.createdAt - job.queuedMs) / Math.max(1, job.renderMs);
      return {
        status: fraction < 0.1 ? 'preprocessing' : fraction < 0.9 ? 'running' : 'processing',
        finishedAt: null,
      };
    }
    case 'completed':
      return { status: 'succeeded', finishedAt: view.completedAt };
    case 'failed':
      return {
        status: 'failed',
        finishedAt: job.createdAt + job.queuedMs + Math.round(job.renderMs * (job.failure?.atFraction ?? 0)),
      };
  }
}

/** Sora 1 jobs are deleted by the service 24 h after creation. */
function liveJob(state: EmulatorState, id: string): VideoJob | undefined {
  const job = state.job(id, 'sora1');
  if (job === undefined) return undefined;
  if (state.clock.now() >= job.createdAt + EXPIRY_MS) {
    state.forget(id);
    return undefined;
  }
  return job;
}

const secs = (ms: number): number => Math.floor(ms / 1000);

function generationBody(
  state: EmulatorState,
  job: VideoJob,
  id: string,
  finishedAt: number,
): Record<string, unknown> {
  return {
    object: 'video.generation',
    id,
    job_id: job.id,
    created_at: secs(finishedAt),
    width: job.width,
    height: job.height,
    n_seconds: job.seconds,
    prompt: job.prompt,
  };
}

function jobBody(state: EmulatorState, job: VideoJob, now?: number): Record<string, unknown> {
  const { status, finishedAt } = sora1View(state, job, now);
  return {
    object: 'video.generation.job',
    id: job.id,
    status,
    created_at: secs(job.createdAt),
    finished_at: finishedAt === null ? null : secs(finishedAt),
    expires_at: finishedAt === null ? null : secs(job.createdAt + EXPIRY_MS),
    generations:
      status === 'succeeded' && finishedAt !== null
        ? state.generationIds(job).map((g) => generationBody(state, job, g, finishedAt))
        : [],
    prompt: job.prompt,
    model: job.model,
    n_variants: job.variants,
    n_seconds: job.seconds,
    height: job.height,
    width: job.width,
    ...(job.inpaintItems !== undefined && { inpaint_items: job.inpaintItems }),
    failure_reason:
      status === 'failed'
        ? job.failure?.code === 'moderation_blocked'
          ? 'input_moderation'
          : 'internal_error'
        : null,
  };
}

function jobNotFound(id: string): ApiError {
  return {
    status: 404,
    message: `Video generation job with id '${id}' not found.`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  };
}

function generationNotFound(id: string): ApiError {
  return {
    status: 404,
    message: `Video generation with id '${id}' not found.`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  };
}

/** An integer field: a JSON number, or a decimal string in multipart. */
function intField(
  body: ParsedBody,
  name: string,
  fallback: number | undefined,
): { ok: true; value: number | undefined } | { ok: false; error: ApiError } {
  const raw = body.fields[name];
  if (raw === undefined) return { ok: true, value: fallback };
  if (body.kind === 'multipart' && typeof raw === 'string' && /^-?\d+$/.test(raw))
    return { ok: true, value: Number(raw) };
  if (typeof raw === 'number' && Number.isInteger(raw)) return { ok: true, value: raw };
  return { ok: false, error: invalidType(name, 'an integer', raw) };
}

function range(name: string, value: number, min: number, max: number, why = ''): ApiError | null {
  if (value >= min && value <= max) return null;
  return invalidRequest(
    `Invalid '${name}': expected a value from ${min} to ${max}${why}, but got ${value}.`,
    name,
    'invalid_value',
  );
}

/** The limits on what a job may start from (azure-sora1-contract.md section 4). */
const MAX_IMAGES = 2;
const MAX_INPUT_VIDEO_SECONDS = 5;
/**
 * Frames per second of a Sora 1 video. Azure documents `frame_index` but not the rate; its videos are 30 fps.
 * A frame index past the last frame of the requested duration is refused (an assumption: no stored source
 * shows the service's answer to one).
 */
const FPS = 30;
const CROP_SIDES = ['left_fraction', 'top_fraction', 'right_fraction', 'bottom_fraction'] as const;

interface Inpaint {
  readonly items: unknown[];
  /** The image placed at frame 0, which the placeholder opens on. */
  readonly firstFrame: Buffer | undefined;
}

const bad = (message: string, param: string): { ok: false; error: ApiError } => ({
  ok: false,
  error: invalidRequest(message, param, 'invalid_value'),
});

/** `crop_bounds`: fractions 0..1 (defaults 0, 0, 1, 1) that leave a non-empty area. */
function checkCrop(raw: unknown, param: string): ApiError | null {
  if (raw === undefined) return null;
  if (!isPlainObject(raw)) return invalidType(param, 'an object', raw);
  const extra = Object.keys(raw).find((k) => !(CROP_SIDES as readonly string[]).includes(k));
  if (extra !== undefined) return unknownParameter(`${param}.${extra}`);
  const sides: Record<string, number> = {
    left_fraction: 0,
    top_fraction: 0,
    right_fraction: 1,
    bottom_fraction: 1,
  };
  for (const side of CROP_SIDES) {
    const value = raw[side];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      return invalidRequest(
        `Invalid '${param}.${side}': expected a number from 0 to 1, but got ${JSON.stringify(value)}.`,
        `${param}.${side}`,
        'invalid_value',
      );
    }
    sides[side] = value;
  }
  if (sides.left_fraction! >= sides.right_fraction! || sides.top_fraction! >= sides.bottom_fraction!) {
    return invalidRequest(
      `Invalid '${param}': left_fraction must be less than right_fraction and top_fraction less than bottom_fraction.`,
      param,
      'invalid_value',
    );
  }
  return null;
}

/**
 * `inpaint_items` (multipart only, a JSON string): each item names a `files` part and places it at a frame;
 * a job starts from up to two images (which it interpolates between) or one video of at most 5 s.
 */
function checkInpaint(
  body: ParsedBody,
  seconds: number,
): { ok: true; value: Inpaint | undefined } | { ok: false; error: ApiError } {
  const raw = body.fields.inpaint_items;
  if (raw === undefined) return { ok: true, value: undefined };
  if (body.kind !== 'multipart') return { ok: false, error: unknownParameter('inpaint_items') };
  let items: unknown;
  try {
    items = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    items = undefined;
  }
  if (!Array.isArray(items)) {
    return bad(
      "Invalid 'inpaint_items': expected a JSON string holding an array of inpaint items.",
      'inpaint_items',
    );
  }
  const files = body.uploads.filter((u) => u.name === 'files');
  const lastFrame = seconds * FPS - 1;
  let firstFrame: Buffer | undefined;
  for (const [i, item] of items.entries()) {
    const param = `inpaint_items[${i}]`;
    if (!isPlainObject(item)) return { ok: false, error: invalidType(param, 'an object', item) };
    const extra = Object.keys(item).find(
      (k) => !['frame_index', 'type', 'file_name', 'crop_bounds'].includes(k),
    );
    if (extra !== undefined) return { ok: false, error: unknownParameter(`${param}.${extra}`) };
    const rawFrame = item.frame_index ?? 0;
    if (typeof rawFrame !== 'number' || !Number.isInteger(rawFrame) || rawFrame < 0) {
      return bad(`Invalid '${param}.frame_index': expected a non-negative integer.`, `${param}.frame_index`);
    }
    const frame = rawFrame;
    if (frame > lastFrame) {
      return bad(
        `Invalid '${param}.frame_index': expected at most ${lastFrame} (the last frame of ${seconds} s at ${FPS} fps), but got ${frame}.`,
        `${param}.frame_index`,
      );
    }
    if (item.type !== 'image' && item.type !== 'video') {
      return { ok: false, error: invalidValue(`${param}.type`, String(item.type), ['image', 'video']) };
    }
    const file = files.find((f) => f.file.filename === item.file_name);
    if (typeof item.file_name !== 'string' || file === undefined) {
      return bad(
        `Invalid '${param}.file_name': no 'files' part is named ${JSON.stringify(item.file_name)}.`,
        `${param}.file_name`,
      );
    }
    const crop = checkCrop(item.crop_bounds, `${param}.crop_bounds`);
    if (crop !== null) return { ok: false, error: crop };
    const bytes = file.file.bytes;
    if (item.type === 'image') {
      if (probeImage(bytes) === null) {
        return bad(
          `Invalid file '${file.file.filename}': expected a JPEG, PNG or WebP image.`,
          `${param}.file_name`,
        );
      }
      if (frame === 0) firstFrame = Buffer.from(bytes);
      continue;
    }
    const duration = mp4DurationSeconds(bytes);
    if (duration === null) {
      return bad(`Invalid file '${file.file.filename}': expected an MP4 video.`, `${param}.file_name`);
    }
    if (duration > MAX_INPUT_VIDEO_SECONDS + 0.05) {
      return bad(
        `Invalid file '${file.file.filename}': an input video may be at most ${MAX_INPUT_VIDEO_SECONDS} seconds long, but it is ${duration.toFixed(2)} seconds.`,
        `${param}.file_name`,
      );
    }
  }
  const kinds = items.map((item) => (item as { type: string }).type);
  const images = kinds.filter((k) => k === 'image').length;
  const videos = kinds.length - images;
  if (videos > 1 || (videos === 1 && images > 0) || images > MAX_IMAGES) {
    return bad(
      `Invalid 'inpaint_items': a job starts from up to ${MAX_IMAGES} images or one video, but got ${images} image(s) and ${videos} video(s).`,
      'inpaint_items',
    );
  }
  return { ok: true, value: { items, firstFrame } };
}

function createJob(state: EmulatorState, req: VideosRequest): RouteResult {
  const parsed = req.body();
  if (!parsed.ok) return err(parsed.error);
  const body = parsed.value;
  const known = ['prompt', 'model', 'width', 'height', 'n_seconds', 'n_variants', 'inpaint_items', 'files'];
  const unknown = Object.keys(body.fields).find((k) => !known.includes(k));
  if (unknown !== undefined) return err(unknownParameter(unknown));
  const { prompt, model } = body.fields;
  if (prompt === undefined) return err(missingParameter('prompt'));
  if (typeof prompt !== 'string' || prompt === '')
    return err(invalidType('prompt', 'a non-empty string', prompt));
  if (model === undefined) return err(missingParameter('model'));
  if (typeof model !== 'string' || model === '')
    return err(invalidType('model', 'a non-empty string', model));
  // The spec requires width and height; a documented curl sends neither, so both default to 480 (as PyRIT's do).
  const width = intField(body, 'width', 480);
  if (!width.ok) return err(width.error);
  const height = intField(body, 'height', 480);
  if (!height.ok) return err(height.error);
  const size = `${width.value}x${height.value}`;
  if (!SIZES.includes(size)) {
    return err(
      invalidRequest(
        `Invalid resolution '${size}'. Supported resolutions are: ${quoteList(SIZES)}.`,
        'width',
        'invalid_value',
      ),
    );
  }
  // Limits by resolution class (the short side): 1080p takes 10 s and one variant, 720p two variants.
  const short = Math.min(width.value!, height.value!);
  const isHd = short >= 1080;
  const seconds = intField(body, 'n_seconds', 5);
  if (!seconds.ok) return err(seconds.error);
  const badSeconds = isHd
    ? range('n_seconds', seconds.value!, 1, 10, ' at 1080p')
    : range('n_seconds', seconds.value!, 1, 20);
  if (badSeconds !== null) return err(badSeconds);
  const variants = intField(body, 'n_variants', 1);
  if (!variants.ok) return err(variants.error);
  const maxVariants = isHd ? 1 : short >= 720 ? 2 : 4;
  const badVariants = range('n_variants', variants.value!, 1, maxVariants, ` at ${size}`);
  if (badVariants !== null) return err(badVariants);
  const inpaint = checkInpaint(body, seconds.value!);
  if (!inpaint.ok) return err(inpaint.error);

  const refusal = quotaRefusal(state, model, (limit) => `Limit ${limit}`);
  if (refusal !== null) return err(refusal);
  if (findWord(prompt, state.faults.moderationRejectWords) !== undefined) {
    return err(
      invalidRequest('Your request was blocked by our moderation system.', 'prompt', 'moderation_blocked'),
    );
  }
  state.quota.take(state.clock.now());
  const job = state.createJob({
    api: 'sora1',
    model,
    prompt,
    size,
    seconds: seconds.value!,
    newSeconds: seconds.value! * variants.value!,
    segments: [{ prompt, seconds: seconds.value! }],
    remixedFrom: null,
    audio: false,
    variants: variants.value!,
    ...(inpaint.value !== undefined && { inpaintItems: inpaint.value.items }),
    ...(inpaint.value?.firstFrame !== undefined && { reference: inpaint.value.firstFrame }),
    // Two jobs run at once; a third waits in the queue for a slot (A6).
    throttledMs: slotWait(state.jobs.all('sora1', 'asc'), state.clock.now(), SORA1_CONCURRENCY),
  });
  return {
    kind: 'json',
    status: 200,
    // The service answers a create with the job as created (queued), however long the response takes.
    body: jobBody(state, job, job.createdAt),
    headers: rateLimitHeaders(state),
    videoId: job.id,
    created: true,
  };
}

function listJobs(state: EmulatorState, query: URLSearchParams): RouteResult {
  const rawLimit = query.get('limit') ?? '10';
  if (!/^\d+$/.test(rawLimit)) return err(invalidType('limit', 'an integer', rawLimit));
  const limit = Number(rawLimit);
  const bad = range('limit', limit, 1, 100);
  if (bad !== null) return err(bad);
  const statuses = query
    .get('statuses')
    ?.split(',')
    .filter((s) => s !== '');
  const unknownStatus = statuses?.find((s) => !STATUSES.includes(s));
  if (unknownStatus !== undefined) return err(invalidValue('statuses', unknownStatus, STATUSES));
  state.refresh();
  let jobs = state.jobs
    .all('sora1', 'desc')
    .filter((j) => liveJob(state, j.id) !== undefined)
    .filter((j) => statuses === undefined || statuses.includes(sora1View(state, j).status));
  for (const cursor of ['after', 'before'] as const) {
    const id = query.get(cursor);
    if (id === null) continue;
    const at = jobs.findIndex((j) => j.id === id);
    if (at < 0)
      return err(
        invalidRequest(`Invalid '${cursor}': no job with id '${id}' exists.`, cursor, 'invalid_value'),
      );
    jobs = cursor === 'after' ? jobs.slice(at + 1) : jobs.slice(0, at);
  }
  // `before` pages towards newer jobs: keep the ones nearest the cursor.
  const page =
    query.get('before') !== null && query.get('after') === null ? jobs.slice(-limit) : jobs.slice(0, limit);
  return {
    kind: 'json',
    status: 200,
    body: {
      object: 'list',
      data: page.map((j) => jobBody(state, j)),
      has_more: page.length < jobs.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    },
  };
}

function getJob(state: EmulatorState, id: string): RouteResult {
  const job = liveJob(state, id);
  if (job === undefined) return err(jobNotFound(id), id);
  return { kind: 'json', status: 200, body: jobBody(state, job), videoId: id };
}

function deleteJob(state: EmulatorState, id: string): RouteResult {
  if (liveJob(state, id) === undefined) return err(jobNotFound(id), id);
  state.forget(id);
  return { kind: 'empty', status: 204, videoId: id };
}

function succeededGeneration(
  state: EmulatorState,
  id: string,
): { job: VideoJob; finishedAt: number } | undefined {
  const gen = state.generation(id);
  if (gen === undefined || liveJob(state, gen.job.id) === undefined) return undefined;
  const { status, finishedAt } = sora1View(state, gen.job);
  return status === 'succeeded' && finishedAt !== null ? { job: gen.job, finishedAt } : undefined;
}

function getGeneration(state: EmulatorState, id: string): RouteResult {
  const gen = succeededGeneration(state, id);
  if (gen === undefined) return err(generationNotFound(id), id);
  return { kind: 'json', status: 200, body: generationBody(state, gen.job, id, gen.finishedAt), videoId: id };
}

async function generationContent(
  state: EmulatorState,
  id: string,
  what: 'video' | 'thumbnail',
  req: VideosRequest,
  headOnly: boolean,
): Promise<RouteResult> {
  const quality = req.query.get('quality');
  if (what === 'video' && quality !== null && quality !== 'high' && quality !== 'low') {
    return err(invalidValue('quality', quality, ['high', 'low']), id);
  }
  const gen = succeededGeneration(state, id);
  if (gen === undefined) return err(generationNotFound(id), id);
  const assets = await state.assets(gen.job, id);
  const bytes = what === 'video' ? assets.video : assets.thumbnail;
  const headers: Record<string, string> = {
    'last-modified': new Date(gen.finishedAt).toUTCString(),
    'accept-ranges': 'bytes',
  };
  const contentType = what === 'video' ? 'video/mp4' : 'image/jpg';
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.range ?? '');
  if (m !== null && (m[1] !== '' || m[2] !== '')) {
    const start = m[1] === '' ? Math.max(0, bytes.length - Number(m[2])) : Number(m[1]);
    const end = m[1] === '' || m[2] === '' ? bytes.length - 1 : Math.min(Number(m[2]), bytes.length - 1);
    if (start > end || start >= bytes.length) {
      return err(
        {
          status: 416,
          message: 'Range Not Satisfiable',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
        id,
      );
    }
    headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    return {
      kind: 'binary',
      status: 206,
      contentType,
      bytes: bytes.subarray(start, end + 1),
      headers,
      videoId: id,
      headOnly,
    };
  }
  return { kind: 'binary', contentType, bytes, headers, videoId: id, headOnly };
}
