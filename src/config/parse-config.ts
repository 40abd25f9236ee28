/**
 * The slow half of `loadConfig` (load-config.ts): parses `sora.config.yaml` with positions, checks it against
 * `schemas/config.schema.json` and then by rules a schema cannot say (URLs, which fields a provider type
 * takes, that the chosen provider exists). Kept apart so that the YAML parser and the schema validator load
 * only when a config must really be read (about 50 ms of start-up otherwise).
 */
import { apiType } from './capabilities.ts';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { isMap } from 'yaml';
import type { ParsedNode } from 'yaml';
import type { Diagnostic, Location, SourceFile } from '../core/diagnostic.ts';
import { isBadPointer, pointerOf, schemaDiagnostics } from '../manifest/schema-diagnostics.ts';
import { entriesOf, parseYaml, rangeOfNode, resolveNode } from '../manifest/yaml-document.ts';
import type { YamlDocument } from '../manifest/yaml-document.ts';
import {
  CONFIG_AJV_OPTIONS,
  CONTAINER_NAME_PATTERN,
  configJsonSchema,
  DEFAULT_CACHE_DIR,
  DEFAULT_MANIFEST,
  DEFAULT_OUT_DIR,
  DEFAULT_PROVIDER_NAME,
  PROVIDER_NAME_PATTERN,
  defaultQuota,
} from './config-schema.ts';
import { BUILTIN_LOCATION, builtinEmulator, chooseProvider, emulatorPricing } from './load-config.ts';
import type { ConfigLoad, LoadConfigOptions } from './load-config.ts';
import { readPools } from './read-pool.ts';
import type { PendingPool } from './read-pool.ts';
import type { AuthMode, EmulatedApi, ProviderConfig, ProviderType } from './types.ts';
import { readRemoteCache } from './remote-cache-config.ts';

let validateConfig: ValidateFunction | undefined;
/**
 * The config schema's validator: the standalone code `npm run prepare` generated beside the compiled copy of
 * this file (scripts/precompile-validators.js), else compiled now (running from the TypeScript sources).
 */
async function configValidator(): Promise<ValidateFunction> {
  if (validateConfig !== undefined) return validateConfig;
  const precompiled = './config-validator.cjs';
  try {
    validateConfig = ((await import(precompiled)) as { default: ValidateFunction }).default;
  } catch {
    const { Ajv } = await import('ajv');
    validateConfig = new Ajv(CONFIG_AJV_OPTIONS).compile(configJsonSchema());
  }
  return validateConfig;
}

const SCHEMA_WORDS = {
  rootNoun: 'the config',
  containerNouns: {
    providers: 'provider',
    deployments: 'the deployment of model',
    pricing: 'the price of model',
  },
  keyNouns: { providers: 'provider name' },
  patternWords: {
    [PROVIDER_NAME_PATTERN]: 'letters, digits, `.`, `_` and `-`, starting with a letter or digit',
    [CONTAINER_NAME_PATTERN]: '3-63 lowercase letters, digits and single hyphens (Azure container names)',
  },
} as const;

