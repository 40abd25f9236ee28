/**
 * read -> parse -> analyze for a whole project: the config (found by walking up from the manifest's folder)
 * and the manifest, with every problem of both files collected and sorted, so `validate`, `plan`, `build`
 * and `watch` report the same things in the same order.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { Diagnostic, SourceFile } from '../core/diagnostic.ts';
import { compareDiagnostics } from '../core/diagnostic.ts';
import { CONFIG_FILE_NAME, DEFAULT_MANIFEST } from '../config/config-schema.ts';
import { checkProjectFolders } from '../config/check-folders.ts';
import { describeFileType } from '../core/file-type.ts';
import { BUILTIN_LOCATION, commandLineLocation, loadConfig } from '../config/load-config.ts';
import { apiType } from '../config/capabilities.ts';
import type { ProjectConfig } from '../config/types.ts';
import {
  manifestJsonSchema,
  SECONDS_STRING_PATTERN,
  SHOT_ID_PATTERN,
  SIZE_PATTERN,
  VAR_NAME_PATTERN,
} from './manifest-schema.ts';
import { AnalysisCache } from './analysis-cache.ts';
import { checkProviderOperations } from './check-provider-operations.ts';
import { ImageStatCache } from './image-stat-cache.ts';
import { InputVideoChecker } from './input-videos.ts';
import { ReferenceImageChecker } from './reference-images.ts';
import type { Manifest } from './types.ts';

/** 64 MiB: a 30,000-shot storyboard is under 2 MB; a bigger file is the wrong file. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface LoadProjectOptions {
  /** Relative paths are resolved against it; without a manifest path, the config is looked for from here. */
  readonly cwd: string;
  /** Read by `${env:NAME}` (core modules never read `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default the config's `manifest:`, else `storyboard.yaml` in `cwd` */
  readonly manifestPath?: string | undefined;
  /** @default the nearest `sora.config.yaml` from the manifest's folder up; built-in defaults if none */
  readonly configPath?: string | undefined;
  /** @default the config's `provider:`, else `emulator` */
  readonly provider?: string | undefined;
}

export type LoadedProject =
  | {
      readonly ok: true;
      readonly config: ProjectConfig;
      readonly manifest: Manifest;
      readonly warnings: readonly Diagnostic[];
    }
  /** Errors and warnings, sorted with `compareDiagnostics`. */
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

let validateManifest: ValidateFunction | undefined;
/** Compiled on first need: a manifest whose analysis is cached never loads Ajv. */
async function manifestValidator(): Promise<ValidateFunction> {
  const { Ajv } = await import('ajv');
  validateManifest ??= new Ajv({
    allErrors: true,
    verbose: true,
    allowUnionTypes: true,
    strict: true,
  }).compile(manifestJsonSchema());
  return validateManifest;
}

const SCHEMA_WORDS = {
  rootNoun: 'the manifest',
  containerNouns: { shots: 'shot', vars: 'variable' },
  keyNouns: { shots: 'shot id', vars: 'variable name' },
  patternWords: {
    [SHOT_ID_PATTERN]: 'lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit',
    [SIZE_PATTERN]: 'WIDTHxHEIGHT like 1280x720',
    [SECONDS_STRING_PATTERN]: 'a whole number of seconds like 8 or "8"',
    [VAR_NAME_PATTERN]: 'letters, digits, `_` and `-`, starting with a letter or `_`',
  },
} as const;

/** `storyboard.yaml` -> `storyboard.lock`, beside the manifest. */
export function lockfilePathFor(manifestPath: string): string {
  const ext = path.extname(manifestPath);
  return path.join(path.dirname(manifestPath), `${path.basename(manifestPath, ext)}.lock`);
}

