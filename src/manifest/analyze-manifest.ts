/**
 * The semantic pass over a manifest that already went through the JSON Schema: defaults, interpolation,
 * remix/extend inheritance, the model capability table, reference images, outputs and assets.
 *
 * It walks the YAML AST (not a JS copy) so every value keeps its position, and it skips every value the
 * schema already rejected (`bad` pointers): one mistake, one message. Follow-on noise is dropped too: a
 * shot whose parent is unknown (or itself broken) is not checked against an inherited model.
 * Linear in the number of shots; each reference image is read once.
 */
import path from 'node:path';
import { isAlias, isMap, isScalar } from 'yaml';
import type { Pair, ParsedNode, YAMLMap } from 'yaml';
import type { ShotId } from '../core/brand.ts';
import { asShotId } from '../core/brand.ts';
import type { Diagnostic, Location, SourceFile } from '../core/diagnostic.ts';
import { CAPABILITIES } from '../config/capabilities.ts';
import type { ModelCapabilities } from '../config/capabilities.ts';
import type { ProviderType } from '../config/types.ts';
import { unreachable } from '../core/unreachable.ts';
import { checkCapabilities } from './check-capabilities.ts';
import { didYouMean } from './did-you-mean.ts';
import { interpolate } from './interpolate.ts';
import { BUILTIN_DEFAULTS, builtinModel, MAX_PROMPT_LENGTH, SHOT_FIELDS } from './manifest-schema.ts';
import type { DefaultsField } from './manifest-schema.ts';
import { checkOutputPath, outputCollisions } from './output-paths.ts';
import type { OutputClaim } from './output-paths.ts';
import type { ReferenceImageChecker } from './reference-images.ts';
import { mimeName, referencePathProblem } from './reference-images.ts';
import { resolveInheritance } from './resolve-inheritance.ts';
import type { ParentLink } from './resolve-inheritance.ts';
import { isBadPointer, pointerOf } from './schema-diagnostics.ts';
import { ASSETS } from './types.ts';
import type { Asset, Fit, ReferenceImage, ShotConfig, ShotField } from './types.ts';
import type { YamlDocument } from './yaml-document.ts';
import { entriesOf, keyString, rangeOfNode, resolveNode } from './yaml-document.ts';

export interface AnalyzeManifestOptions {
  readonly file: SourceFile;
  readonly doc: YamlDocument;
  /** Pointers the schema rejected. */
  readonly bad: ReadonlySet<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The chosen provider's type; `undefined` (a broken config) skips the capability checks. */
  readonly providerType: ProviderType | undefined;
  readonly images: ReferenceImageChecker;
}

export interface ManifestAnalysis {
  /** In id order; complete only when `diagnostics` holds no error. */
  readonly shots: Map<ShotId, ShotConfig>;
  readonly diagnostics: Diagnostic[];
  readonly envVarsUsed: string[];
}

/** A value with where it came from: the shot itself, `defaults:`, the built-in default or the parent. */
interface Sourced<T> {
  readonly value: T;
  readonly from: 'shot' | 'defaults' | 'builtin' | 'parent';
  readonly location: Location;
}

interface Field {
  readonly node: ParsedNode;
  readonly key: ParsedNode;
  readonly value: unknown;
  readonly location: Location;
  readonly keyLocation: Location;
}

interface RawShot {
  readonly id: ShotId;
  readonly location: Location;
  /** Fields present and accepted by the schema. */
  readonly fields: Map<ShotField, Field>;
  /** Locations of every field present, for `ShotConfig.fieldLocations`. */
  readonly fieldLocations: Partial<Record<ShotField, Location>>;
  /** Fields present but rejected by the schema (or required and missing). */
  readonly badFields: Set<ShotField>;
}

/** What a shot resolves to after inheritance; `undefined` values could not be determined (already reported). */
interface Resolved {
  readonly model: Sourced<string> | undefined;
  readonly size: Sourced<string> | undefined;
  /** The shot's own clip length (for extend: the seconds added). */
  readonly seconds: Sourced<number> | undefined;
  /** Length of the video the shot produces (extend: parent's total plus the added seconds). */
  readonly totalSeconds: number | undefined;
  /** False when the parent is unknown or broken: inherited values are not checked (follow-on noise). */
  readonly trusted: boolean;
}