/** Parses and checks the text of the config file `configFile` (problems are added to `diagnostics`). */
export async function parseConfig(input: {
  readonly configFile: string;
  readonly contents: string;
  readonly root: string;
  readonly rootDescription: string;
  readonly options: LoadConfigOptions;
  readonly diagnostics: Diagnostic[];
}): Promise<ConfigLoad> {
  const { configFile, contents, root, rootDescription, options, diagnostics } = input;
  const file: SourceFile = { path: configFile, contents };
  const parsed = parseYaml(file);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.doc === undefined) {
    return {
      config: undefined,
      root,
      rootDescription,
      providerType: undefined,
      manifest: undefined,
      diagnostics,
    };
  }
  const doc = parsed.doc;
  const validate = await configValidator();
  validate(parsed.value);
  const schema = schemaDiagnostics(validate.errors, doc, file, SCHEMA_WORDS);
  diagnostics.push(...schema.diagnostics);
  const bad = schema.badPointers;
  const loc = (node: ParsedNode | null | undefined): Location => ({
    file,
    range: rangeOfNode(node) ?? { offset: 0, length: 0 },
  });

  const top = resolveNode(doc, doc.contents);
  if (!isMap(top)) {
    return {
      config: undefined,
      root,
      rootDescription,
      providerType: undefined,
      manifest: undefined,
      diagnostics,
    };
  }
  const topEntries = entriesOf(top);
  const str = (name: string): { value: string; node: ParsedNode } | undefined => {
    const pair = topEntries.get(name);
    const node = resolveNode(doc, pair?.value);
    if (pair === undefined || node === undefined || isBadPointer(bad, `/${name}`)) return undefined;
    return { value: String(node.toJS(doc)), node };
  };

  const providers = new Map<string, ProviderConfig>();
  /** Providers defined but invalid: choosing one is not a second error. */
  const brokenProviders = new Set<string>();
  const providersNode = resolveNode(doc, topEntries.get('providers')?.value);
  const pools: PendingPool[] = [];
  if (isMap(providersNode) && !isBadPointer(bad, '/providers')) {
    for (const [name, pair] of entriesOf(providersNode)) {
      const value = resolveNode(doc, pair.value);
      // Pools name other providers: read once every provider is known (read-pool.ts).
      if (isMap(value) && resolveNode(doc, entriesOf(value).get('type')?.value)?.toJS(doc) === 'pool') {
        if (!isBadPointer(bad, pointerOf('providers', name))) {
          pools.push({ name, keyNode: pair.key as ParsedNode, node: value });
        } else brokenProviders.add(name);
        continue;
      }
      const provider = readProvider(
        doc,
        name,
        pair.key as ParsedNode,
        resolveNode(doc, pair.value),
        bad,
        diagnostics,
        loc,
      );
      if (provider === undefined) brokenProviders.add(name);
      else providers.set(name, provider);
    }
  }
  // The emulator is always there, so `--provider emulator` works in any project.
  if (!providers.has(DEFAULT_PROVIDER_NAME) && !brokenProviders.has(DEFAULT_PROVIDER_NAME)) {
    providers.set(DEFAULT_PROVIDER_NAME, builtinEmulator(BUILTIN_LOCATION));
  }
  readPools({ doc, pools, providers, broken: brokenProviders, bad, diagnostics, loc });

  const providerField = str('provider');
  const providerFieldBad = topEntries.has('provider') && providerField === undefined;
  let chosen: ProviderConfig | undefined;
  if (options.provider === undefined && providerFieldBad) {
    chosen = undefined;
  } else if (
    options.provider === undefined &&
    providerField !== undefined &&
    brokenProviders.has(providerField.value)
  ) {
    chosen = undefined;
  } else if (options.provider !== undefined && brokenProviders.has(options.provider)) {
    chosen = undefined;
  } else {
    chosen = chooseProvider(
      providers,
      options.provider,
      providerField === undefined ? undefined : { ...providerField, location: loc(providerField.node) },
      diagnostics,
    );
  }

  const dir = (name: string, fallback: string): string => path.resolve(root, str(name)?.value ?? fallback);
  const written = (name: string): Location | undefined => {
    const node = str(name)?.node;
    return node === undefined ? undefined : loc(node);
  };
  const outDirAt = written('out_dir');
  const cacheDirAt = written('cache_dir');
  const manifestEntry = str('manifest');
  const remoteCache = readRemoteCache({
    doc,
    cacheNode: topEntries.get('cache')?.value as ParsedNode | undefined,
    bad,
    diagnostics,
    loc,
  });
  const hasError = diagnostics.some((d) => d.severity === 'error');
  return {
    config:
      hasError || chosen === undefined
        ? undefined
        : {
            path: configFile,
            root,
            provider: chosen,
            providers,
            outDir: dir('out_dir', DEFAULT_OUT_DIR),
            cacheDir: dir('cache_dir', DEFAULT_CACHE_DIR),
            folderLocations: {
              ...(outDirAt === undefined ? {} : { outDir: outDirAt }),
              ...(cacheDirAt === undefined ? {} : { cacheDir: cacheDirAt }),
            },
            manifest:
              manifestEntry === undefined
                ? path.resolve(options.cwd, DEFAULT_MANIFEST)
                : path.resolve(root, manifestEntry.value),
            ...(remoteCache === undefined ? {} : { remoteCache }),
          },
    root,
    rootDescription,
    providerType: chosen === undefined ? undefined : apiType(chosen),
    manifest: manifestEntry === undefined ? undefined : path.resolve(root, manifestEntry.value),
    diagnostics,
  };
}

