/**
 * The manifest's own schema, in code: the field lists the analyzer walks and the JSON Schema that ajv
 * checks and editors complete with are both built from the tables below, so they cannot drift apart.
 * `schemas/manifest.schema.json` is this object written out (`npx node src/manifest/write-schemas.ts`);
 * a test fails when the file and the code disagree.
 */
import { ASSETS } from './types.ts';
import type { ProviderType } from '../config/types.ts';
import type { Fit, ShotField } from './types.ts';

/** `^[a-z0-9][a-z0-9._-]*$`: safe as a file name and in a URL, unambiguous on case-insensitive disks. */
export const SHOT_ID_PATTERN = '^[a-z0-9][a-z0-9._-]*$';
/** `WxH` with positive whole numbers, e.g. `1280x720`. */
export const SIZE_PATTERN = '^[1-9][0-9]*x[1-9][0-9]*$';
/** Seconds written as a string (`"8"`): the API itself takes a string. */
export const SECONDS_STRING_PATTERN = '^[1-9][0-9]*$';
/** Names usable as `${name}`. */
export const VAR_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';
/** Names usable as `${env:NAME}`. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** The API's limit on a prompt, in characters (code points), after interpolation. */
export const MAX_PROMPT_LENGTH = 32_000;

export const FITS: readonly Fit[] = ['none', 'cover', 'contain'];

/** Every field a shot may have, in the order the README documents them. */
export const SHOT_FIELDS: readonly ShotField[] = [
  'prompt',
  'model',
  'size',
  'seconds',
  'input_reference',
  'fit',
  'remix_of',
  'extend_of',
  'output',
  'assets',
  'provider',
  'frames',
  'input_video',
  'reference_images',
  'variants',
  'negative_prompt',
  'seed',
  'audio',
];

export type DefaultsField =
  | 'model'
  | 'size'
  | 'seconds'
  | 'fit'
  | 'assets'
  | 'provider'
  | 'variants'
  | 'negative_prompt'
  | 'seed'
  | 'audio';
/** Fields `defaults:` may give; each applies to every shot that does not set it (remix/extend: see analysis). */
export const DEFAULTS_FIELDS: readonly DefaultsField[] = [
  'model',
  'size',
  'seconds',
  'fit',
  'assets',
  'provider',
  'variants',
  'negative_prompt',
  'seed',
  'audio',
];

/** The placeholder an `output` pattern takes for the variant number (1…N). */
export const VARIANT_PLACEHOLDER = '{n}';
/** The most a seed may be: every API that takes one takes a 32-bit unsigned integer. */
export const MAX_SEED = 4_294_967_295;

export type ManifestField = 'version' | 'defaults' | 'vars' | 'shots';
export const MANIFEST_FIELDS: readonly ManifestField[] = ['version', 'defaults', 'vars', 'shots'];

/** Built-in defaults, the API's own (spec: model `sora-2`, size `720x1280`, seconds `"4"`). */
export const BUILTIN_DEFAULTS = { model: 'sora-2', size: '720x1280', seconds: 4, fit: 'none' } as const;

/** The built-in model depends on the API: Azure's Sora 1 jobs API has one model, `sora`. */
export function builtinModel(providerType: ProviderType | undefined): string {
  return providerType === 'azure-sora1' ? 'sora' : BUILTIN_DEFAULTS.model;
}

type JsonSchema = Readonly<Record<string, unknown>>;

const cropSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    ['left', 'top', 'right', 'bottom'].map((side) => [
      side,
      {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: `The ${side} edge, as a fraction of the source (0-1).`,
      },
    ]),
  ),
  description:
    'The part of the source to use, as fractions 0-1 (defaults: left 0, top 0, right 1, bottom 1); sent to models that take a crop (Sora 1).',
};

