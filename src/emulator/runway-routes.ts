/**
 * Runway's API as `@runwayml/sdk` speaks it (successor-apis.md section 3): `POST /v1/text_to_video` and
 * `/v1/image_to_video` start a task (`{id}`), `GET /v1/tasks/{id}` reads it through PENDING, THROTTLED (waiting
 * for a concurrency slot), RUNNING (`progress` 0..1) to SUCCEEDED (`output`: URLs), FAILED (`failure`,
 * `failureCode`) or CANCELLED, and `DELETE /v1/tasks/{id}` cancels a task still going or deletes a finished
 * one. Every request needs `Authorization: Bearer` and the `X-Runway-Version` the SDK sends. Output URLs are
 * signed and expire 24 h (emulator clock) after the task was read, as Runway's do ("fetch the task again to
 * get fresh URLs"); they are served at `/runway/outputs/…`. Errors are `{"error": "…"}`, with `issues` for a
 * body that does not validate.
 */
import { findWord } from './emulator-faults.ts';
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import { probeImage } from './image-probe.ts';
import type { VideoJob } from './job-store.ts';
import { slotWait, viewJob } from './job-store.ts';
import type { PartnerRequest } from './partner-api.ts';
import {
  checkSigned,
  decodeDataUri,
  json,
  jsonObject,
  quotaWait,
  retryHeaders,
  signedPath,
} from './partner-api.ts';

