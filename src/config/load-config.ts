/**
 * `sora.config.yaml`: found by walking up from the manifest's folder (or given with `--config`), checked
 * against `schemas/config.schema.json` and then by rules a schema cannot say (URLs, which fields a provider
 * type takes, that the chosen provider exists). Without a config file, the built-in defaults apply: the
 * embedded emulator, which is free (its price is a true $0, unlike a model with no price, which is
 * unknown).
 *
 * Names providers, never secrets: nothing here reads an API key, so `validate` and `plan` need none.
 *
 * This module finds and reads the file; parse-config.ts (loaded only when needed) parses and checks it. An
 * unchanged config is not parsed again (config-memo.ts), so an everyday command never loads the YAML parser.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { didYouMean } from '../manifest/did-you-mean.ts';
import { CAPABILITIES, apiType } from './capabilities.ts';
import { describeFileType } from '../core/file-type.ts';
import {
  CONFIG_FILE_NAME,
  DEFAULT_CACHE_DIR,
  DEFAULT_MANIFEST,
  DEFAULT_OUT_DIR,
  DEFAULT_PROVIDER_NAME,
  DEFAULT_QUOTA,
} from './config-schema.ts';
import { lookupConfigMemo, storeConfigMemo } from './config-memo.ts';
import type { EmulatedApi, ProjectConfig, ProviderConfig, ProviderType } from './types.ts';

export interface LoadConfigOptions {
  /** Relative paths given by the user (`configPath`) are resolved against it. */
  readonly cwd: string;
  /** Where the walk up for `sora.config.yaml` starts: the manifest's folder, else `cwd`. */
  readonly startDir: string;
  /** `--config PATH`: no walk. */
  readonly configPath?: string | undefined;
  /** `--provider NAME`: overrides the config's `provider:`. */
  readonly provider?: string | undefined;
}

export interface ConfigLoad {
  /** `undefined` when `diagnostics` holds an error. */
  readonly config: ProjectConfig | undefined;
  /** Always known: the config's folder, else `startDir`. */
  readonly root: string;
  /** How messages name the root. */
  readonly rootDescription: string;
  /** The chosen provider's type when it could be determined (drives the capability checks). */
  readonly providerType: ProviderType | undefined;
  /** Absolute path of the config's valid `manifest:` entry. */
  readonly manifest: string | undefined;
  readonly diagnostics: Diagnostic[];
}

/** A location for problems that come from the command line rather than a file. */
export function commandLineLocation(text: string, offset: number, length: number): Location {
  return { file: { path: '<command line>', contents: text }, range: { offset, length } };
}

/** The built-in emulator: embedded, offline, free for every model it knows. */
export function builtinEmulator(location: Location): ProviderConfig {
  return {
    name: DEFAULT_PROVIDER_NAME,
    type: 'emulator',
    baseUrl: undefined,
    auth: 'api-key',
    deployments: {},
    quota: { ...DEFAULT_QUOTA },
    pricing: emulatorPricing(),
    renderSecondsPerSecond: undefined,
    location,
  };
}

/** The emulator costs nothing: an explicit $0 per known model, never "unknown". */
export function emulatorPricing(api?: EmulatedApi): Record<string, { usdPerSecond: number }> {
  const models = Object.keys(CAPABILITIES[api === undefined || api === 'openai' ? 'emulator' : api]);
  return Object.fromEntries(models.map((m) => [m, { usdPerSecond: 0 }]));
}

export const BUILTIN_LOCATION: Location = {
  file: { path: '<built-in defaults>', contents: '' },
  range: { offset: 0, length: 0 },
};

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The nearest `sora.config.yaml` in `dir` or a folder above it. */
export async function findConfig(dir: string): Promise<string | undefined> {
  for (let at = path.resolve(dir); ;) {
    const candidate = path.join(at, CONFIG_FILE_NAME);
    if (await isFile(candidate)) return candidate;
    const up = path.dirname(at);
    if (up === at) return undefined;
    at = up;
  }
}

