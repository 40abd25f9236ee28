/**
 * Veo 3.1 on Vertex AI (Gemini Enterprise Agent Platform), as `@google/genai` with `vertexai: true` speaks it
 * (successor-apis.md section 1.7): `POST /v1beta1/projects/{p}/locations/{l}/publishers/google/models/
 * {model}:predictLongRunning` starts an operation named `projects/…/models/{model}/operations/{uuid}`, and
 * `POST {that name up to /operations}:fetchPredictOperation` with `{operationName}` polls it; a plain GET of
 * the operation name is a 404, as on Vertex. Finished videos come inline as `bytesBase64Encoded` (or as
 * `gcsUri` under a `storageUri`), safety-filtered ones as `raiMediaFilteredCount`/`raiMediaFilteredReasons`
 * directly under `response`. Express mode (an API key, no project in the path) is served too.
 * Errors use Google's envelope `{"error":{"code","message","status"}}`.
 */
import { findWord } from './emulator-faults.ts';
import type { EmulatorState, RouteResult } from './emulator-state.ts';
import { probeImage } from './image-probe.ts';
import { viewJob } from './job-store.ts';
import type { PartnerRequest } from './partner-api.ts';
import { json, jsonObject, quotaWait } from './partner-api.ts';

/** Model -> the resolutions it renders (4k only on the full and fast models; 8 s only at 1080p and 4k). */
const MODELS: Readonly<Record<string, readonly string[]>> = {
  'veo-3.1-generate-001': ['720p', '1080p', '4k'],
  'veo-3.1-fast-generate-001': ['720p', '1080p', '4k'],
  'veo-3.1-lite-generate-001': ['720p', '1080p'],
};
const SIZES: Readonly<Record<string, string>> = {
  '16:9/720p': '1280x720',
  '9:16/720p': '720x1280',
  '16:9/1080p': '1920x1080',
  '9:16/1080p': '1080x1920',
  '16:9/4k': '3840x2160',
  '9:16/4k': '2160x3840',
};
const RESPONSE_TYPE = 'type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse';
/** Where a default express-mode (API key) operation lives: the key's project is not in the path. */
const EXPRESS_PREFIX = 'projects/express-mode/locations/us-central1/';

type GoogleStatus = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'RESOURCE_EXHAUSTED';
const CODES: Readonly<Record<GoogleStatus, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
};

function googleError(status: GoogleStatus, message: string, details?: unknown[]): RouteResult {
  const code = CODES[status];
  return json(code, { error: { code, message, status, ...(details !== undefined && { details }) } });
}

const invalid = (message: string): RouteResult => googleError('INVALID_ARGUMENT', message);