const SHOT_FIELD_SET: ReadonlySet<string> = new Set(SHOT_FIELDS);
const REMIX_FORBIDDEN: readonly ShotField[] = ['model', 'size', 'seconds', 'input_reference', 'fit'];
const EXTEND_FORBIDDEN: readonly ShotField[] = ['model', 'size', 'input_reference', 'fit'];

export async function analyzeManifest(options: AnalyzeManifestOptions): Promise<ManifestAnalysis> {
  const { file, doc, bad } = options;
  const diagnostics: Diagnostic[] = [];
  const loc = (node: ParsedNode | null | undefined): Location => ({
    file,
    range: rangeOfNode(node) ?? { offset: 0, length: 0 },
  });
  const error = (message: string, location: Location): void => {
    diagnostics.push({ severity: 'error', message, location });
  };
  /** Problems found at a value shared by many shots (`defaults:`) are reported once, naming the shots. */
  const shared = new Map<
    string,
    { severity: 'error' | 'warning'; message: string; location: Location; shots: string[] }
  >();
  const report = (
    severity: 'error' | 'warning',
    message: string,
    location: Location,
    shot: string,
    sharedValue: boolean,
  ): void => {
    if (!sharedValue) {
      diagnostics.push({ severity, message, location });
      return;
    }
    const id = `${location.range.offset}\0${message}`;
    const entry = shared.get(id);
    if (entry === undefined) shared.set(id, { severity, message, location, shots: [shot] });
    else entry.shots.push(shot);
  };

  const root = resolveNode(doc, doc.contents);
  const empty: ManifestAnalysis = { shots: new Map(), diagnostics, envVarsUsed: [] };
  if (!isMap(root)) return empty;
  const top = entriesOf(root);
  const fieldOf = (map: YAMLMap, pointer: string, name: string): Field | undefined => {
    const pair = entriesOf(map).get(name);
    return pair === undefined ? undefined : fieldFromPair(pair, `${pointer}/${name}`);
  };
  const fieldFromPair = (pair: Pair, pointer: string): Field | undefined => {
    if (bad.size > 0 && isBadPointer(bad, pointer)) return undefined;
    const node = resolveNode(doc, pair.value);
    if (node === undefined || node === null) return undefined;
    const keyNode = pair.key as ParsedNode;
    return {
      node,
      key: keyNode,
      value: (isScalar(node) ? node.value : node.toJS(doc)) as unknown,
      // An alias (`*name`) is reported where it is used; its value is the anchored node's.
      location: loc(isAlias(pair.value) ? (pair.value as unknown as ParsedNode) : node),
      keyLocation: loc(keyNode),
    };
  };

  // vars: a name mapped to undefined has an invalid value (reported by the schema): uses stay silent.
  const vars = new Map<string, string | undefined>();
  const varsNode = resolveNode(doc, top.get('vars')?.value);
  if (isMap(varsNode) && !isBadPointer(bad, '/vars')) {
    for (const [name, pair] of entriesOf(varsNode)) {
      const f = fieldFromPair(pair, pointerOf('vars', name));
      // Numbers keep their spelling (`1.50`, not `1.5`).
      const text =
        f === undefined
          ? undefined
          : isScalar(f.node) && typeof f.value === 'number'
            ? sourceText(file, f.node)
            : String(f.value);
      vars.set(name, text);
    }
  }

  // defaults
  const defaults = new Map<DefaultsField, Field>();
  const defaultsNode = resolveNode(doc, top.get('defaults')?.value);
  if (isMap(defaultsNode) && !isBadPointer(bad, '/defaults')) {
    for (const name of ['model', 'size', 'seconds', 'fit', 'assets'] as const) {
      const f = fieldOf(defaultsNode, '/defaults', name);
      if (f !== undefined) defaults.set(name, f);
    }
  }

  // shots, in file order
  const raw: RawShot[] = [];
  const shotsNode = resolveNode(doc, top.get('shots')?.value);
  if (!isMap(shotsNode) || isBadPointer(bad, '/shots')) return empty;
  const known = new Set<string>();
  for (const [name, pair] of entriesOf(shotsNode)) {
    known.add(name);
    const pointer = bad.size === 0 ? '' : pointerOf('shots', name);
    const value = resolveNode(doc, pair.value);
    if (!isMap(value) || isBadPointer(bad, pointer)) continue;
    const shot: RawShot = {
      id: asShotId(name),
      location: loc(pair.key as ParsedNode),
      fields: new Map(),
      fieldLocations: {},
      badFields: new Set(),
    };
    // One pass over the shot's own pairs (the last of duplicated keys wins, as in `toJS`).
    for (const p of value.items) {
      const field = keyString(p);
      if (field === undefined || !SHOT_FIELD_SET.has(field)) continue; // unknown: the schema said so
      const name = field as ShotField;
      // Pointer strings are only needed when the schema rejected something.
      const fieldPointer = bad.size === 0 ? '' : `${pointer}/${name}`;
      shot.fieldLocations[name] = loc(resolveNode(doc, p.value) ?? p.key);
      shot.fields.delete(name);
      shot.badFields.delete(name);
      const f = fieldFromPair(p, fieldPointer);
      if (f === undefined) shot.badFields.add(name);
      else shot.fields.set(name, f);
    }
    if (bad.size > 0 && bad.has(`${pointer}/prompt`) && !shot.fields.has('prompt'))
      shot.badFields.add('prompt');
    raw.push(shot);
  }
  const byId = new Map(raw.map((s) => [s.id as string, s]));

  // Parents: one of remix_of / extend_of, naming a shot that exists.
  const parentOf = new Map<string, ParentLink>();
  /** Shots whose parent link is broken (unknown, or both fields): their inherited values are unknown. */
  const brokenLink = new Set<string>();
  const varSuggestions = { left: 100 }; // as for ids below: "did you mean" scans all names, so it is bounded
  let suggestionsLeft = 100; // "did you mean" costs a scan of all ids: bounded so a huge broken manifest stays fast
  for (const shot of raw) {
    const remix = shot.fields.get('remix_of');
    const extend = shot.fields.get('extend_of');
    if (shot.badFields.has('remix_of') || shot.badFields.has('extend_of')) brokenLink.add(shot.id);
    if (remix !== undefined && extend !== undefined) {
      error('Expected at most one of `remix_of` and `extend_of`, but found both', extend.keyLocation);
      brokenLink.add(shot.id);
      continue;
    }
    const link = remix ?? extend;
    if (link === undefined) continue;
    const relation = remix !== undefined ? 'remix_of' : 'extend_of';
    const parent = String(link.value);
    if (!known.has(parent)) {
      const suggestion = suggestionsLeft-- > 0 ? didYouMean(parent, known) : undefined;
      error(
        `Expected \`${relation}\` to name a shot of this manifest, but there is no shot \`${parent}\`${suggestion === undefined ? '' : `; did you mean \`${suggestion}\`?`}`,
        link.location,
      );
      brokenLink.add(shot.id);
      continue;
    }
    parentOf.set(shot.id, { id: parent, relation });
    const forbidden = relation === 'remix_of' ? REMIX_FORBIDDEN : EXTEND_FORBIDDEN;
    for (const name of forbidden) {
      // A forbidden field whose value the schema rejected was reported there already.
      const at = shot.fields.get(name)?.keyLocation;
      if (at === undefined) continue;
      error(
        relation === 'remix_of'
          ? `Expected a remix to set only its prompt (it inherits model, size and seconds from \`${parent}\`), but found \`${name}\``
          : `Expected an extension to set only its prompt and seconds (it inherits model and size from \`${parent}\`), but found \`${name}\``,
        at,
      );
    }
  }

  // Defaults as sourced values.
  const builtinLocation = (shot: RawShot): Location => shot.location;
  const ownOrDefault = <T>(
    shot: RawShot,
    name: ShotField & DefaultsField,
    convert: (v: unknown) => T,
    builtin: T,
  ): Sourced<T> | undefined => {
    const own = shot.fields.get(name);
    if (own !== undefined) return { value: convert(own.value), from: 'shot', location: own.location };
    if (shot.badFields.has(name)) return undefined;
    const d = defaults.get(name);
    if (d !== undefined) return { value: convert(d.value), from: 'defaults', location: d.location };
    if (bad.has(`/defaults/${name}`)) return undefined;
    return { value: builtin, from: 'builtin', location: builtinLocation(shot) };
  };
  const toSeconds = (v: unknown): number => Number(v);

  // Inheritance: a remix takes model, size and seconds from its parent, an extension model and size.
  const resolveRoot = (shot: RawShot): Resolved => {
    const seconds = ownOrDefault(shot, 'seconds', toSeconds, BUILTIN_DEFAULTS.seconds);
    return {
      model: ownOrDefault(shot, 'model', String, builtinModel(options.providerType)),
      size: ownOrDefault(shot, 'size', String, BUILTIN_DEFAULTS.size),
      seconds,
      totalSeconds: seconds?.value,
      trusted: !brokenLink.has(shot.id),
    };
  };
  const resolveChild = (shot: RawShot, relation: 'remix_of' | 'extend_of', parent: Resolved): Resolved => {
    const inherit = <T>(s: Sourced<T> | undefined): Sourced<T> | undefined =>
      s === undefined ? undefined : { ...s, from: 'parent' };
    if (relation === 'remix_of') {
      const total = parent.totalSeconds;
      return {
        model: inherit(parent.model),
        size: inherit(parent.size),
        seconds: total === undefined ? undefined : { value: total, from: 'parent', location: shot.location },
        totalSeconds: total,
        trusted: parent.trusted,
      };
    }
    const seconds = ownOrDefault(shot, 'seconds', toSeconds, BUILTIN_DEFAULTS.seconds);
    return {
      model: inherit(parent.model),
      size: inherit(parent.size),
      seconds,
      totalSeconds:
        seconds === undefined || parent.totalSeconds === undefined
          ? undefined
          : parent.totalSeconds + seconds.value,
      trusted: parent.trusted,
    };
  };
  const resolved = resolveInheritance({
    shots: raw,
    byId,
    parentOf,
    root: resolveRoot,
    child: resolveChild,
    inCycle: (shot) => ({ ...resolveRoot(shot), trusted: false }),
    unreadableParent: untrusted,
  });

  // Per shot: capabilities, prompt, reference image, output, assets.
  const table = options.providerType === undefined ? undefined : CAPABILITIES[options.providerType];
  const envUsed = new Set<string>();
  const claims: OutputClaim[] = [];
  const unknownModels = new Map<string, { location: Location; shots: number }>();
  const prompts = new Map<string, string>();
  const pendingImages: Promise<void>[] = [];
  const images = new Map<string, ReferenceImage>();
  const manifestDir = path.dirname(file.path);
  for (const shot of raw) {
    const r = resolved.get(shot.id)!;
    const link = parentOf.get(shot.id);
    const isShared = (s: Sourced<unknown>): boolean => s.from === 'defaults';
    let caps: ModelCapabilities | undefined;
    if (table !== undefined && r.trusted && r.model !== undefined) {
      caps = Object.hasOwn(table, r.model.value) ? table[r.model.value] : undefined;
      // One warning per unknown name, where it is first written; a remix inherits its parent's.
      if (caps === undefined && r.model.from !== 'parent') {
        const seen = unknownModels.get(r.model.value);
        if (seen === undefined) unknownModels.set(r.model.value, { location: r.model.location, shots: 1 });
        else {
          seen.shots++;
          if (r.model.location.range.offset < seen.location.range.offset) seen.location = r.model.location;
        }
      }
    }
    if (caps !== undefined && r.model !== undefined) {
      const model = r.model.value;
      if (link !== undefined && !caps[link.relation === 'remix_of' ? 'remix' : 'extend']) {
        const what = link.relation === 'remix_of' ? 'remix' : 'extend';
        error(
          `Expected the model of \`${link.id}\` to support ${what}, but ${model} on provider type ${options.providerType} cannot ${what} a video`,
          shot.fields.get(link.relation)!.location,
        );
      }
      const ref = shot.fields.get('input_reference');
      const problems = checkCapabilities(caps, {
        model,
        providerType: String(options.providerType),
        size: r.size?.value,
        seconds: link?.relation === 'remix_of' ? undefined : r.seconds?.value,
        relation: link?.relation,
        frames:
          ref !== undefined && link === undefined ? [{ at: 'first', crop: false, shortForm: true }] : [],
        inputVideo: undefined,
        referenceImages: 0,
        variants: undefined,
        negativePrompt: false,
        seed: false,
        audio: undefined,
      });
      for (const p of problems) {
        switch (p.field) {
          case 'size':
          case 'seconds': {
            const src = p.field === 'size' ? r.size : r.seconds;
            if (src === undefined) break;
            report(
              'error',
              p.message,
              src.from === 'builtin' ? r.model.location : src.location,
              shot.id,
              isShared(src),
            );
            break;
          }
          case 'input_reference':
            if (ref !== undefined) error(p.message, ref.keyLocation);
            break;
          case 'frames':
          case 'input_video':
          case 'reference_images':
          case 'variants':
          case 'negative_prompt':
          case 'seed':
          case 'audio':
            break;
          default:
            unreachable(p.field);
        }
      }
    }

    // Prompt
    const promptField = shot.fields.get('prompt');
    if (promptField !== undefined && isScalar(promptField.node)) {
      const value = String(promptField.value);
      const {
        text,
        problems,
        envUsed: used,
      } = interpolate({
        value,
        source: sourceText(file, promptField.node),
        vars,
        env: options.env,
        suggestions: varSuggestions,
      });
      for (const name of used) envUsed.add(name);
      // Positions inside the text are in the node that holds it (the anchor, for an alias).
      const at = promptField.node.range[0];
      for (const p of problems)
        error(p.message, { file, range: { offset: at + p.offset, length: p.length } });
      if (problems.length === 0) {
        const length = countCodePoints(text);
        if (text.trim() === '') {
          error(
            value.trim() === ''
              ? 'Expected `prompt` to describe the shot, but it is empty'
              : `Expected \`prompt\` to describe the shot, but it is empty after interpolation (${JSON.stringify(value)})`,
            promptField.location,
          );
        } else if (length > MAX_PROMPT_LENGTH) {
          error(
            `Expected \`prompt\` to be at most ${MAX_PROMPT_LENGTH} characters after interpolation, but it has ${length}`,
            promptField.location,
          );
        }
      }
      prompts.set(shot.id, text);
    }

    // Reference image (a remix or extension setting one was reported above).
    const ref = shot.fields.get('input_reference');
    const fitOwn = shot.fields.get('fit');
    const refProblem = ref === undefined ? undefined : referencePathProblem(String(ref.value));
    if (ref !== undefined && refProblem !== undefined && link === undefined) {
      error(refProblem, ref.location);
    } else if (ref !== undefined && link === undefined) {
      const written = String(ref.value);
      const fit = (fitOwn?.value ?? defaults.get('fit')?.value ?? BUILTIN_DEFAULTS.fit) as Fit;
      const fitKnown = !shot.badFields.has('fit') && !bad.has('/defaults/fit');
      const checkSize = fitKnown && r.trusted && r.size !== undefined;
      pendingImages.push(
        options.images.check(path.resolve(manifestDir, written)).then(async (img) => {
          if (!img.ok) {
            error(img.problem(written), ref.location);
            return;
          }
          const size = `${img.width}x${img.height}`;
          if (fit === 'none' && checkSize && r.size.value !== size) {
            error(
              `Expected the reference image ${JSON.stringify(written)} to be ${r.size.value} like the shot, but it is ${size} (${mimeName(img.mime)}); set \`fit: cover\` or \`fit: contain\` to resize it`,
              ref.location,
            );
          }
          // What plan's resize would refuse is refused here, so `validate` never passes what `plan` fails.
          if (fit !== 'none' && checkSize && r.size.value !== size) {
            const [width, height] = r.size.value.split('x').map(Number) as [number, number];
            const refused = await options.images.resizable(path.resolve(manifestDir, written), img, {
              width,
              height,
              fit,
            });
            if (refused !== undefined) error(refused.problem(written), ref.location);
          }
          images.set(shot.id, {
            path: path.resolve(manifestDir, written),
            displayPath: img.displayPath,
            fit,
            mime: img.mime,
            width: img.width,
            height: img.height,
            sourceDigest: img.digest,
            location: ref.location,
          });
        }),
      );
    } else if (
      fitOwn !== undefined &&
      ref === undefined &&
      link === undefined &&
      !shot.badFields.has('input_reference')
    ) {
      diagnostics.push({
        severity: 'warning',
        message: `Expected \`fit\` only with an \`input_reference\` to resize, but this shot has none; \`fit\` has no effect`,
        location: fitOwn.keyLocation,
      });
    }

    // Output
    const outputField = shot.fields.get('output');
    if (outputField !== undefined) {
      const checked = checkOutputPath(String(outputField.value));
      if (!checked.ok) error(checked.message, outputField.location);
      else
        claims.push({
          shot: shot.id,
          output: checked.output,
          location: outputField.location,
          explicit: true,
        });
    } else if (!shot.badFields.has('output')) {
      claims.push({ shot: shot.id, output: `${shot.id}.mp4`, location: shot.location, explicit: false });
    }
  }
  diagnostics.push(...outputCollisions(claims));
  for (const [model, { location, shots }] of unknownModels) {
    diagnostics.push({
      severity: 'warning',
      message: `Expected a model known for provider type ${options.providerType} (${Object.keys(table ?? {}).join(', ')}), but found \`${model}\`${shots > 1 ? ` (in ${shots} shots)` : ''}; its sizes and seconds are not checked`,
      location,
    });
  }
  await Promise.all(pendingImages);

  for (const s of shared.values()) {
    const more = s.shots.length > 3 ? ` and ${s.shots.length - 3} more` : '';
    const names = s.shots
      .slice(0, 3)
      .map((id) => `\`${id}\``)
      .join(', ');
    diagnostics.push({
      severity: s.severity,
      message: `${s.message} (the default for ${s.shots.length === 1 ? 'shot' : 'shots'} ${names}${more})`,
      location: s.location,
    });
  }

  // Build the results (complete only when there is no error).
  const shots = new Map<ShotId, ShotConfig>();
  if (diagnostics.some((d) => d.severity === 'error'))
    return { shots, diagnostics, envVarsUsed: [...envUsed].sort() };
  const defaultAssets = defaults.get('assets')?.value;
  for (const shot of [...raw].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const r = resolved.get(shot.id)!;
    const size = r.size?.value ?? BUILTIN_DEFAULTS.size;
    const [width, height] = size.split('x').map(Number) as [number, number];
    const link = parentOf.get(shot.id);
    const assetList = (shot.fields.get('assets')?.value ?? defaultAssets ?? []) as Asset[];
    const output = shot.fields.get('output');
    shots.set(shot.id, {
      id: shot.id,
      prompt: prompts.get(shot.id) ?? '',
      model: r.model?.value ?? builtinModel(options.providerType),
      size,
      width,
      height,
      seconds: r.seconds?.value ?? BUILTIN_DEFAULTS.seconds,
      inputReference: images.get(shot.id),
      remixOf: link?.relation === 'remix_of' ? asShotId(link.id) : undefined,
      extendOf: link?.relation === 'extend_of' ? asShotId(link.id) : undefined,
      output:
        output === undefined
          ? `${shot.id}.mp4`
          : (checkOutputPath(String(output.value)) as { output: string }).output,
      assets: ASSETS.filter((a) => a === 'video' || assetList.includes(a)),
      location: shot.location,
      fieldLocations: shot.fieldLocations,
    });
  }
  return { shots, diagnostics, envVarsUsed: [...envUsed].sort() };
}

const untrusted: Resolved = {
  model: undefined,
  size: undefined,
  seconds: undefined,
  totalSeconds: undefined,
  trusted: false,
};

function sourceText(file: SourceFile, node: ParsedNode): string {
  const r = node.range;
  return file.contents.slice(r[0], r[1]);
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