export async function loadProject(options: LoadProjectOptions): Promise<LoadedProject> {
  const given =
    options.manifestPath === undefined ? undefined : path.resolve(options.cwd, options.manifestPath);
  const configLoad = await loadConfig({
    cwd: options.cwd,
    startDir: given === undefined ? options.cwd : path.dirname(given),
    configPath: options.configPath,
    provider: options.provider,
  });
  const diagnostics: Diagnostic[] = [...configLoad.diagnostics];
  const manifestPath = given ?? configLoad.manifest ?? path.resolve(options.cwd, DEFAULT_MANIFEST);

  let contents: string | undefined;
  try {
    // A FIFO would block the read forever and /dev/zero never end it: only a file of sane size is read.
    const st = await stat(manifestPath);
    if (!st.isFile())
      throw Object.assign(new Error('not a file'), { code: 'ENOTFILE', what: describeFileType(st) });
    if (st.size > MAX_MANIFEST_BYTES)
      throw Object.assign(new Error('too large'), { code: 'EFBIG', size: st.size });
    contents = await readFile(manifestPath, 'utf8');
  } catch (e) {
    const error = e as NodeJS.ErrnoException & { what?: string; size?: number };
    const code = error.code;
    const shown = options.manifestPath ?? path.relative(options.cwd, manifestPath);
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'there is no such file'
        : code === 'ENOTFILE'
          ? `it is ${error.what}`
          : code === 'EFBIG'
            ? `it is ${error.size} bytes, more than the ${MAX_MANIFEST_BYTES} a storyboard may have`
            : `it cannot be read (${code})`;
    const hint =
      options.manifestPath === undefined && configLoad.manifest === undefined
        ? ` (the default; name one, or set \`manifest:\` in ${CONFIG_FILE_NAME})`
        : '';
    diagnostics.push({
      severity: 'error',
      message: `Expected a manifest at ${shown}${hint}, but ${why}`,
      location: commandLineLocation(shown, 0, shown.length),
    });
  }

  const folderProblems =
    configLoad.config === undefined
      ? []
      : await checkProjectFolders({
          config: configLoad.config,
          fallback: {
            file: { path: configLoad.config.path ?? BUILTIN_LOCATION.file.path, contents: '' },
            range: { offset: 0, length: 0 },
          },
          manifestPath,
        });
  diagnostics.push(...folderProblems);

  let manifest: Manifest | undefined;
  // A cache folder that is not a usable folder is not used at all (the problem is reported above).
  const cacheDir = folderProblems.length > 0 ? undefined : configLoad.config?.cacheDir;
  const analysisCache = cacheDir === undefined ? undefined : new AnalysisCache(cacheDir);
  const cacheKey =
    contents === undefined || configLoad.providerType === undefined
      ? undefined
      : {
          manifestPath,
          contents,
          providerType: configLoad.providerType,
          // Every provider a shot may name, and the default: `provider:` fields are checked against them.
          providers: [
            configLoad.config?.provider.name ?? '',
            ...[...(configLoad.config?.providers.values() ?? [])]
              .map((p) => `${p.name}=${apiType(p)}`)
              .sort(),
          ].join('\n'),
          root: configLoad.root,
        };
  const cached = cacheKey === undefined ? undefined : await analysisCache?.lookup(cacheKey, options.env);
  if (cached !== undefined) {
    diagnostics.push(...cached.warnings);
    manifest = {
      path: manifestPath,
      lockfilePath: lockfilePathFor(manifestPath),
      version: 1,
      shots: cached.shots,
      envVarsUsed: cached.envVarsUsed,
    };
  } else if (contents !== undefined) {
    const file: SourceFile = { path: manifestPath, contents };
    // Loaded only on a miss: an unchanged project never loads the YAML parser (see config-memo.ts).
    const [{ parseYaml }, { analyzeManifest }, { schemaDiagnostics }] = await Promise.all([
      import('./yaml-document.ts'),
      import('./analyze-manifest.ts'),
      import('./schema-diagnostics.ts'),
    ]);
    // With a config, unchanged reference images are known by their stat data (no re-read, no re-hash).
    const statCache =
      cacheDir === undefined ? undefined : await ImageStatCache.open(path.join(cacheDir, 'stat-cache.json'));
    const analyse = async (fast: boolean) => {
      const found: Diagnostic[] = [];
      const parsed = parseYaml(file, { fast });
      found.push(...parsed.diagnostics);
      if (parsed.doc === undefined) return { parsed, found, analysis: undefined };
      const validate = await manifestValidator();
      validate(parsed.value);
      const schema = schemaDiagnostics(validate.errors, parsed.doc, file, SCHEMA_WORDS);
      found.push(...schema.diagnostics);
      const analysis = await analyzeManifest({
        file,
        doc: parsed.doc,
        bad: schema.badPointers,
        env: options.env,
        providerType: configLoad.providerType,
        ...(configLoad.config === undefined
          ? {}
          : {
              providerName: configLoad.config.provider.name,
              providers: new Map([...configLoad.config.providers.values()].map((p) => [p.name, apiType(p)])),
            }),
        videos: new InputVideoChecker({ root: configLoad.root, rootDescription: configLoad.rootDescription }),
        images: new ReferenceImageChecker({
          root: configLoad.root,
          rootDescription: configLoad.rootDescription,
          ...(statCache === undefined ? {} : { statCache }),
        }),
      });
      found.push(...analysis.diagnostics);
      return { parsed, found, analysis };
    };
    let result = await analyse(true);
    // Problems are reported from the `yaml` package's own parse, the reference for every message and
    // position; the fast reader's tree is the same, but a broken storyboard is no place to rely on that.
    if (result.parsed.fast && result.found.some((d) => d.severity === 'error')) result = await analyse(false);
    // Best effort: a read-only cache folder only costs the next run a re-hash.
    await statCache?.save().catch(() => undefined);
    const { analysis, found: manifestDiagnostics } = result;
    if (analysis !== undefined) {
      manifest = {
        path: manifestPath,
        lockfilePath: lockfilePathFor(manifestPath),
        version: 1,
        shots: analysis.shots,
        envVarsUsed: analysis.envVarsUsed,
      };
      if (cacheKey !== undefined && manifestDiagnostics.every((d) => d.severity === 'warning')) {
        await analysisCache?.store(cacheKey, options.env, {
          shots: analysis.shots,
          envVarsUsed: analysis.envVarsUsed,
          warnings: manifestDiagnostics,
        });
      }
    }
    diagnostics.push(...manifestDiagnostics);
  }

  if (manifest !== undefined && configLoad.config !== undefined) {
    const provider = configLoad.config.provider;
    diagnostics.push(...checkProviderOperations(manifest.shots.values(), () => provider));
  }

  diagnostics.sort(compareDiagnostics);
  // One text reached through two aliases (`*prompt`) gives the same problem twice at one place: say it once.
  const unique = diagnostics.filter((d, i) => {
    const prev = diagnostics[i - 1];
    return (
      prev === undefined ||
      prev.message !== d.message ||
      prev.severity !== d.severity ||
      prev.location.file.path !== d.location.file.path ||
      prev.location.range.offset !== d.location.range.offset ||
      prev.location.range.length !== d.location.range.length
    );
  });
  if (
    configLoad.config === undefined ||
    manifest === undefined ||
    unique.some((d) => d.severity === 'error')
  ) {
    return { ok: false, diagnostics: unique };
  }
  return { ok: true, config: configLoad.config, manifest, warnings: unique };
}
