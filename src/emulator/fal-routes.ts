/**
 * fal.ai's queue as `@fal-ai/client` speaks it (successor-apis.md section 3): `POST {endpoint-id}` submits
 * (`{request_id, response_url, status_url, cancel_url, queue_position}`), `GET {owner}/{alias}/requests/{id}/
 * status` reads IN_QUEUE (with `queue_position`), IN_PROGRESS or COMPLETED, `GET …/requests/{id}` fetches the
 * result and `PUT …/requests/{id}/cancel` cancels. The endpoint's sub-path is dropped after submit
 * (`fal-ai/veo3.1/image-to-video` is polled under `fal-ai/veo3.1`). COMPLETED is not success: a bad input, a
 * content-policy block or a failed run surfaces only when the result is fetched (422 with `detail[]`, or
 * 500). Auth is `Authorization: Key …`. Served under `/fal/queue/…` (the client's `requestMiddleware`
 * rewrites `https://queue.fal.run` to it) and at `/fal/proxy` (the client's `proxyUrl`, real URL in
 * `x-fal-target-url`); result files are at `/fal/files/…`.
 */
import { findWord } from './emulator-faults.ts';
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import { probeImage } from './image-probe.ts';
import type { VideoJob } from './job-store.ts';
import { viewJob } from './job-store.ts';
import type { PartnerRequest } from './partner-api.ts';
import { FAL_QUEUE_HOST, decodeDataUri, json, jsonObject, quotaWait, retryHeaders } from './partner-api.ts';

type Family = 'veo' | 'kling';

interface FalEndpoint {
  readonly family: Family;
  /** Image URL fields: required ones first. */
  readonly images: readonly { readonly field: string; readonly required: boolean; readonly list?: boolean }[];
}

const veo = (images: FalEndpoint['images'] = []): FalEndpoint => ({ family: 'veo', images });
const ENDPOINTS: Readonly<Record<string, FalEndpoint>> = {
  'fal-ai/veo3.1': veo(),
  'fal-ai/veo3.1/fast': veo(),
  'fal-ai/veo3.1/image-to-video': veo([{ field: 'image_url', required: true }]),
  'fal-ai/veo3.1/fast/image-to-video': veo([{ field: 'image_url', required: true }]),
  'fal-ai/veo3.1/first-last-frame-to-video': veo([
    { field: 'first_frame_url', required: true },
    { field: 'last_frame_url', required: true },
  ]),
  'fal-ai/veo3.1/fast/first-last-frame-to-video': veo([
    { field: 'first_frame_url', required: true },
    { field: 'last_frame_url', required: true },
  ]),
  'fal-ai/veo3.1/reference-to-video': veo([{ field: 'image_urls', required: true, list: true }]),
  'fal-ai/kling-video/v2.1/master/text-to-video': { family: 'kling', images: [] },
  'fal-ai/kling-video/v4/image-to-video': {
    family: 'kling',
    images: [
      { field: 'start_image_url', required: true },
      { field: 'end_image_url', required: false },
    ],
  },
};

const SIZES: Readonly<Record<Family, Readonly<Record<string, string>>>> = {
  veo: {
    '16:9/720p': '1280x720',
    '9:16/720p': '720x1280',
    '16:9/1080p': '1920x1080',
    '9:16/1080p': '1080x1920',
  },
  kling: { '16:9': '1920x1080', '9:16': '1080x1920', '1:1': '1080x1080' },
};

interface FieldError {
  readonly loc: readonly string[];
  readonly msg: string;
  readonly type: string;
}

const detail = (status: number, text: string, headers?: Record<string, string>): RouteResult =>
  json(status, { detail: text }, headers);

export async function routeFal(state: EmulatorState, req: PartnerRequest): Promise<RouteResult> {
  const file = /^\/fal\/files\/([^/]+)\/output\.mp4$/.exec(req.path);
  if (file !== null && (req.method === 'GET' || req.method === 'HEAD')) return download(state, req, file[1]!);
  const auth = /^Key\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  // Never echo the key: secrets stay out of logs and messages.
  if (auth === undefined)
    return detail(401, 'Missing authorization header. Use Authorization: Key <FAL_KEY>.');
  if (!req.accepts(auth)) return detail(401, 'Invalid authentication credentials.');
  const parts = req.path.replace(/^\/|\/$/g, '').split('/');
  const base =
    req.headers['x-fal-target-url'] !== undefined ? `https://${FAL_QUEUE_HOST}` : `${req.origin}/fal/queue`;
  if (parts[2] === 'requests' && parts.length >= 4) {
    const app = `${parts[0]}/${parts[1]}`;
    const job = state.job(parts[3]!, 'fal');
    const known = job !== undefined && String(job.extra?.endpoint).split('/').slice(0, 2).join('/') === app;
    const rest = parts.slice(4).join('/');
    if (!known) return detail(404, `Request ${parts[3]} not found.`);
    if (req.method === 'GET' && rest === 'status') return status(state, req, job, `${base}/${app}`);
    if (req.method === 'GET' && rest === '') return result(state, req, job);
    if (req.method === 'PUT' && rest === 'cancel') return cancel(state, job);
    return detail(405, 'Method Not Allowed');
  }
  if (req.method === 'POST') return submit(state, req, parts.join('/'), base);
  return detail(404, 'Not Found');
}