function readProvider(
  doc: YamlDocument,
  name: string,
  keyNode: ParsedNode,
  node: ParsedNode | undefined,
  bad: ReadonlySet<string>,
  diagnostics: Diagnostic[],
  loc: (node: ParsedNode | null | undefined) => Location,
): ProviderConfig | undefined {
  const pointer = pointerOf('providers', name);
  if (!isMap(node) || isBadPointer(bad, pointer)) return undefined;
  const entries = entriesOf(node);
  const errorsBefore = diagnostics.length;
  const field = (f: string): { value: unknown; node: ParsedNode; key: ParsedNode } | undefined => {
    const pair = entries.get(f);
    const value = resolveNode(doc, pair?.value);
    if (pair === undefined || value === undefined || isBadPointer(bad, `${pointer}/${f}`)) return undefined;
    return { value: value.toJS(doc) as unknown, node: value, key: pair.key as ParsedNode };
  };
  const typeField = field('type');
  if (typeField === undefined) return undefined; // missing or not an allowed type: the schema said so
  const type = typeField.value as ProviderType;
  const error = (message: string, at: ParsedNode): void => {
    diagnostics.push({ severity: 'error', message, location: loc(at) });
  };

  const baseUrlField = field('base_url');
  let baseUrl: string | undefined;
  if (baseUrlField !== undefined) {
    const text = String(baseUrlField.value);
    if (type === 'emulator') {
      error(
        'Expected no `base_url` for `type: emulator` (it runs embedded; for an emulator running elsewhere use `type: openai` with `base_url: http://127.0.0.1:PORT/v1`), but found one',
        baseUrlField.key,
      );
    } else if (!URL.canParse(text) || !['http:', 'https:'].includes(new URL(text).protocol)) {
      error(
        `Expected \`base_url\` to be an http:// or https:// URL, but found ${JSON.stringify(text)}`,
        baseUrlField.node,
      );
    } else {
      baseUrl = text;
    }
  } else if (type === 'azure-sora1' && !entries.has('base_url')) {
    error(
      `Expected provider \`${name}\` (type azure-sora1) to have \`base_url\` (e.g. https://RESOURCE.openai.azure.com/openai/v1/), but it is missing`,
      keyNode,
    );
  }
  const authField = field('auth');
  if (authField !== undefined && type === 'emulator') {
    error('Expected no `auth` for `type: emulator` (it accepts any key), but found one', authField.key);
  }
  const vertex = readVertexFields(type, name, field, error);
  const apiField = field('api');
  if (apiField !== undefined && type !== 'emulator') {
    error(
      `Expected \`api\` only for \`type: emulator\` (the type itself names the API), but provider \`${name}\` is type ${type}`,
      apiField.key,
    );
  }
  const api = type === 'emulator' ? (apiField?.value as EmulatedApi | undefined) : undefined;
  if (authField !== undefined && authField.value !== 'api-key' && (type === 'runway' || type === 'fal')) {
    error(
      `Expected \`auth: api-key\` for \`type: ${type}\` (the key comes from ${type === 'runway' ? 'RUNWAYML_API_SECRET' : 'FAL_KEY'}), but found \`${String(authField.value)}\``,
      authField.node,
    );
  }
  const deploymentsField = field('deployments');
  if (deploymentsField !== undefined && type === 'fal') {
    error(
      'Expected no `deployments` for `type: fal` (a model is the fal endpoint id itself, e.g. `fal-ai/veo3.1`), but found one',
      deploymentsField.key,
    );
  }
  const renderField = field('render_seconds_per_second');
  if (renderField !== undefined && type !== 'emulator') {
    error(
      `Expected \`render_seconds_per_second\` only for \`type: emulator\`, but provider \`${name}\` is type ${type}`,
      renderField.key,
    );
  }

  const membersField = field('members');
  if (membersField !== undefined) {
    error(
      `Expected \`members\` only for \`type: pool\`, but provider \`${name}\` is type ${type}`,
      membersField.key,
    );
  }
  const gatewayField = field('gateway');
  if (gatewayField !== undefined && type !== 'openai') {
    error(
      `Expected \`gateway\` only for \`type: openai\` (an OpenAI-compatible gateway), but provider \`${name}\` is type ${type}`,
      gatewayField.key,
    );
  }
  const gateway = gatewayField?.value as { remix?: boolean; extend?: boolean } | null | undefined;

  const deployments = (deploymentsField?.value ?? {}) as Record<string, string>;
  const quota = (field('quota')?.value ?? {}) as { creates_per_minute?: number; max_in_flight?: number };
  const pricingField = field('pricing');
  const pricing =
    pricingField === undefined
      ? type === 'emulator' && !entries.has('pricing')
        ? emulatorPricing(api)
        : {}
      : Object.fromEntries(
          Object.entries(pricingField.value as Record<string, { usd_per_second: number }>).map(([m, p]) => [
            m,
            { usdPerSecond: p.usd_per_second },
          ]),
        );
  // Any rejected value inside the entry makes the provider unusable (and choosing it no second error).
  const badInside = [...bad].some((p) => p.startsWith(`${pointer}/`));
  if (diagnostics.length > errorsBefore || badInside) return undefined;
  return {
    name,
    type,
    baseUrl,
    auth: (authField?.value ?? 'api-key') as AuthMode,
    deployments,
    quota: {
      createsPerMinute: quota.creates_per_minute ?? defaultQuota(api ?? type).createsPerMinute,
      maxInFlight: quota.max_in_flight ?? defaultQuota(api ?? type).maxInFlight,
    },
    pricing,
    renderSecondsPerSecond: type === 'emulator' ? (renderField?.value as number | undefined) : undefined,
    ...(vertex !== undefined && { vertex }),
    ...(api !== undefined && { api }),
    ...(gateway !== undefined && gateway !== null
      ? { gateway: { remix: gateway.remix ?? false, extend: gateway.extend ?? false } }
      : {}),
    location: loc(keyNode),
  };
}

