/**
 * How a shot becomes the input of a fal.ai endpoint (`type: fal`, where a model is an endpoint id). Field
 * names differ per endpoint family (successor-apis.md section 3; the README's fal table lists them):
 *
 * | shot field      | Veo 3.1 (`fal-ai/veo3.1…`)                       | Kling (`fal-ai/kling-video/…`)      |
 * |-----------------|--------------------------------------------------|-------------------------------------|
 * | prompt          | `prompt`                                          | `prompt`                            |
 * | size            | `aspect_ratio` 16:9/9:16 + `resolution` 720p/1080p | `aspect_ratio` 16:9/9:16/1:1        |
 * | seconds         | `duration` "4s"/"6s"/"8s"                         | `duration` "5"/"10"                 |
 * | first frame     | `image_url` (image-to-video), `first_frame_url`   | `start_image_url`                   |
 * | last frame      | `last_frame_url` (first-last-frame-to-video)      | `end_image_url` (v4 image-to-video) |
 * | reference images| `image_urls` (reference-to-video, 1-3)            | —                                   |
 * | audio           | `generate_audio`                                  | —                                   |
 * | negative_prompt | `negative_prompt`                                 | `negative_prompt`                   |
 * | seed            | `seed`                                            | —                                   |
 *
 * Images go inline as data URIs, which fal's endpoints take wherever they take an image URL.
 * `fal-ai/veo3.1` and `fal-ai/veo3.1/fast` name the family: the endpoint is chosen from what the shot gives
 * (no image: text-to-video; a first frame: image-to-video; first and last: first-last-frame-to-video;
 * reference images: reference-to-video), so a storyboard need not know fal's endpoint names.
 */
import type { GenerationRequest, ImageInput } from './job-api.ts';

type Family = 'veo' | 'kling';

interface Endpoint {
  readonly family: Family;
  /** The input field of each frame position this endpoint takes, and whether it must be given. */
  readonly first?: { readonly field: string; readonly required: boolean };
  readonly last?: { readonly field: string; readonly required: boolean };
  /** The list field for reference images (1 to 3). */
  readonly references?: string;
}

const FIRST_FRAME = { field: 'image_url', required: true } as const;
const FIRST_LAST = {
  first: { field: 'first_frame_url', required: true },
  last: { field: 'last_frame_url', required: true },
} as const;

/** Every endpoint this adapter knows, with its image fields. */
export const FAL_ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  'fal-ai/veo3.1': { family: 'veo' },
  'fal-ai/veo3.1/fast': { family: 'veo' },
  'fal-ai/veo3.1/image-to-video': { family: 'veo', first: FIRST_FRAME },
  'fal-ai/veo3.1/fast/image-to-video': { family: 'veo', first: FIRST_FRAME },
  'fal-ai/veo3.1/first-last-frame-to-video': { family: 'veo', ...FIRST_LAST },
  'fal-ai/veo3.1/fast/first-last-frame-to-video': { family: 'veo', ...FIRST_LAST },
  'fal-ai/veo3.1/reference-to-video': { family: 'veo', references: 'image_urls' },
  'fal-ai/kling-video/v2.1/master/text-to-video': { family: 'kling' },
  'fal-ai/kling-video/v4/image-to-video': {
    family: 'kling',
    first: { field: 'start_image_url', required: true },
    last: { field: 'end_image_url', required: false },
  },
};

/** The Veo families whose endpoint is chosen from the shot. */
const VEO_FAMILIES = new Set(['fal-ai/veo3.1', 'fal-ai/veo3.1/fast']);

const VEO_SIZES: Readonly<Record<string, { aspect: string; resolution: string }>> = {
  '1280x720': { aspect: '16:9', resolution: '720p' },
  '720x1280': { aspect: '9:16', resolution: '720p' },
  '1920x1080': { aspect: '16:9', resolution: '1080p' },
  '1080x1920': { aspect: '9:16', resolution: '1080p' },
};
const KLING_SIZES: Readonly<Record<string, string>> = {
  '1920x1080': '16:9',
  '1080x1920': '9:16',
  '1080x1080': '1:1',
};

export type FalInput =
  | { readonly ok: true; readonly endpointId: string; readonly input: Record<string, unknown> }
  | { readonly ok: false; readonly message: string };

