/**
 * The JSON Schemas and the code agree: the committed files are what the code generates, their field lists
 * and enums are the code's own, and a plain JSON Schema validator (no sora-build code) accepts the examples.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../src/config/capabilities.ts';
import { withCapabilityTable } from '../../src/config/capability-table.ts';
import {
  AUTH_MODES,
  CONFIG_FIELDS,
  PROVIDER_FIELDS,
  PROVIDER_TYPES,
  QUOTA_FIELDS,
} from '../../src/config/config-schema.ts';
import type { AuthMode, ProviderType } from '../../src/config/types.ts';
import { DEFAULTS_FIELDS, FITS, MANIFEST_FIELDS, SHOT_FIELDS } from '../../src/manifest/manifest-schema.ts';
import { ASSETS } from '../../src/manifest/types.ts';
import type { Asset, Fit, ShotField } from '../../src/manifest/types.ts';
import { schemaFiles } from '../../src/manifest/write-schemas.ts';
import { REPO } from './helpers.ts';

type Schema = {
  properties: Record<string, Schema>;
  additionalProperties: Schema;
  items: Schema;
  enum: unknown[];
};

const readJson = async (rel: string): Promise<Schema> =>
  JSON.parse(await readFile(path.join(REPO, rel), 'utf8')) as Schema;
const readYaml = async (rel: string): Promise<unknown> => parse(await readFile(path.join(REPO, rel), 'utf8'));

/** Exhaustive records: adding a member to a union fails type checking here until the list below has it too. */
const EVERY_SHOT_FIELD: Record<ShotField, true> = {
  prompt: true,
  model: true,
  size: true,
  seconds: true,
  input_reference: true,
  fit: true,
  remix_of: true,
  extend_of: true,
  output: true,
  assets: true,
  provider: true,
  frames: true,
  input_video: true,
  reference_images: true,
  variants: true,
  negative_prompt: true,
  seed: true,
  audio: true,
};
const EVERY_FIT: Record<Fit, true> = { none: true, cover: true, contain: true };
const EVERY_ASSET: Record<Asset, true> = { video: true, thumbnail: true, spritesheet: true };
const EVERY_PROVIDER_TYPE: Record<ProviderType, true> = {
  emulator: true,
  openai: true,
  'azure-sora1': true,
  'vertex-veo': true,
  runway: true,
  fal: true,
};
const EVERY_AUTH: Record<AuthMode, true> = { 'api-key': true, entra: true };
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('schemas/*.schema.json', () => {
  it('are exactly what the code generates (npx node src/manifest/write-schemas.ts)', async () => {
    for (const [file, schema] of Object.entries(schemaFiles())) {
      expect(await readJson(file), file).toEqual(schema);
    }
  });

  it("the README's table of which model takes what is the capability table's (npx node src/manifest/write-schemas.ts)", async () => {
    const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
    expect(withCapabilityTable(readme) === readme, 'README.md capability table is out of date').toBe(true);
  });

  it("list the code's own manifest fields and enum values", async () => {
    const m = await readJson('schemas/manifest.schema.json');
    const shot = m.properties['shots']!.additionalProperties;
    expect(Object.keys(m.properties)).toEqual(MANIFEST_FIELDS);
    expect(Object.keys(shot.properties)).toEqual(SHOT_FIELDS);
    expect(sorted(SHOT_FIELDS)).toEqual(sorted(Object.keys(EVERY_SHOT_FIELD)));
    expect(Object.keys(m.properties['defaults']!.properties)).toEqual(DEFAULTS_FIELDS);
    expect(shot.properties['fit']!.enum).toEqual(FITS);
    expect(sorted(FITS)).toEqual(sorted(Object.keys(EVERY_FIT)));
    expect(shot.properties['assets']!.items.enum).toEqual(ASSETS);
    expect(sorted(ASSETS)).toEqual(sorted(Object.keys(EVERY_ASSET)));
  });

  it("list the code's own config fields and enum values", async () => {
    const c = await readJson('schemas/config.schema.json');
    const provider = c.properties['providers']!.additionalProperties;
    expect(Object.keys(c.properties)).toEqual(CONFIG_FIELDS);
    expect(Object.keys(provider.properties)).toEqual(PROVIDER_FIELDS);
    expect(Object.keys(provider.properties['quota']!.properties)).toEqual(QUOTA_FIELDS);
    // `pool` is a config type, not an adapter: a pool takes its members' type (src/config/read-pool.ts).
    expect(provider.properties['type']!.enum).toEqual([...PROVIDER_TYPES, 'pool']);
    expect(sorted(PROVIDER_TYPES)).toEqual(sorted(Object.keys(EVERY_PROVIDER_TYPE)));
    expect(sorted(PROVIDER_TYPES)).toEqual(sorted(Object.keys(CAPABILITIES)));
    expect(provider.properties['auth']!.enum).toEqual(AUTH_MODES);
    expect(sorted(AUTH_MODES)).toEqual(sorted(Object.keys(EVERY_AUTH)));
  });

  it('accept the example files, and reject a broken one (checked by plain ajv from the JSON files)', async () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    const manifest = ajv.compile(await readJson('schemas/manifest.schema.json'));
    const config = ajv.compile(await readJson('schemas/config.schema.json'));
    expect(manifest(await readYaml('examples/launch/storyboard.yaml')), JSON.stringify(manifest.errors)).toBe(
      true,
    );
    expect(config(await readYaml('sora.config.yaml')), JSON.stringify(config.errors)).toBe(true);
    expect(config(await readYaml('examples/broken/sora.config.yaml')), JSON.stringify(config.errors)).toBe(
      true,
    );
    expect(manifest(await readYaml('examples/broken/unknown-field.yaml'))).toBe(false);
    expect(config(await readYaml('examples/broken/configs/bad-quota.config.yaml'))).toBe(false);
  });
});
