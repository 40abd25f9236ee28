/**
 * The pure half of the Veo adapter (vertex-veo-provider.ts): a `GenerationRequest` as the parameters of
 * `@google/genai`'s `generateVideos`, and a finished operation as a `JobState`. No network, no SDK client:
 * table-tested on their own (spec/successor-apis.md sections 1.2-1.5).
 */
import { VideoGenerationReferenceType } from '@google/genai';
import type { GenerateVideosOperation, GenerateVideosParameters, Image } from '@google/genai';
import type { GenerationRequest, ImageInput, JobFailureKind, JobState, VariantOutput } from './job-api.ts';

/** Pixels (as the manifest says them) -> Veo's aspect ratio and resolution tier. */
export const VEO_SIZES: Readonly<
  Record<string, { readonly aspectRatio: string; readonly resolution: string }>
> = {
  '1280x720': { aspectRatio: '16:9', resolution: '720p' },
  '720x1280': { aspectRatio: '9:16', resolution: '720p' },
  '1920x1080': { aspectRatio: '16:9', resolution: '1080p' },
  '1080x1920': { aspectRatio: '9:16', resolution: '1080p' },
  '3840x2160': { aspectRatio: '16:9', resolution: '4k' },
  '2160x3840': { aspectRatio: '9:16', resolution: '4k' },
};

export const VEO_SECONDS: readonly number[] = [4, 6, 8];
/** Vertex's documented maximum of `sampleCount` for Veo 3 (no 3.1-specific figure is published). */
export const VEO_MAX_VARIANTS = 4;
export const VEO_MAX_REFERENCE_IMAGES = 3;

function image(input: ImageInput): Image {
  return { imageBytes: Buffer.from(input.bytes).toString('base64'), mimeType: input.mime };
}

/**
 * The parameters for `ai.models.generateVideos`, or every reason the request cannot be sent as it is (the
 * manifest analysis refuses these first; this is the adapter's last word before money is spent).
 */
export function veoParameters(
  request: GenerationRequest,
): { ok: true; value: GenerateVideosParameters } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const size = VEO_SIZES[request.size];
  if (size === undefined)
    problems.push(`size ${request.size} is not one Veo renders (${Object.keys(VEO_SIZES).join(', ')})`);
  if (!VEO_SECONDS.includes(request.seconds))
    problems.push(`seconds must be one of ${VEO_SECONDS.join(', ')}, but was ${request.seconds}`);
  const refs = request.referenceImages;
  if (request.seconds !== 8 && (refs.length > 0 || (size !== undefined && size.resolution !== '720p')))
    problems.push('Veo takes only 8 seconds at 1080p and 4k and with reference images');
  if (!Number.isInteger(request.variants) || request.variants < 1 || request.variants > VEO_MAX_VARIANTS)
    problems.push(`variants must be 1 to ${VEO_MAX_VARIANTS}, but was ${request.variants}`);
  if (refs.length > VEO_MAX_REFERENCE_IMAGES)
    problems.push(`Veo takes at most ${VEO_MAX_REFERENCE_IMAGES} reference images, but got ${refs.length}`);
  let first: ImageInput | undefined;
  let last: ImageInput | undefined;
  for (const frame of request.frames) {
    if (frame.at === 'first' && first === undefined) first = frame.image;
    else if (frame.at === 'last' && last === undefined) last = frame.image;
    else problems.push(`Veo takes one first and one last frame, not a frame at ${String(frame.at)}`);
    if (frame.crop !== undefined) problems.push('Veo takes whole frames, not crop bounds');
  }
  if (last !== undefined && first === undefined) problems.push('a last frame needs a first frame on Veo');
  if (refs.length > 0 && (first !== undefined || last !== undefined))
    problems.push('Veo takes reference images or first/last frames, not both in one shot');
  if (request.inputVideo !== undefined) problems.push('Veo takes no input video');
  if (request.parent !== undefined)
    problems.push(`Veo on Vertex cannot ${request.parent.relation} a video through this adapter`);
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    value: {
      model: request.model,
      source: {
        ...(request.prompt !== '' && { prompt: request.prompt }),
        ...(first !== undefined && { image: image(first) }),
      },
      config: {
        numberOfVideos: request.variants,
        durationSeconds: request.seconds,
        aspectRatio: size!.aspectRatio,
        resolution: size!.resolution,
        // Vertex requires the field for Veo 3 models; Veo 3.1 is an audio model, so unsaid means on.
        generateAudio: request.audio ?? true,
        ...(last !== undefined && { lastFrame: image(last) }),
        ...(refs.length > 0 && {
          referenceImages: refs.map((r) => ({
            image: image(r),
            referenceType: VideoGenerationReferenceType.ASSET,
          })),
        }),
        ...(request.negativePrompt !== undefined && { negativePrompt: request.negativePrompt }),
        ...(request.seed !== undefined && { seed: request.seed }),
      },
    },
  };
}

