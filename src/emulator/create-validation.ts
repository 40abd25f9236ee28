/**
 * Checks create, remix and extend bodies the way the service does: one error at a time, in the service's
 * words where public responses show them (openai-videos-contract.md section 3), `param` naming the field.
 */
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import type { ApiError } from './api-error.ts';
import {
  invalidRequest,
  invalidType,
  invalidValue,
  missingParameter,
  quoteList,
  unknownParameter,
} from './api-error.ts';
import { probeImage } from './image-probe.ts';
import type { ParsedBody } from './request-body.ts';
import { UploadedFile, isPlainObject } from './request-body.ts';

/** The spec's VideoModel enum. */
export const MODELS = [
  'sora-2',
  'sora-2-pro',
  'sora-2-2025-10-06',
  'sora-2-pro-2025-10-06',
  'sora-2-2025-12-08',
];
export const SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024'];
/** Sizes the non-pro models render (the service's guidance; pro models take every size). */
const BASE_SIZES = ['720x1280', '1280x720'];
export const SECONDS = ['4', '8', '12'];
/** Extension segment lengths, per the extend body's own description. */
export const EXTEND_SECONDS = ['4', '8', '12', '16', '20'];
const PROMPT_MAX = 32_000;

export interface CreateInput {
  readonly model: string;
  readonly prompt: string;
  readonly size: string;
  readonly seconds: number;
  /** The reference image's type, size and bytes, when one was given (the placeholder's first frame). */
  readonly reference: {
    readonly mime: string;
    readonly width: number;
    readonly height: number;
    readonly bytes: Buffer;
  } | null;
}

export interface ExtendInput {
  readonly prompt: string;
  readonly seconds: number;
  readonly parentId: string;
}

function checkKeys(
  fields: Record<string, unknown>,
  allowed: readonly string[],
  prefix = '',
): ApiError | null {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) return unknownParameter(`${prefix}${key}`);
  }
  return null;
}

export function checkPrompt(value: unknown): Result<string, ApiError> {
  if (value === undefined) return fail(missingParameter('prompt'));
  if (typeof value !== 'string') return fail(invalidType('prompt', 'a string', value));
  if (value.length === 0) {
    return fail(
      invalidRequest(
        "Invalid 'prompt': string too short. Expected a string with minimum length 1, but got an empty string instead.",
        'prompt',
        'string_below_min_length',
      ),
    );
  }
  if (value.length > PROMPT_MAX) {
    return fail(
      invalidRequest(
        `Invalid 'prompt': string too long. Expected a string with maximum length ${PROMPT_MAX}, but got a string with length ${value.length} instead.`,
        'prompt',
        'string_above_max_length',
      ),
    );
  }
  return ok(value);
}

function checkEnum(param: string, value: unknown, supported: readonly string[]): Result<string, ApiError> {
  if (typeof value !== 'string')
    return fail(invalidType(param, `one of ${quoteList(supported, 'or')}`, value));
  if (!supported.includes(value)) return fail(invalidValue(param, value, supported));
  return ok(value);
}

const INPAINT_MISMATCH = 'Inpaint image must match the requested width and height';

function checkReference(
  value: unknown,
  kind: ParsedBody['kind'],
  size: string,
): Result<CreateInput['reference'], ApiError> {
  if (value === undefined) return ok(null);
  let bytes: Uint8Array;
  if (value instanceof UploadedFile) {
    bytes = value.bytes;
  } else if (isPlainObject(value)) {
    const bad = checkKeys(value, ['image_url', 'file_id'], 'input_reference.');
    if (bad !== null) return fail(bad);
    const { image_url: imageUrl, file_id: fileId } = value;
    if ((imageUrl === undefined) === (fileId === undefined)) {
      return fail(
        invalidRequest(
          "Provide exactly one of 'image_url' or 'file_id' for 'input_reference'.",
          'input_reference',
          'invalid_value',
        ),
      );
    }
    if (fileId !== undefined) {
      if (typeof fileId !== 'string') return fail(invalidType('input_reference.file_id', 'a string', fileId));
      // The emulator has no Files API, so no file id can exist; the Files API words it this way.
      return fail({
        status: 404,
        message: `No such File object: ${fileId}`,
        type: 'invalid_request_error',
        param: 'input_reference.file_id',
        code: null,
      });
    }
    if (typeof imageUrl !== 'string')
      return fail(invalidType('input_reference.image_url', 'a string', imageUrl));
    const m = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(imageUrl);
    if (m === null) {
      return fail(
        invalidRequest(
          "The emulator is offline and cannot fetch 'input_reference.image_url'; pass the image as a base64 data URL or upload it as a file.",
          'input_reference.image_url',
          'invalid_value',
        ),
      );
    }
    bytes =
      m[2] === undefined
        ? Buffer.from(decodeURIComponent(m[3] ?? ''), 'latin1')
        : Buffer.from(m[3] ?? '', 'base64');
  } else if (kind === 'multipart') {
    return fail(invalidType('input_reference', 'a file', value));
  } else {
    return fail(invalidType('input_reference', 'an object', value));
  }
  const info = probeImage(bytes);
  if (info === null) {
    return fail(
      invalidRequest(
        `Invalid file format for 'input_reference'. Supported formats are: ${quoteList(['image/jpeg', 'image/png', 'image/webp'])}.`,
        'input_reference',
        'invalid_value',
      ),
    );
  }
  if (`${info.width}x${info.height}` !== size) return fail(invalidRequest(INPAINT_MISMATCH));
  return ok({ ...info, bytes: Buffer.from(bytes) });
}