/** The problems fal's input validation would report (at result time), with the job's size and length. */
function validate(
  endpoint: FalEndpoint,
  input: Record<string, unknown>,
): { errors: FieldError[]; size: string; seconds: number; reference?: Buffer } {
  const errors: FieldError[] = [];
  const bad = (field: string, msg: string): void => {
    errors.push({ loc: ['body', field], msg, type: 'value_error' });
  };
  if (typeof input.prompt !== 'string' || input.prompt === '') bad('prompt', 'Field required');
  let reference: Buffer | undefined;
  for (const image of endpoint.images) {
    const value = input[image.field];
    if (value === undefined) {
      if (image.required) bad(image.field, 'Field required');
      continue;
    }
    const uris = image.list === true ? value : [value];
    if (!Array.isArray(uris) || uris.length === 0 || (image.list === true && uris.length > 3)) {
      bad(image.field, 'Expected a list of 1 to 3 image URLs.');
      continue;
    }
    for (const uri of uris) {
      if (typeof uri !== 'string' || !/^(https?:|data:)/.test(uri)) {
        bad(image.field, 'Expected an image URL or data URI.');
        continue;
      }
      const bytes = uri.startsWith('data:') ? decodeDataUri(uri) : undefined;
      if (uri.startsWith('data:') && (bytes === undefined || probeImage(bytes) === null))
        bad(image.field, 'The data URI is not a JPEG, PNG or WebP image.');
      reference ??= bytes;
    }
  }
  let size = '1280x720';
  let seconds = 8;
  if (endpoint.family === 'veo') {
    const aspect = input.aspect_ratio ?? '16:9';
    const resolution = input.resolution ?? '720p';
    const duration = input.duration ?? '8s';
    if (aspect !== '16:9' && aspect !== '9:16' && !(aspect === 'auto' && endpoint.images.length > 0))
      bad('aspect_ratio', "Input should be '16:9' or '9:16'");
    if (resolution !== '720p' && resolution !== '1080p')
      bad('resolution', "Input should be '720p' or '1080p'");
    if (duration !== '4s' && duration !== '6s' && duration !== '8s')
      bad('duration', "Input should be '4s', '6s' or '8s'");
    else seconds = Number(duration.slice(0, -1));
    size = SIZES.veo[`${aspect === '9:16' ? '9:16' : '16:9'}/${resolution === '1080p' ? '1080p' : '720p'}`]!;
  } else {
    const aspect = input.aspect_ratio ?? '16:9';
    const duration = input.duration ?? '5';
    if (typeof aspect !== 'string' || SIZES.kling[aspect] === undefined)
      bad('aspect_ratio', "Input should be '16:9', '9:16' or '1:1'");
    else size = SIZES.kling[aspect]!;
    if (duration !== '5' && duration !== '10') bad('duration', "Input should be '5' or '10'");
    else seconds = Number(duration);
  }
  if (input.generate_audio !== undefined && typeof input.generate_audio !== 'boolean')
    bad('generate_audio', 'Input should be a valid boolean');
  if (input.seed !== undefined && !Number.isInteger(input.seed))
    bad('seed', 'Input should be a valid integer');
  return { errors, size, seconds, ...(reference !== undefined && { reference }) };
}

function submit(state: EmulatorState, req: PartnerRequest, endpointId: string, base: string): RouteResult {
  const endpoint = ENDPOINTS[endpointId];
  if (endpoint === undefined) return detail(404, `Application '${endpointId}' not found.`);
  const input = jsonObject(req.raw);
  if (input === undefined) return detail(422, 'The request body must be a JSON object.');
  const wait = quotaWait(state);
  if (wait !== null)
    return detail(
      429,
      'Rate limit exceeded: too many concurrent requests. Please retry later.',
      retryHeaders(wait),
    );
  state.quota.take(state.clock.now());
  const checked = validate(endpoint, input);
  const prompt = typeof input.prompt === 'string' ? input.prompt : '';
  const blocked = findWord(prompt, state.faults.moderationRejectWords) !== undefined;
  // Bad input is accepted into the queue and fails at once: fal reports it when the result is fetched.
  const rejected = checked.errors.length > 0 || blocked;
  const job = state.createJob({
    api: 'fal',
    model: endpointId,
    prompt,
    size: checked.size,
    seconds: checked.seconds,
    newSeconds: rejected ? 0 : checked.seconds,
    segments: [{ prompt, seconds: checked.seconds }],
    remixedFrom: null,
    audio: endpoint.family === 'veo' && input.generate_audio !== false,
    ...(checked.reference !== undefined && { reference: checked.reference }),
    extra: {
      endpoint: endpointId,
      ...(checked.errors.length > 0 && { errors: checked.errors }),
      ...(blocked && { blocked: true }),
      ...(typeof input.seed === 'number' && { seed: input.seed }),
    },
  });
  const app = endpointId.split('/').slice(0, 2).join('/');
  return {
    kind: 'json',
    status: 200,
    body: { status: 'IN_QUEUE', ...links(job, `${base}/${app}`), queue_position: queuePosition(state, job) },
    headers: { 'x-fal-request-id': job.id },
    videoId: job.id,
    created: true,
  };
}