const fieldSchemas: Readonly<Record<ShotField, JsonSchema>> = {
  prompt: {
    type: 'string',
    description: `What to generate. \${name} inserts a variable from vars:, \${env:NAME} an environment variable, $\${ a literal \${. At most ${MAX_PROMPT_LENGTH} characters after interpolation.`,
  },
  model: {
    type: 'string',
    minLength: 1,
    description:
      "Model name, checked against the provider type's capability table. Default: defaults.model, else sora-2.",
  },
  size: {
    type: 'string',
    pattern: SIZE_PATTERN,
    description: 'WxH, e.g. 1280x720 or 720x1280. Default: defaults.size, else 720x1280.',
  },
  seconds: {
    type: ['integer', 'string'],
    minimum: 1,
    pattern: SECONDS_STRING_PATTERN,
    description:
      'Duration in whole seconds, 8 or "8". For extend_of: the seconds added. Default: defaults.seconds, else 4.',
  },
  input_reference: {
    type: 'string',
    minLength: 1,
    description:
      'Path of the first-frame image (JPEG, PNG or WebP by its bytes), relative to this file, inside the project.',
  },
  fit: {
    enum: FITS,
    description:
      'How a reference image of another size is resized before upload: none (the default: sizes must match), cover or contain.',
  },
  remix_of: {
    type: 'string',
    pattern: SHOT_ID_PATTERN,
    description: 'Shot whose video this one remixes; inherits model, size and seconds.',
  },
  extend_of: {
    type: 'string',
    pattern: SHOT_ID_PATTERN,
    description: 'Shot whose video this one extends; inherits model and size; seconds is the length added.',
  },
  output: {
    type: 'string',
    minLength: 1,
    description: `Output file relative to out_dir, ending in .mp4. Default: <shot id>.mp4, or <shot id>/1.mp4 … <shot id>/N.mp4 with variants; with variants, a pattern holding ${VARIANT_PLACEHOLDER} (the variant number, 1…N).`,
  },
  assets: {
    type: 'array',
    items: { enum: ASSETS },
    uniqueItems: true,
    description: 'What to download: video (always), thumbnail, spritesheet.',
  },
  provider: {
    type: 'string',
    minLength: 1,
    description:
      "The providers.<name> of sora.config.yaml that builds this shot (its capability table checks the shot). Default: the parent shot's, defaults.provider, else --provider or the config's provider.",
  },
  frames: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['image', 'at'],
      properties: {
        image: {
          type: 'string',
          minLength: 1,
          description:
            'Path of the image (JPEG, PNG or WebP by its bytes), relative to this file, inside the project.',
        },
        at: {
          type: ['string', 'integer'],
          minimum: 0,
          description: 'Where the image goes: first, last, or a 0-based frame index.',
        },
        crop: cropSchema,
        fit: {
          enum: FITS,
          description: "How an image of another size is resized before upload. Default: the shot's fit.",
        },
      },
    },
    description:
      'Images at positions of the video, e.g. [{image: a.png, at: first}, {image: b.png, at: last}]. input_reference is the short form of a first frame.',
  },
  input_video: {
    type: ['string', 'object'],
    minLength: 1,
    additionalProperties: false,
    required: ['video'],
    properties: {
      video: {
        type: 'string',
        minLength: 1,
        description: 'Path of the video (MP4 or QuickTime by its bytes).',
      },
      at: { type: 'integer', minimum: 0, description: 'The frame index it is placed at. Default: 0.' },
      crop: cropSchema,
    },
    description:
      'A video the generation starts from (Sora 1: one video of at most 5 s): a path, or {video, at, crop}.',
  },
  reference_images: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', minLength: 1 },
    uniqueItems: true,
    description:
      'Style/asset anchor images (Veo: up to three), paths relative to this file, sent as they are.',
  },
  variants: {
    type: 'integer',
    minimum: 1,
    description: `Samples from one request, each kept and pinned. Outputs: <shot>/1.mp4 … <shot>/N.mp4, or the output pattern with ${VARIANT_PLACEHOLDER}. Default: 1.`,
  },
  negative_prompt: {
    type: 'string',
    minLength: 1,
    description: 'What the video should not show; ${name} inserts a variable as in prompt.',
  },
  seed: {
    type: 'integer',
    minimum: 0,
    maximum: MAX_SEED,
    description: 'Random seed, where the model takes one (best effort: it never guarantees the same video).',
  },
  audio: {
    type: 'boolean',
    description:
      "Generate a sound track (true) or not (false), where the model lets you choose. Default: the model's.",
  },
};

/** The JSON Schema of a manifest (draft-07, which ajv and editors both speak). */
export function manifestJsonSchema(): JsonSchema {
  const pick = (fields: readonly string[]): Record<string, JsonSchema> =>
    Object.fromEntries(fields.map((f) => [f, fieldSchemas[f as ShotField]]));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/sora-build/sora-build/schemas/manifest.schema.json',
    title: 'sora-build storyboard manifest',
    type: 'object',
    additionalProperties: false,
    required: ['version', 'shots'],
    properties: {
      version: { const: 1, description: 'Manifest format version; always 1.' },
      defaults: {
        type: 'object',
        additionalProperties: false,
        properties: pick(DEFAULTS_FIELDS),
        description: 'Applied to every shot that does not say otherwise.',
      },
      vars: {
        type: 'object',
        propertyNames: { pattern: VAR_NAME_PATTERN },
        additionalProperties: { type: ['string', 'number'] },
        description: 'Text inserted by ${name} in prompts (taken literally: no interpolation inside).',
      },
      shots: {
        type: 'object',
        propertyNames: { pattern: SHOT_ID_PATTERN },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['prompt'],
          properties: pick(SHOT_FIELDS),
        },
        description: 'The shots, by id.',
      },
    },
  };
}
