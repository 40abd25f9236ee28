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
];

export type DefaultsField = 'model' | 'size' | 'seconds' | 'fit' | 'assets';
/** Fields `defaults:` may give; each applies to every shot that does not set it (remix/extend: see analysis). */
export const DEFAULTS_FIELDS: readonly DefaultsField[] = ['model', 'size', 'seconds', 'fit', 'assets'];

export type ManifestField = 'version' | 'defaults' | 'vars' | 'shots';
export const MANIFEST_FIELDS: readonly ManifestField[] = ['version', 'defaults', 'vars', 'shots'];

/** Built-in defaults, the API's own (spec: model `sora-2`, size `720x1280`, seconds `"4"`). */
export const BUILTIN_DEFAULTS = { model: 'sora-2', size: '720x1280', seconds: 4, fit: 'none' } as const;

/** The built-in model depends on the API: Azure's Sora 1 jobs API has one model, `sora`. */
export function builtinModel(providerType: ProviderType | undefined): string {
  return providerType === 'azure-sora1' ? 'sora' : BUILTIN_DEFAULTS.model;
}

type JsonSchema = Readonly<Record<string, unknown>>;

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
    description: 'Output file relative to out_dir, ending in .mp4. Default: <shot id>.mp4.',
  },
  assets: {
    type: 'array',
    items: { enum: ASSETS },
    uniqueItems: true,
    description: 'What to download: video (always), thumbnail, spritesheet.',
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