export const RUNWAY_VERSION = '2024-11-06';
/** Tasks that run at once per key; more wait as THROTTLED. The emulator's choice: Runway's tiers differ. */
export const RUNWAY_CONCURRENCY = 2;
const URL_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface RunwayModel {
  readonly textToVideo: boolean;
  readonly textRatios: readonly string[];
  readonly imageRatios: readonly string[];
  readonly durations: readonly number[];
  /** When the request gives none. */
  readonly defaultDuration: number | undefined;
  readonly positions: readonly ('first' | 'last')[];
  readonly audio: boolean;
  /** Emulator estimate, not a Runway price. */
  readonly creditsPerSecond: number;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const VEO_RATIOS = ['1280:720', '720:1280', '1080:1920', '1920:1080'];
const GEN4_RATIOS = ['1280:720', '720:1280', '1104:832', '960:960', '832:1104', '1584:672'];
const veo = (credits: number): RunwayModel => ({
  textToVideo: true,
  textRatios: VEO_RATIOS,
  imageRatios: VEO_RATIOS,
  durations: [4, 6, 8],
  defaultDuration: 8,
  positions: ['first', 'last'],
  audio: true,
  creditsPerSecond: credits,
});
const MODELS: Readonly<Record<string, RunwayModel>> = {
  'gen4.5': {
    textToVideo: true,
    textRatios: ['1280:720', '720:1280'],
    imageRatios: GEN4_RATIOS,
    durations: range(2, 10),
    defaultDuration: undefined,
    positions: ['first'],
    audio: false,
    creditsPerSecond: 12,
  },
  gen4_turbo: {
    textToVideo: false,
    textRatios: [],
    imageRatios: GEN4_RATIOS,
    durations: range(2, 10),
    defaultDuration: 10,
    positions: ['first'],
    audio: false,
    creditsPerSecond: 5,
  },
  'veo3.1': veo(40),
  'veo3.1_fast': veo(15),
};

const fail = (status: number, error: string, headers?: Record<string, string>): RouteResult =>
  json(status, { error }, headers);

function invalid(path: string, message: string): RouteResult {
  return json(400, { error: 'Validation of body failed', issues: [{ path: [path], message }] });
}

export async function routeRunway(state: EmulatorState, req: PartnerRequest): Promise<RouteResult> {
  const output = /^\/runway\/outputs\/([^/]+)\/(\d+)\.mp4$/.exec(req.path);
  if (output !== null && (req.method === 'GET' || req.method === 'HEAD'))
    return download(state, req, output[1]!, Number(output[2]));
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  // Never echo the key: secrets stay out of logs and messages.
  if (bearer === undefined) return fail(401, 'No API key provided. Pass it as a Bearer token.');
  if (!req.accepts(bearer)) return fail(401, 'The API key you provided is incorrect.');
  const version = req.headers['x-runway-version'];
  if (version !== RUNWAY_VERSION) {
    return fail(
      400,
      version === undefined
        ? 'You must provide a X-Runway-Version header.'
        : `Unsupported X-Runway-Version '${String(version)}'. Supported versions: ${RUNWAY_VERSION}.`,
    );
  }
  if (req.method === 'POST' && req.path === '/v1/text_to_video') return create(state, req, 'text');
  if (req.method === 'POST' && req.path === '/v1/image_to_video') return create(state, req, 'image');
  const task = /^\/v1\/tasks\/([^/]+)$/.exec(req.path);
  if (task !== null && req.method === 'GET') return retrieve(state, req, task[1]!);
  if (task !== null && req.method === 'DELETE') return remove(state, task[1]!);
  return fail(404, `Cannot ${req.method} ${req.path}`);
}

/** The image a `promptImage` URI stands for: decoded from a data URI; https and runway:// URIs are not fetched. */
function promptImageBytes(uri: unknown, path: string): { bytes?: Buffer } | RouteResult {
  if (typeof uri !== 'string' || uri === '') return invalid(path, 'Expected a URI string.');
  if (uri.startsWith('data:')) {
    const bytes = decodeDataUri(uri);
    if (bytes === undefined || probeImage(bytes) === null)
      return invalid(path, 'The data URI is not a base64 JPEG, PNG or WebP image.');
    return { bytes };
  }
  if (/^(https:\/\/|runway:\/\/)/.test(uri)) return {};
  return invalid(path, 'Expected an HTTPS URL, a runway:// upload URI or a data URI.');
}

function create(state: EmulatorState, req: PartnerRequest, kind: 'text' | 'image'): RouteResult {
  const body = jsonObject(req.raw);
  if (body === undefined) return fail(400, 'The request body must be a JSON object.');
  const name = body.model;
  const model = typeof name === 'string' ? MODELS[name] : undefined;
  if (model === undefined || (kind === 'text' && !model.textToVideo)) {
    const names = Object.keys(MODELS).filter((m) => kind === 'image' || MODELS[m]!.textToVideo);
    return invalid('model', `Invalid model ${JSON.stringify(name)}; expected one of ${names.join(', ')}.`);
  }
  const prompt = body.promptText;
  if (kind === 'text' && (typeof prompt !== 'string' || prompt === ''))
    return invalid('promptText', 'Required: a non-empty string.');
  if (prompt !== undefined && (typeof prompt !== 'string' || prompt.length > 1000))
    return invalid('promptText', 'Expected a string of at most 1000 characters.');
  const ratios = kind === 'text' ? model.textRatios : model.imageRatios;
  if (typeof body.ratio !== 'string' || !ratios.includes(body.ratio))
    return invalid('ratio', `Expected one of ${ratios.join(', ')}.`);
  const duration = body.duration ?? model.defaultDuration;
  if (typeof duration !== 'number' || !model.durations.includes(duration))
    return invalid('duration', `Expected one of ${model.durations.join(', ')}.`);
  if (
    body.seed !== undefined &&
    (!Number.isInteger(body.seed) || (body.seed as number) < 0 || (body.seed as number) > 4294967295)
  )
    return invalid('seed', 'Expected an integer from 0 to 4294967295.');
  if (body.audio !== undefined && (!model.audio || typeof body.audio !== 'boolean'))
    return invalid('audio', model.audio ? 'Expected a boolean.' : `${String(name)} does not take audio.`);
  let reference: Buffer | undefined;
  if (kind === 'image') {
    const images =
      typeof body.promptImage === 'string'
        ? [{ uri: body.promptImage, position: 'first' }]
        : body.promptImage;
    if (!Array.isArray(images) || images.length === 0)
      return invalid('promptImage', 'Required: a URI or [{uri, position}].');
    const seen = new Set<unknown>();
    for (const [i, image] of (images as unknown[]).entries()) {
      const item = (typeof image === 'object' && image !== null ? image : {}) as Record<string, unknown>;
      if (!model.positions.includes(item.position as 'first') || seen.has(item.position))
        return invalid(
          `promptImage[${i}].position`,
          `Expected one of ${model.positions.join(', ')}, each at most once.`,
        );
      seen.add(item.position);
      const read = promptImageBytes(item.uri, `promptImage[${i}].uri`);
      if ('kind' in read) return read;
      if (item.position === 'first') reference = read.bytes;
    }
    if (!seen.has('first'))
      return invalid('promptImage', `${String(name)} does not support generating with only a last frame.`);
  }
  const text = typeof prompt === 'string' ? prompt : '';
  const wait = quotaWait(state);
  if (wait !== null) {
    return fail(
      429,
      'You have exceeded the rate limit for this endpoint. Please slow down.',
      retryHeaders(wait),
    );
  }
  if (findWord(text, state.faults.moderationRejectWords) !== undefined)
    return fail(400, 'Your prompt did not pass our content moderation. Please revise it and try again.');
  state.quota.take(state.clock.now());
  const job = state.createJob({
    api: 'runway',
    model: name as string,
    prompt: text,
    size: body.ratio.replace(':', 'x'),
    seconds: duration,
    newSeconds: duration,
    segments: [{ prompt: text, seconds: duration }],
    remixedFrom: null,
    audio: body.audio === true,
    ...(reference !== undefined && { reference }),
    throttledMs: slotWait(state.jobs.all('runway', 'asc'), state.clock.now(), RUNWAY_CONCURRENCY),
    extra: { credits: model.creditsPerSecond * duration },
  });
  return { kind: 'json', status: 200, body: { id: job.id }, videoId: job.id, created: true };
}

function statusOf(
  state: EmulatorState,
  job: VideoJob,
): 'PENDING' | 'THROTTLED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' {
  if (job.cancelledAt !== undefined) return 'CANCELLED';
  const view = viewJob(job, state.clock.now());
  switch (view.status) {
    case 'queued':
      return state.clock.now() - job.createdAt < (job.throttledMs ?? 0) ? 'THROTTLED' : 'PENDING';
    case 'in_progress':
      return 'RUNNING';
    case 'completed':
      return 'SUCCEEDED';
    case 'failed':
      return 'FAILED';
  }
}

function retrieve(state: EmulatorState, req: PartnerRequest, id: string): RouteResult {
  const job = state.job(id, 'runway');
  if (job === undefined) return fail(404, 'Task not found.');
  const status = statusOf(state, job);
  const credits = Number(job.extra?.credits ?? 0);
  const base = { id: job.id, createdAt: new Date(job.createdAt).toISOString(), status };
  let body: Record<string, unknown>;
  switch (status) {
    case 'PENDING':
    case 'THROTTLED':
      body = { ...base, estimatedCost: { credits } };
      break;
    case 'RUNNING':
      body = {
        ...base,
        estimatedCost: { credits },
        progress: viewJob(job, state.clock.now()).progress / 100,
      };
      break;
    case 'SUCCEEDED': {
      const expires = state.clock.now() + URL_LIFETIME_MS;
      body = {
        ...base,
        cost: { credits },
        output: [`${req.origin}${signedPath(state, `/runway/outputs/${job.id}/0.mp4`, expires)}`],
      };
      break;
    }
    case 'FAILED': {
      const safety = job.failure?.code === 'moderation_blocked';
      body = {
        ...base,
        cost: { credits: 0 },
        failure: safety
          ? 'Your prompt or input did not pass our content moderation.'
          : 'An unexpected error occurred while generating your video.',
        failureCode: safety ? 'SAFETY.INPUT.TEXT' : 'INTERNAL.BAD_OUTPUT.CODE01',
      };
      break;
    }
    case 'CANCELLED':
      body = { ...base, cost: { credits: 0 } };
      break;
  }
  return { kind: 'json', status: 200, body, videoId: job.id };
}

function remove(state: EmulatorState, id: string): RouteResult {
  const job = state.job(id, 'runway');
  if (job === undefined) return fail(404, 'Task not found.');
  const status = statusOf(state, job);
  // A task still going is cancelled (and reads CANCELLED); any other is deleted.
  if (status === 'PENDING' || status === 'THROTTLED' || status === 'RUNNING') state.cancel(job);
  else state.forget(id);
  return { kind: 'empty', status: 204, videoId: id };
}

async function download(
  state: EmulatorState,
  req: PartnerRequest,
  id: string,
  index: number,
): Promise<RouteResult> {
  const signed = checkSigned(state, `/runway/outputs/${id}/${index}.mp4`, req.query);
  const job = state.job(id, 'runway');
  if (signed !== 'ok' || job === undefined || index !== 0 || statusOf(state, job) !== 'SUCCEEDED') {
    // What a CDN says for a bad or stale signed URL.
    const message = signed === 'expired' ? 'Request has expired' : 'Access denied';
    return {
      kind: 'binary',
      status: 403,
      contentType: 'application/xml',
      bytes: Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`,
      ),
      videoId: id,
    };
  }
  const assets = await state.assets(job);
  return {
    kind: 'binary',
    contentType: 'video/mp4',
    bytes: assets.video,
    videoId: id,
    headOnly: req.method === 'HEAD',
  };
}