/** The endpoint to submit to and its input, or why the shot cannot go to `model` on fal. */
export function falInput(model: string, request: GenerationRequest): FalInput {
  const refuse = (message: string): FalInput => ({ ok: false, message });
  const endpointId = chooseEndpoint(model, request);
  const endpoint = FAL_ENDPOINTS[endpointId];
  if (endpoint === undefined) {
    return refuse(
      `unknown fal endpoint ${JSON.stringify(model)}; this adapter knows ${Object.keys(FAL_ENDPOINTS).join(', ')}`,
    );
  }
  if (request.inputVideo !== undefined) return refuse(`${endpointId} takes no input video`);
  if (request.parent !== undefined) return refuse(`fal cannot ${request.parent.relation} a video`);
  if (request.variants !== 1)
    return refuse(`fal makes one video per request (variants: ${request.variants})`);

  const input: Record<string, unknown> = { prompt: request.prompt };
  for (const frame of request.frames) {
    const slot = frame.at === 'first' ? endpoint.first : frame.at === 'last' ? endpoint.last : undefined;
    if (slot === undefined) {
      return refuse(
        `${endpointId} takes no ${typeof frame.at === 'number' ? `frame ${frame.at}` : `${frame.at} frame`}`,
      );
    }
    input[slot.field] = dataUri(frame.image);
  }
  for (const [at, slot] of [
    ['first', endpoint.first],
    ['last', endpoint.last],
  ] as const) {
    if (slot?.required === true && input[slot.field] === undefined)
      return refuse(`${endpointId} needs a ${at} frame`);
  }
  if (request.referenceImages.length > 0) {
    if (endpoint.references === undefined) return refuse(`${endpointId} takes no reference images`);
    if (request.referenceImages.length > 3) return refuse(`${endpointId} takes at most 3 reference images`);
    input[endpoint.references] = request.referenceImages.map(dataUri);
  } else if (endpoint.references !== undefined) {
    return refuse(`${endpointId} needs 1 to 3 reference images`);
  }
  if (request.negativePrompt !== undefined) input.negative_prompt = request.negativePrompt;

  switch (endpoint.family) {
    case 'veo': {
      const size = VEO_SIZES[request.size];
      if (size === undefined)
        return refuse(`${endpointId} makes ${Object.keys(VEO_SIZES).join(', ')}, not ${request.size}`);
      if (![4, 6, 8].includes(request.seconds))
        return refuse(`${endpointId} makes 4, 6 or 8 seconds, not ${request.seconds}`);
      input.aspect_ratio = size.aspect;
      input.resolution = size.resolution;
      input.duration = `${request.seconds}s`;
      if (request.audio !== undefined) input.generate_audio = request.audio;
      if (request.seed !== undefined) input.seed = request.seed;
      break;
    }
    case 'kling': {
      const aspect = KLING_SIZES[request.size];
      if (aspect === undefined)
        return refuse(`${endpointId} makes ${Object.keys(KLING_SIZES).join(', ')}, not ${request.size}`);
      if (request.seconds !== 5 && request.seconds !== 10)
        return refuse(`${endpointId} makes 5 or 10 seconds, not ${request.seconds}`);
      if (request.audio === true) return refuse(`${endpointId} makes no audio`);
      if (request.seed !== undefined) return refuse(`${endpointId} takes no seed`);
      input.aspect_ratio = aspect;
      input.duration = String(request.seconds);
      break;
    }
  }
  return { ok: true, endpointId, input };
}

/** The endpoint for a Veo family name, from the images the shot gives; any other model is its own endpoint. */
function chooseEndpoint(model: string, request: GenerationRequest): string {
  if (!VEO_FAMILIES.has(model)) return model;
  if (request.referenceImages.length > 0)
    return model === 'fal-ai/veo3.1' ? 'fal-ai/veo3.1/reference-to-video' : `${model}/reference-to-video`;
  const positions = new Set(request.frames.map((f) => f.at));
  if (positions.has('last')) return `${model}/first-last-frame-to-video`;
  if (positions.has('first')) return `${model}/image-to-video`;
  return model;
}

function dataUri(image: ImageInput): string {
  return `data:${image.mime};base64,${Buffer.from(image.bytes).toString('base64')}`;
}