/** `POST /videos`. Defaults: model `sora-2`, seconds `"4"`, size `720x1280` (spec). */
/**
 * Where the request came in: on Azure's path `model` carries a deployment name. With `deployments`
 * (deployment -> model) unknown names get Azure's 404; without, any name is accepted as a deployment of the
 * model it names (`sora-2-pro` when it contains `pro`, else `sora-2`).
 */
export interface CreateContext {
  readonly azure: boolean;
  readonly deployments?: Readonly<Record<string, string>> | undefined;
}

function resolveModel(
  value: unknown,
  context: CreateContext,
): Result<{ name: string; model: string }, ApiError> {
  if (!context.azure || typeof value !== 'string') {
    const model = checkEnum('model', value, MODELS);
    return model.ok ? ok({ name: model.value, model: model.value }) : model;
  }
  const mapped = context.deployments === undefined ? undefined : context.deployments[value];
  if (
    context.deployments !== undefined &&
    (mapped === undefined || !Object.hasOwn(context.deployments, value))
  ) {
    return fail({
      status: 404,
      message: `The API deployment '${value}' for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.`,
      type: 'video_generation_user_error',
      param: null,
      code: null,
    });
  }
  const model = mapped ?? (MODELS.includes(value) ? value : value.includes('pro') ? 'sora-2-pro' : 'sora-2');
  return ok({ name: value, model });
}

export function validateCreate(
  body: ParsedBody,
  context: CreateContext = { azure: false },
): Result<CreateInput, ApiError> {
  const f = body.fields;
  const bad = checkKeys(f, ['prompt', 'model', 'seconds', 'size', 'input_reference']);
  if (bad !== null) return fail(bad);
  const prompt = checkPrompt(f.prompt);
  if (!prompt.ok) return prompt;
  const model = resolveModel(f.model ?? 'sora-2', context);
  if (!model.ok) return model;
  const size = checkEnum('size', f.size ?? '720x1280', SIZES);
  if (!size.ok) return size;
  if (!model.value.model.includes('-pro') && !BASE_SIZES.includes(size.value)) {
    return fail(
      invalidRequest(
        `Invalid value: '${size.value}'. Supported values for model '${model.value.name}' are: ${quoteList(BASE_SIZES)}.`,
        'size',
        'invalid_value',
      ),
    );
  }
  const seconds = checkEnum('seconds', f.seconds ?? '4', SECONDS);
  if (!seconds.ok) return seconds;
  const reference = checkReference(f.input_reference, body.kind, size.value);
  if (!reference.ok) return reference;
  return ok({
    model: model.value.name,
    prompt: prompt.value,
    size: size.value,
    seconds: Number(seconds.value),
    reference: reference.value,
  });
}

/** `POST /videos/{id}/remix`: only a prompt. */
export function validateRemix(body: ParsedBody): Result<string, ApiError> {
  const bad = checkKeys(body.fields, ['prompt']);
  if (bad !== null) return fail(bad);
  return checkPrompt(body.fields.prompt);
}

/** `POST /videos/extensions`: `{prompt, seconds, video: {id}}`, all required. */
export function validateExtend(body: ParsedBody): Result<ExtendInput, ApiError> {
  const f = body.fields;
  const bad = checkKeys(f, ['prompt', 'seconds', 'video']);
  if (bad !== null) return fail(bad);
  if (f.video === undefined) return fail(missingParameter('video'));
  if (f.video instanceof UploadedFile) {
    return fail(
      invalidRequest(
        'The emulator extends only its own videos: pass \'video\' as {"id": "video_..."} of a completed video.',
        'video',
        'invalid_value',
      ),
    );
  }
  if (!isPlainObject(f.video)) return fail(invalidType('video', 'an object', f.video));
  const badVideo = checkKeys(f.video, ['id'], 'video.');
  if (badVideo !== null) return fail(badVideo);
  const id = f.video.id;
  if (id === undefined) return fail(missingParameter('video.id'));
  if (typeof id !== 'string') return fail(invalidType('video.id', 'a string', id));
  const prompt = checkPrompt(f.prompt);
  if (!prompt.ok) return prompt;
  if (f.seconds === undefined) return fail(missingParameter('seconds'));
  const seconds = checkEnum('seconds', f.seconds, EXTEND_SECONDS);
  if (!seconds.ok) return seconds;
  return ok({ prompt: prompt.value, seconds: Number(seconds.value), parentId: id });
}