/**
 * `project` and `location` belong to `type: vertex-veo`, which authenticates through Google's Application
 * Default Credentials and names its models as Vertex does: `auth` and `deployments` mean nothing there.
 */
function readVertexFields(
  type: ProviderType,
  name: string,
  field: (f: string) => { value: unknown; node: ParsedNode; key: ParsedNode } | undefined,
  error: (message: string, at: ParsedNode) => void,
): ProviderConfig['vertex'] {
  const project = field('project');
  const location = field('location');
  if (type !== 'vertex-veo') {
    for (const [f, found] of [
      ['project', project],
      ['location', location],
    ] as const) {
      if (found !== undefined)
        error(
          `Expected \`${f}\` only for \`type: vertex-veo\`, but provider \`${name}\` is type ${type}`,
          found.key,
        );
    }
    return undefined;
  }
  const auth = field('auth');
  if (auth !== undefined)
    error(
      'Expected no `auth` for `type: vertex-veo` (it uses Google Application Default Credentials: `gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS), but found one',
      auth.key,
    );
  const deployments = field('deployments');
  if (deployments !== undefined)
    error(
      'Expected no `deployments` for `type: vertex-veo` (models are named as Vertex names them, e.g. veo-3.1-generate-001), but found one',
      deployments.key,
    );
  return {
    ...(project !== undefined && { project: String(project.value) }),
    ...(location !== undefined && { location: String(location.value) }),
  };
}
