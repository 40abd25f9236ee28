/**
 * The `gateway` fault: the Videos API answered the way OpenAI-compatible gateways answer it when another
 * model is behind them (spec/successor-apis.md section 2), so a client is tested against their quirks:
 *
 * - `litellm`: ids are `video_` + standard base64 of `litellm:custom_llm_provider:gemini;model_id:M;video_id:U`
 *   (so `+`, `/`, `=` occur), and a read echoes another id (the model is `None` there); status `processing`
 *   while queued or rendering; no `progress`; no `prompt`.
 * - `new-api`: ids `task_` + 32 characters; status `unknown` (its NOT_START) for the first half of the queue,
 *   then the OpenAI four; `task_id` beside `id`.
 * - `upper-case`: new-api's internal task states as a one-api fork sends them: `NOT_START`, `QUEUED`,
 *   `IN_PROGRESS`, `SUCCESS`, `FAILURE`, and `progress` as a `"40%"` string.
 *
 * In every shape remix is refused, there is no extensions route, and a moderated job (Veo's safety filter
 * behind the gateway) reports `completed` with no error: only its content request fails, with a 500
 * (`litellm`, "No response data") or a 400 (`new-api`, `upper-case`). Jobs are the emulator's own; only the
 * wire changes, so a shape can be switched on and off at run time.
 */
import type { ApiError } from './api-error.ts';
import { invalidRequest } from './api-error.ts';
import type { GatewayShape } from './emulator-faults.ts';
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import type { VideoJob } from './job-store.ts';
import { viewJob } from './job-store.ts';
import type { VideosRequest } from './openai-routes.ts';
import { routeVideos } from './openai-routes.ts';

type Shape = Exclude<GatewayShape, 'off'>;

const LITELLM_PREFIX = 'litellm:custom_llm_provider:gemini;model_id:';

/** The id a gateway shows for one of our jobs. `echo`: LiteLLM's reads drop the model from the id. */
export function gatewayId(shape: Shape, job: Pick<VideoJob, 'id' | 'model'>, echo = false): string {
  if (shape === 'litellm') {
    const text = `${LITELLM_PREFIX}${echo ? 'None' : job.model};video_id:${job.id}`;
    return `video_${Buffer.from(text, 'utf8').toString('base64')}`;
  }
  return `task_${job.id.replace(/^video_/, '')}`;
}

/** Our job id for a gateway id of any shape (ids we did not make pass through unchanged). */
export function jobIdOf(wireId: string): string {
  if (wireId.startsWith('task_') && /^task_[0-9a-f]{32}$/.test(wireId)) return `video_${wireId.slice(5)}`;
  if (wireId.startsWith('video_')) {
    const text = Buffer.from(wireId.slice(6), 'base64').toString('utf8');
    const found = /^litellm:custom_llm_provider:[^;]*;model_id:[^;]*;video_id:(.+)$/.exec(text);
    if (found !== null) return found[1]!;
  }
  return wireId;
}

const moderated = (job: VideoJob): boolean => job.failure?.code === 'moderation_blocked';