/** google.rpc.Code numbers -> their names, for the failure's `code`. */
const RPC_CODES: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/** Google's words for a Responsible-AI refusal, in an error message rather than a field. */
export const RAI_MESSAGE = /responsible ai|usage guidelines|safety (filter|guidelines)/i;

function failureKindOfRpc(code: string, message: string): JobFailureKind {
  if (RAI_MESSAGE.test(message)) return 'safety';
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'PERMISSION_DENIED':
      return 'invalid';
    case 'RESOURCE_EXHAUSTED':
      return 'quota';
    case 'NOT_FOUND':
      return 'gone';
    default:
      return 'upstream';
  }
}

/**
 * An operation as the SDK parsed it -> the normalised state. Vertex has no queued/running distinction and
 * no progress figure: anything not done is `running`. A done operation with videos succeeded (those that
 * were filtered are simply missing); one with none failed: `safety` naming the service's reasons when
 * `raiMediaFilteredCount` says they were filtered (section 1.5), else an empty answer, also `safety` (the
 * interface's rule for an empty success).
 */
export function veoJobState(operation: GenerateVideosOperation): JobState {
  if (operation.done !== true) return { state: 'running', progress: null, pollAfterMs: null };
  const error = operation.error;
  if (error !== undefined) {
    const raw = error['code'];
    const code =
      typeof raw === 'number'
        ? (RPC_CODES[raw] ?? `rpc code ${raw}`)
        : typeof raw === 'string'
          ? raw
          : 'UNKNOWN';
    const message = typeof error['message'] === 'string' ? error['message'] : 'no message';
    return {
      state: 'failed',
      kind: failureKindOfRpc(code, message),
      code,
      message: `Veo failed it: ${message}`,
    };
  }
  const response = operation.response;
  const outputs: VariantOutput[] = [];
  for (const generated of response?.generatedVideos ?? []) {
    const video = generated.video;
    const index = outputs.length;
    if (video?.videoBytes !== undefined && video.videoBytes !== '') {
      const bytes = new Uint8Array(Buffer.from(video.videoBytes, 'base64'));
      outputs.push({
        index,
        video: { kind: 'inline', bytes, mime: video.mimeType ?? 'video/mp4', asset: 'video' },
      });
    } else if (video?.uri !== undefined && video.uri !== '') {
      outputs.push({ index, video: { kind: 'gcs', uri: video.uri, asset: 'video' } });
    }
  }
  if (outputs.length > 0) return { state: 'succeeded', outputs, completedAt: null, expiresAt: null };
  const filtered = response?.raiMediaFilteredCount ?? 0;
  const reasons = response?.raiMediaFilteredReasons ?? [];
  if (filtered > 0 || reasons.length > 0) {
    return {
      state: 'failed',
      kind: 'safety',
      code: 'rai_media_filtered',
      message:
        `Veo filtered ${filtered} video${filtered === 1 ? '' : 's'} (Responsible AI)` +
        (reasons.length > 0 ? `: ${reasons.join(' | ')}` : ', without giving a reason'),
    };
  }
  return {
    state: 'failed',
    kind: 'safety',
    code: 'no_videos',
    message: 'Veo finished the operation without any video and without saying why',
  };
}