const PATH =
  /^\/(v1beta1|v1)\/((?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\/([^/:]+)):(predictLongRunning|fetchPredictOperation)$/;

export async function routeVertex(state: EmulatorState, req: PartnerRequest): Promise<RouteResult> {
  const key = req.headers['x-goog-api-key'];
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  const credential =
    bearer ?? (typeof key === 'string' ? key : undefined) ?? req.query.get('key') ?? undefined;
  if (credential === undefined) {
    return googleError(
      'UNAUTHENTICATED',
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    );
  }
  // Never echo the credential: secrets stay out of logs and messages.
  if (!req.accepts(credential)) {
    return googleError(
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    );
  }
  const m = PATH.exec(req.path);
  if (m === null || req.method !== 'POST') {
    // What Vertex answers for a GET of an operation name, among others (vercel/ai#12003).
    return googleError('NOT_FOUND', `The requested URL ${req.path} was not found on this server.`);
  }
  const resource = m[2]!;
  const model = m[3]!;
  const full = resource.startsWith('projects/') ? resource : `${EXPRESS_PREFIX}${resource}`;
  if (MODELS[model] === undefined) {
    return googleError(
      'NOT_FOUND',
      `Publisher Model \`${full}\` was not found or your project does not have access to it. Please ensure you are using a valid model version.`,
    );
  }
  const body = jsonObject(req.raw);
  if (body === undefined) return invalid('Invalid JSON payload received. Expected a JSON object.');
  return m[4] === 'predictLongRunning'
    ? start(state, full, model, body)
    : fetchOperation(state, resource, body);
}

interface ImageInput {
  readonly bytes?: Buffer;
}

/** `{bytesBase64Encoded|gcsUri, mimeType}`; a message when it is not an image the service would take. */
function readImage(value: unknown, field: string): ImageInput | string {
  if (typeof value !== 'object' || value === null) return `${field}: expected an image object.`;
  const v = value as Record<string, unknown>;
  if (typeof v.gcsUri === 'string') {
    // The emulator cannot read a bucket: the job is made, the placeholder just does not show the image.
    return v.gcsUri.startsWith('gs://') ? {} : `${field}.gcsUri must start with gs://.`;
  }
  if (typeof v.bytesBase64Encoded !== 'string')
    return `${field}: one of bytesBase64Encoded or gcsUri is required.`;
  const bytes = Buffer.from(v.bytesBase64Encoded, 'base64');
  if (probeImage(bytes) === null)
    return `${field}: the image could not be decoded (expected PNG, JPEG or WebP).`;
  if (v.mimeType !== undefined && !['image/png', 'image/jpeg', 'image/webp'].includes(v.mimeType as string))
    return `${field}.mimeType: unsupported mime type ${JSON.stringify(v.mimeType)}.`;
  return { bytes };
}

function start(
  state: EmulatorState,
  prefixAndModel: string,
  model: string,
  body: Record<string, unknown>,
): RouteResult {
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length !== 1 || typeof instances[0] !== 'object')
    return invalid('instances: exactly one instance is required.');
  const inst = instances[0] as Record<string, unknown>;
  const params = (
    typeof body.parameters === 'object' && body.parameters !== null ? body.parameters : {}
  ) as Record<string, unknown>;
  const prompt = inst.prompt;
  if (prompt !== undefined && typeof prompt !== 'string')
    return invalid('instances[0].prompt must be a string.');
  if ((prompt ?? '') === '' && inst.image === undefined)
    return invalid('A text prompt is required when no image is provided.');
  if (inst.video !== undefined) return invalid('Video extension is not supported by this emulator.');
  const first = inst.image === undefined ? undefined : readImage(inst.image, 'instances[0].image');
  if (typeof first === 'string') return invalid(first);
  if (inst.lastFrame !== undefined && first === undefined)
    return invalid('instances[0].lastFrame requires instances[0].image (the first frame).');
  const last = inst.lastFrame === undefined ? undefined : readImage(inst.lastFrame, 'instances[0].lastFrame');
  if (typeof last === 'string') return invalid(last);
  const refs: ImageInput[] = [];
  if (inst.referenceImages !== undefined) {
    if (!Array.isArray(inst.referenceImages) || inst.referenceImages.length > 3)
      return invalid('instances[0].referenceImages: at most 3 reference images are supported.');
    for (const [i, r] of (inst.referenceImages as unknown[]).entries()) {
      const ref = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      const type = typeof ref.referenceType === 'string' ? ref.referenceType.toLowerCase() : 'asset';
      if (type !== 'asset')
        return invalid(
          `instances[0].referenceImages[${i}].referenceType: only 'asset' is supported by ${model}.`,
        );
      const image = readImage(ref.image, `instances[0].referenceImages[${i}].image`);
      if (typeof image === 'string') return invalid(image);
      refs.push(image);
    }
    if (refs.length > 0 && (first !== undefined || last !== undefined))
      return invalid('referenceImages cannot be combined with image or lastFrame.');
  }

  const aspect = params.aspectRatio ?? '16:9';
  if (aspect !== '16:9' && aspect !== '9:16')
    return invalid(
      `parameters.aspectRatio: unsupported value ${JSON.stringify(aspect)}; use '16:9' or '9:16'.`,
    );
  const resolution = params.resolution ?? '720p';
  if (typeof resolution !== 'string' || !MODELS[model]!.includes(resolution))
    return invalid(
      `parameters.resolution: ${JSON.stringify(resolution)} is not supported by ${model}; use one of ${MODELS[model]!.join(', ')}.`,
    );
  // The SDK sends a number; the REST guide shows strings. Both are taken.
  const rawDuration = params.durationSeconds ?? 8;
  const seconds =
    typeof rawDuration === 'string' && /^\d+$/.test(rawDuration) ? Number(rawDuration) : rawDuration;
  if (seconds !== 4 && seconds !== 6 && seconds !== 8)
    return invalid(
      `parameters.durationSeconds: ${JSON.stringify(rawDuration)} is not supported; use 4, 6 or 8.`,
    );
  if (seconds !== 8 && (resolution !== '720p' || refs.length > 0))
    return invalid('parameters.durationSeconds must be 8 at 1080p and 4k and with reference images.');
  const samples = params.sampleCount ?? 1;
  if (!Number.isInteger(samples) || (samples as number) < 1 || (samples as number) > 4)
    return invalid('parameters.sampleCount must be an integer from 1 to 4.');
  const seed = params.seed;
  if (
    seed !== undefined &&
    (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 4294967295)
  )
    return invalid('parameters.seed must be an integer from 0 to 4294967295.');
  if (params.negativePrompt !== undefined && typeof params.negativePrompt !== 'string')
    return invalid('parameters.negativePrompt must be a string.');
  const audio = params.generateAudio ?? false;
  if (typeof audio !== 'boolean') return invalid('parameters.generateAudio must be a boolean.');
  const storageUri = params.storageUri;
  if (storageUri !== undefined && (typeof storageUri !== 'string' || !storageUri.startsWith('gs://')))
    return invalid('parameters.storageUri must be a gs:// URI.');

  const wait = quotaWait(state);
  if (wait !== null) {
    return googleError(
      'RESOURCE_EXHAUSTED',
      `Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: ${model}. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.`,
      [
        {
          '@type': 'type.googleapis.com/google.rpc.RetryInfo',
          retryDelay: `${(wait.ms / 1000).toFixed(3)}s`,
        },
      ],
    );
  }
  const text = typeof prompt === 'string' ? prompt : '';
  if (findWord(text, state.faults.moderationRejectWords) !== undefined) {
    return invalid(
      "The prompt could not be submitted. This prompt contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 17301594",
    );
  }
  state.quota.take(state.clock.now());
  const reference = first?.bytes ?? refs.find((r) => r.bytes !== undefined)?.bytes;
  const job = state.createJob({
    api: 'vertex',
    model,
    prompt: text,
    size: SIZES[`${aspect}/${resolution}`]!,
    seconds,
    newSeconds: seconds,
    segments: [{ prompt: text, seconds }],
    remixedFrom: null,
    audio,
    variants: samples as number,
    ...(reference !== undefined && { reference }),
    extra: { resource: prefixAndModel, ...(storageUri !== undefined && { storageUri }) },
  });
  const name = `${prefixAndModel}/operations/${job.id}`;
  return { kind: 'json', status: 200, body: { name }, videoId: job.id, created: true };
}