function links(job: VideoJob, appBase: string): Record<string, string> {
  const url = `${appBase}/requests/${job.id}`;
  return { request_id: job.id, response_url: url, status_url: `${url}/status`, cancel_url: `${url}/cancel` };
}

/** How many fal requests are ahead of this one in the queue. */
function queuePosition(state: EmulatorState, job: VideoJob): number {
  const now = state.clock.now();
  return state.jobs
    .all('fal', 'asc')
    .filter((j) => j.seq < job.seq && j.cancelledAt === undefined && viewJob(j, now).status === 'queued')
    .length;
}

function finished(state: EmulatorState, job: VideoJob): boolean {
  const status = viewJob(job, state.clock.now()).status;
  return job.cancelledAt !== undefined || status === 'completed' || status === 'failed';
}

function status(state: EmulatorState, req: PartnerRequest, job: VideoJob, appBase: string): RouteResult {
  const view = viewJob(job, state.clock.now());
  const logs = req.query.get('logs') === '1' ? [] : null;
  const common = { ...links(job, appBase), logs };
  let body: Record<string, unknown>;
  if (finished(state, job)) {
    body = { status: 'COMPLETED', ...common, metrics: { inference_time: job.renderMs / 1000 } };
  } else if (view.status === 'queued') {
    body = { status: 'IN_QUEUE', ...common, queue_position: queuePosition(state, job) };
  } else {
    body = { status: 'IN_PROGRESS', ...common };
  }
  return { kind: 'json', status: 200, body, headers: { 'x-fal-request-id': job.id }, videoId: job.id };
}

async function result(state: EmulatorState, req: PartnerRequest, job: VideoJob): Promise<RouteResult> {
  const headers = { 'x-fal-request-id': job.id };
  const answer = (status: number, body: unknown): RouteResult => ({
    kind: 'json',
    status,
    body,
    headers,
    videoId: job.id,
  });
  if (!finished(state, job)) return answer(400, { detail: 'Request is still in progress' });
  if (job.cancelledAt !== undefined) return answer(400, { detail: 'Request was cancelled' });
  const errors = job.extra?.errors;
  if (Array.isArray(errors)) return answer(422, { detail: errors });
  if (job.extra?.blocked === true || job.failure?.code === 'moderation_blocked') {
    return answer(422, {
      detail: [
        {
          loc: ['body', 'prompt'],
          msg: 'The content could not be processed because it contained material flagged by a content checker.',
          type: 'content_policy_violation',
          url: 'https://docs.fal.ai/errors#content_policy_violation',
        },
      ],
    });
  }
  if (job.failure !== null) return answer(500, { detail: 'Internal error while generating the video.' });
  const assets = await state.assets(job);
  return answer(200, {
    video: {
      url: `${req.origin}/fal/files/${job.id}/output.mp4`,
      content_type: 'video/mp4',
      file_name: 'output.mp4',
      file_size: assets.video.length,
    },
    ...(typeof job.extra?.seed === 'number' && { seed: job.extra.seed }),
  });
}

function cancel(state: EmulatorState, job: VideoJob): RouteResult {
  if (finished(state, job))
    return { kind: 'json', status: 400, body: { status: 'ALREADY_COMPLETED' }, videoId: job.id };
  state.cancel(job);
  return { kind: 'json', status: 202, body: { status: 'CANCELLATION_REQUESTED' }, videoId: job.id };
}

async function download(state: EmulatorState, req: PartnerRequest, id: string): Promise<RouteResult> {
  const job = state.job(id, 'fal');
  if (
    job === undefined ||
    job.cancelledAt !== undefined ||
    viewJob(job, state.clock.now()).status !== 'completed'
  )
    return detail(404, 'File not found.');
  const assets = await state.assets(job);
  return {
    kind: 'binary',
    contentType: 'video/mp4',
    bytes: assets.video,
    videoId: id,
    headOnly: req.method === 'HEAD',
  };
}