/** Routes one Videos API request through the gateway shape. */
export async function routeGatewayVideos(
  state: EmulatorState,
  shape: Shape,
  req: VideosRequest,
): Promise<RouteResult | undefined> {
  const parts = req.path.replace(/^\/|\/$/g, '').split('/');
  if (parts[0] !== 'videos') return undefined;
  // Gateways have no extensions route (LiteLLM, new-api): the URL is unknown there.
  if (parts[1] === 'extensions') return undefined;
  let job: VideoJob | undefined;
  if (parts.length >= 2 && parts[1] !== undefined) {
    const wireId = safeDecode(parts[1]);
    job = state.job(jobIdOf(wireId), 'videos');
    parts[1] = encodeURIComponent(job?.id ?? wireId);
  }
  if (parts.length === 3 && parts[2] === 'remix' && req.method === 'POST') {
    return refuse(
      job === undefined ? undefined : gatewayId(shape, job),
      invalidRequest(
        shape === 'litellm'
          ? 'litellm.BadRequestError: Video remix is not supported for provider gemini.'
          : 'remix is not supported for this channel',
        null,
        shape === 'litellm' ? '400' : 'not_supported',
      ),
    );
  }
  if (parts.length === 3 && parts[2] === 'content' && job !== undefined && moderated(job)) {
    if (viewJob(job, state.clock.now()).status === 'failed') {
      return refuse(
        gatewayId(shape, job),
        shape === 'litellm'
          ? {
              status: 500,
              message: 'litellm.APIError: No response data in the video content response',
              type: 'None',
              param: null,
              code: '500',
            }
          : invalidRequest(
              `Task is completed but has no video: ${job.failure?.message ?? ''}`.trim(),
              null,
              'get_content_failed',
            ),
      );
    }
  }
  const routed = await routeVideos(state, { ...req, path: `/${parts.join('/')}` });
  if (routed === undefined) return undefined;
  // The request log names jobs as the client sees them (the id the create answered).
  const named = routed.videoId === undefined ? undefined : state.job(routed.videoId, 'videos');
  const result: RouteResult = named === undefined ? routed : { ...routed, videoId: gatewayId(shape, named) };
  if (result.kind !== 'json') return result;
  const now = state.clock.now();
  const show = (resource: unknown, echo: boolean): unknown => {
    if (typeof resource !== 'object' || resource === null || !('id' in resource)) return resource;
    const own = state.job(String(resource.id), 'videos');
    return own === undefined ? resource : reshape(shape, resource, own, now, echo);
  };
  const body = result.body as Record<string, unknown>;
  const reshaped =
    body.object === 'list' && Array.isArray(body.data)
      ? { ...body, data: body.data.map((v) => show(v, true)) }
      : show(body, req.method === 'GET');
  return { ...result, body: reshaped };
}

function reshape(
  shape: Shape,
  resource: Record<string, unknown>,
  job: VideoJob,
  now: number,
  echo: boolean,
): Record<string, unknown> {
  const view = viewJob(job, now);
  const hidden = view.status === 'failed' && moderated(job);
  const phase = hidden ? 'completed' : view.status;
  // new-api's NOT_START: the first half of the queue, before the task is handed upstream.
  const notStarted = phase === 'queued' && now - job.createdAt < job.queuedMs / 2;
  const out: Record<string, unknown> = {
    ...resource,
    id: gatewayId(shape, job, echo && shape === 'litellm'),
  };
  if (typeof resource.remixed_from_video_id === 'string') {
    const parent = { id: resource.remixed_from_video_id, model: job.model };
    out.remixed_from_video_id = gatewayId(shape, parent);
  }
  if (hidden) {
    out.error = null;
    out.progress = 100;
    // The gateway's own completion time: when the upstream operation ended.
    out.completed_at = Math.floor((job.createdAt + job.queuedMs) / 1000);
  }
  switch (shape) {
    case 'litellm':
      out.status = phase === 'queued' || phase === 'in_progress' ? 'processing' : phase;
      delete out.progress;
      delete out.prompt;
      return out;
    case 'new-api':
      out.status = notStarted ? 'unknown' : phase;
      out.task_id = out.id;
      return out;
    case 'upper-case':
      out.status = notStarted
        ? 'NOT_START'
        : { queued: 'QUEUED', in_progress: 'IN_PROGRESS', completed: 'SUCCESS', failed: 'FAILURE' }[phase];
      out.progress = `${typeof out.progress === 'number' ? out.progress : 0}%`;
      out.task_id = out.id;
      return out;
  }
}

function refuse(videoId: string | undefined, error: ApiError): RouteResult {
  return videoId === undefined ? { kind: 'error', error } : { kind: 'error', error, videoId };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