async function fetchOperation(
  state: EmulatorState,
  resource: string,
  body: Record<string, unknown>,
): Promise<RouteResult> {
  const name = body.operationName;
  if (typeof name !== 'string' || name === '') return invalid('operationName is required.');
  const m = /^(.*)\/operations\/([^/]+)$/.exec(name);
  const job = m === null ? undefined : state.job(m[2]!, 'vertex');
  // The operation must belong to the resource the request is addressed to, as on Vertex.
  const full = resource.startsWith('projects/') ? resource : `${EXPRESS_PREFIX}${resource}`;
  if (job === undefined || m === null || m[1] !== full || job.extra?.resource !== full) {
    return googleError('NOT_FOUND', `Operation ${name} was not found.`);
  }
  const view = viewJob(job, state.clock.now());
  if (view.status === 'queued' || view.status === 'in_progress')
    return { kind: 'json', status: 200, body: { name }, videoId: job.id };
  if (view.status === 'failed' && job.failure?.code === 'moderation_blocked') {
    const n = job.variants;
    return {
      kind: 'json',
      status: 200,
      videoId: job.id,
      body: {
        name,
        done: true,
        response: {
          '@type': RESPONSE_TYPE,
          raiMediaFilteredCount: n,
          raiMediaFilteredReasons: [
            `Veo could not generate ${n} videos because the input prompt contains words that violate Vertex AI's usage guidelines. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 61493863`,
          ],
        },
      },
    };
  }
  if (view.status === 'failed') {
    return {
      kind: 'json',
      status: 200,
      videoId: job.id,
      body: { name, done: true, error: { code: 13, message: 'Internal error encountered.' } },
    };
  }
  const storageUri = job.extra?.storageUri;
  const videos = [];
  for (let i = 0; i < job.variants; i++) {
    if (typeof storageUri === 'string') {
      videos.push({
        gcsUri: `${storageUri.replace(/\/$/, '')}/${job.id}/sample_${i}.mp4`,
        mimeType: 'video/mp4',
      });
    } else {
      const assets = await state.assets(job, i === 0 ? job.id : `${job.id}/${i}`);
      videos.push({ bytesBase64Encoded: assets.video.toString('base64'), mimeType: 'video/mp4' });
    }
  }
  return {
    kind: 'json',
    status: 200,
    videoId: job.id,
    body: { name, done: true, response: { '@type': RESPONSE_TYPE, raiMediaFilteredCount: 0, videos } },
  };
}