export async function loadConfig(options: LoadConfigOptions): Promise<ConfigLoad> {
  const diagnostics: Diagnostic[] = [];
  let configFile: string | undefined;
  if (options.configPath !== undefined) {
    configFile = path.resolve(options.cwd, options.configPath);
    if (!(await isFile(configFile))) {
      const text = `--config ${options.configPath}`;
      // A FIFO or a device is never read (the read would block or never end): say what it is.
      const found = await stat(configFile).then(
        (s) => `it is ${describeFileType(s)}`,
        () => 'there is no such file',
      );
      diagnostics.push({
        severity: 'error',
        message: `Expected a config file at ${options.configPath}, but ${found}`,
        location: commandLineLocation(text, 9, options.configPath.length),
      });
      return {
        config: undefined,
        root: options.startDir,
        rootDescription: "the manifest's folder",
        providerType: undefined,
        manifest: undefined,
        diagnostics,
      };
    }
  } else {
    configFile = await findConfig(options.startDir);
  }

  if (configFile === undefined) {
    // No config: built-in defaults, rooted at the manifest's folder.
    const root = path.resolve(options.startDir);
    const providers = new Map([[DEFAULT_PROVIDER_NAME, builtinEmulator(BUILTIN_LOCATION)]]);
    const chosen = chooseProvider(providers, options.provider, undefined, diagnostics);
    return {
      config:
        chosen === undefined
          ? undefined
          : {
              path: undefined,
              root,
              provider: chosen,
              providers,
              outDir: path.join(root, DEFAULT_OUT_DIR),
              cacheDir: path.join(root, DEFAULT_CACHE_DIR),
              manifest: path.resolve(options.cwd, DEFAULT_MANIFEST),
            },
      root,
      rootDescription: "the manifest's folder",
      providerType: chosen === undefined ? undefined : apiType(chosen),
      manifest: undefined,
      diagnostics,
    };
  }

  const root = path.dirname(configFile);
  const rootDescription = `the folder of ${CONFIG_FILE_NAME}`;
  let contents: string;
  try {
    contents = await readFile(configFile, 'utf8');
  } catch (e) {
    const shown = path.relative(options.cwd, configFile) || configFile;
    diagnostics.push({
      severity: 'error',
      message: `Expected to read the config ${shown}, but it cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      location: commandLineLocation(shown, 0, shown.length),
    });
    return {
      config: undefined,
      root,
      rootDescription,
      providerType: undefined,
      manifest: undefined,
      diagnostics,
    };
  }
  const memoParts = { configFile, contents, cwd: options.cwd, provider: options.provider };
  const memo = await lookupConfigMemo(memoParts, root, rootDescription);
  if (memo !== undefined) return memo;
  const { parseConfig } = await import('./parse-config.ts');
  const load = await parseConfig({ configFile, contents, root, rootDescription, options, diagnostics });
  await storeConfigMemo(memoParts, load);
  return load;
}

export function chooseProvider(
  providers: ReadonlyMap<string, ProviderConfig>,
  override: string | undefined,
  field: { value: string; location: Location } | undefined,
  diagnostics: Diagnostic[],
): ProviderConfig | undefined {
  const name = override ?? field?.value ?? DEFAULT_PROVIDER_NAME;
  const found = providers.get(name);
  if (found !== undefined) return found;
  const names = [...providers.keys()];
  const suggestion = didYouMean(name, names);
  const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
  if (override !== undefined) {
    const text = `--provider ${override}`;
    diagnostics.push({
      severity: 'error',
      message: `Expected --provider to name a provider of the config (${names.join(', ')}), but found ${override}${hint}`,
      location: commandLineLocation(text, 11, override.length),
    });
  } else if (field !== undefined) {
    diagnostics.push({
      severity: 'error',
      message: `Expected \`provider\` to name one of the providers (${names.join(', ')}), but found ${field.value}${hint}`,
      location: field.location,
    });
  }
  return undefined;
}
