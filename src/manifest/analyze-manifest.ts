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
import {
  BUILTIN_DEFAULTS,
  builtinModel,
  DEFAULTS_FIELDS,
  MAX_PROMPT_LENGTH,
  SHOT_FIELDS,
} from './manifest-schema.ts';
import type { InputVideoChecker } from './input-videos.ts';
import { readFrames, readInputVideo, readPaths } from './media-fields.ts';
import type { FrameItem, InputVideoItem, PathItem } from './media-fields.ts';
import type { DefaultsField } from './manifest-schema.ts';
import { outputCollisions, variantOutputs } from './output-paths.ts';
import type { OutputClaim } from './output-paths.ts';
import type { ReferenceImageChecker } from './reference-images.ts';
import { mimeName, referencePathProblem } from './reference-images.ts';
import { resolveInheritance } from './resolve-inheritance.ts';
import type { ParentLink } from './resolve-inheritance.ts';
import { isBadPointer, pointerOf } from './schema-diagnostics.ts';
import { ASSETS } from './types.ts';
import type {
  Asset,
  Fit,
  FrameConfig,
  InputVideoConfig,
  ReferenceImage,
  ShotConfig,
  ShotField,
} from './types.ts';
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
  /**
   * The default provider's name (`--provider`, else the config's `provider:`), for shots that name none.
   * @default `emulator`
   */
  readonly providerName?: string;
  /** Every `providers.<name>` of the config and its type, for `provider:` in the manifest. @default only `providerName` */
  readonly providers?: ReadonlyMap<string, ProviderType>;
  readonly images: ReferenceImageChecker;
  readonly videos: InputVideoChecker;
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
  /** The provider's name (`undefined`: a broken value, already reported). */
  readonly provider: Sourced<string> | undefined;
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
/** What a generation from scratch takes and a remix/extension of a finished video does not (the API takes a prompt). */
const MEDIA_AND_SAMPLING: readonly ShotField[] = [
  'input_reference',
  'fit',
  'provider',
  'frames',
  'input_video',
  'reference_images',
  'variants',
  'negative_prompt',
  'seed',
  'audio',
];
const REMIX_FORBIDDEN: readonly ShotField[] = ['model', 'size', 'seconds', ...MEDIA_AND_SAMPLING];
const EXTEND_FORBIDDEN: readonly ShotField[] = ['model', 'size', ...MEDIA_AND_SAMPLING];

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
    for (const name of DEFAULTS_FIELDS) {
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
  const defaultProvider = options.providerName ?? 'emulator';
  const providerTypes =
    options.providers ??
    new Map(options.providerType === undefined ? [] : [[defaultProvider, options.providerType]]);
  const resolveRoot = (shot: RawShot): Resolved => {
    const seconds = ownOrDefault(shot, 'seconds', toSeconds, BUILTIN_DEFAULTS.seconds);
    const provider = ownOrDefault(shot, 'provider', String, defaultProvider);
    const type = provider === undefined ? undefined : providerTypes.get(provider.value);
    return {
      provider,
      model: ownOrDefault(shot, 'model', String, builtinModel(type ?? options.providerType)),
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
        provider: inherit(parent.provider),
        model: inherit(parent.model),
        size: inherit(parent.size),
        seconds: total === undefined ? undefined : { value: total, from: 'parent', location: shot.location },
        totalSeconds: total,
        trusted: parent.trusted,
      };
    }
    const seconds = ownOrDefault(shot, 'seconds', toSeconds, BUILTIN_DEFAULTS.seconds);
    return {
      provider: inherit(parent.provider),
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

  // Per shot: provider, capabilities, prompt, images and video, output, assets.
  const envUsed = new Set<string>();
  const claims: OutputClaim[] = [];
  const unknownModels = new Map<
    string,
    { type: ProviderType; model: string; location: Location; shots: number }
  >();
  const prompts = new Map<string, string>();
  const negativePrompts = new Map<string, string>();
  const pendingImages: Promise<void>[] = [];
  const images = new Map<string, ReferenceImage>();
  const frameConfigs = new Map<string, FrameConfig[]>();
  const referenceConfigs = new Map<string, ReferenceImage[]>();
  const videoConfigs = new Map<string, InputVideoConfig>();
  const shotProviders = new Map<string, string>();
  const outputsOf = new Map<string, string[]>();
  const manifestDir = path.dirname(file.path);
  const mediaContext = { doc, file, diagnostics };
  /** A field's own value, else the `defaults:` one (a remix or extension takes none of these). */
  const ownOrShared = (shot: RawShot, name: ShotField & DefaultsField): Sourced<unknown> | undefined => {
    if (parentOf.has(shot.id) || brokenLink.has(shot.id)) return undefined;
    const own = shot.fields.get(name);
    if (own !== undefined) return { value: own.value, from: 'shot', location: own.location };
    if (shot.badFields.has(name)) return undefined;
    const d = defaults.get(name);
    return d === undefined ? undefined : { value: d.value, from: 'defaults', location: d.location };
  };
  /**
   * An image by its bytes: JPEG/PNG/WebP inside the project; with `size`, it must have that size unless `fit`
   * resizes it (and then the resize must be possible). `undefined` when a problem was reported.
   */
  const checkImage = async (o: {
    readonly written: string;
    readonly location: Location;
    readonly fit: Fit;
    readonly size: string | undefined;
    readonly what: string;
    readonly field: string;
  }): Promise<ReferenceImage | undefined> => {
    const problem = referencePathProblem(o.written, o.field);
    if (problem !== undefined) {
      error(problem, o.location);
      return undefined;
    }
    const abs = path.resolve(manifestDir, o.written);
    const img = await options.images.check(abs);
    if (!img.ok) {
      error(img.problem(o.written), o.location);
      return undefined;
    }
    const actual = `${img.width}x${img.height}`;
    let fine = true;
    if (o.fit === 'none' && o.size !== undefined && o.size !== actual) {
      error(
        `Expected the ${o.what} ${JSON.stringify(o.written)} to be ${o.size} like the shot, but it is ${actual} (${mimeName(img.mime)}); set \`fit: cover\` or \`fit: contain\` to resize it`,
        o.location,
      );
      fine = false;
    }
    // What plan's resize would refuse is refused here, so `validate` never passes what `plan` fails.
    if (o.fit !== 'none' && o.size !== undefined && o.size !== actual) {
      const [width, height] = o.size.split('x').map(Number) as [number, number];
      const refused = await options.images.resizable(abs, img, { width, height, fit: o.fit });
      if (refused !== undefined) {
        error(refused.problem(o.written), o.location);
        fine = false;
      }
    }
    return fine
      ? {
          path: abs,
          displayPath: img.displayPath,
          fit: o.fit,
          mime: img.mime,
          width: img.width,
          height: img.height,
          sourceDigest: img.digest,
          location: o.location,
        }
      : undefined;
  };
  for (const shot of raw) {
    const r = resolved.get(shot.id)!;
    const link = parentOf.get(shot.id);
    const isShared = (s: Sourced<unknown>): boolean => s.from === 'defaults';

    // Provider: a name of the config's `providers:`.
    let providerType: ProviderType | undefined;
    if (r.provider !== undefined) {
      shotProviders.set(shot.id, r.provider.value);
      providerType = providerTypes.get(r.provider.value);
      if (providerType === undefined && r.provider.from !== 'parent' && r.provider.from !== 'builtin') {
        const names = [...providerTypes.keys()];
        const suggestion = didYouMean(r.provider.value, names);
        report(
          'error',
          `Expected \`provider\` to name one of the providers of the config (${names.join(', ')}), but found ${r.provider.value}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
          r.provider.location,
          shot.id,
          isShared(r.provider),
        );
      }
    }
    const table = providerType === undefined ? undefined : CAPABILITIES[providerType];

    let caps: ModelCapabilities | undefined;
    if (table !== undefined && providerType !== undefined && r.trusted && r.model !== undefined) {
      caps = Object.hasOwn(table, r.model.value) ? table[r.model.value] : undefined;
      // One warning per unknown name, where it is first written; a remix inherits its parent's.
      if (caps === undefined && r.model.from !== 'parent') {
        const id = `${providerType}\0${r.model.value}`;
        const seen = unknownModels.get(id);
        if (seen === undefined)
          unknownModels.set(id, {
            type: providerType,
            model: r.model.value,
            location: r.model.location,
            shots: 1,
          });
        else {
          seen.shots++;
          if (r.model.location.range.offset < seen.location.range.offset) seen.location = r.model.location;
        }
      }
    }

    // Media fields, read with positions (a remix or extension setting one was reported above).
    const mediaField = (name: ShotField): Field | undefined =>
      link === undefined ? shot.fields.get(name) : undefined;
    const framesField = mediaField('frames');
    const frames: FrameItem[] | undefined =
      framesField === undefined ? [] : readFrames(framesField.node, mediaContext);
    const videoField = mediaField('input_video');
    const video: InputVideoItem | undefined =
      videoField === undefined ? undefined : readInputVideo(videoField.node, mediaContext);
    const refsField = mediaField('reference_images');
    const refs: PathItem[] | undefined =
      refsField === undefined ? [] : readPaths(refsField.node, mediaContext);
    const variants = ownOrShared(shot, 'variants');
    const negative = ownOrShared(shot, 'negative_prompt');
    const seed = ownOrShared(shot, 'seed');
    const audio = ownOrShared(shot, 'audio');

    if (caps !== undefined && r.model !== undefined) {
      const model = r.model.value;
      if (link !== undefined && !caps[link.relation === 'remix_of' ? 'remix' : 'extend']) {
        const what = link.relation === 'remix_of' ? 'remix' : 'extend';
        error(
          `Expected the model of \`${link.id}\` to support ${what}, but ${model} on provider type ${providerType} cannot ${what} a video`,
          shot.fields.get(link.relation)!.location,
        );
      }
      const ref = mediaField('input_reference');
      const problems = checkCapabilities(caps, {
        model,
        providerType: String(providerType),
        size: r.size?.value,
        seconds: link?.relation === 'remix_of' ? undefined : r.seconds?.value,
        relation: link?.relation,
        frames: [
          ...(ref === undefined ? [] : [{ at: 'first' as const, crop: false, shortForm: true }]),
          ...(frames ?? []).map((f) => ({ at: f.at, crop: f.crop !== undefined, shortForm: false })),
        ],
        inputVideo:
          video === undefined
            ? undefined
            : { at: video.at, crop: video.crop !== undefined, durationSeconds: undefined },
        referenceImages: refs?.length ?? 0,
        variants: variants === undefined ? undefined : Number(variants.value),
        negativePrompt: negative !== undefined,
        seed: seed !== undefined,
        audio: audio === undefined ? undefined : Boolean(audio.value),
      });
      const offset = ref === undefined ? 0 : 1;
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
          case 'frames': {
            const item = p.index === undefined ? undefined : frames?.[p.index - offset];
            const at =
              item === undefined
                ? framesField?.location
                : p.part === 'at'
                  ? item.atLocation
                  : p.part === 'crop'
                    ? item.cropLocation
                    : item.location;
            if (at !== undefined) error(p.message, at);
            break;
          }
          case 'input_video': {
            const at =
              p.part === 'at'
                ? video?.atLocation
                : p.part === 'crop'
                  ? video?.cropLocation
                  : videoField?.location;
            if (at !== undefined) error(p.message, at);
            break;
          }
          case 'reference_images':
            if (refsField !== undefined) error(p.message, refsField.location);
            break;
          case 'variants':
          case 'negative_prompt':
          case 'seed':
          case 'audio': {
            const src = { variants, negative_prompt: negative, seed, audio }[p.field];
            if (src !== undefined) report('error', p.message, src.location, shot.id, isShared(src));
            break;
          }
          default:
            unreachable(p.field);
        }
      }
    }

    // Negative prompt: interpolated like the prompt.
    if (negative !== undefined) {
      const node =
        negative.from === 'shot' ? shot.fields.get('negative_prompt') : defaults.get('negative_prompt');
      if (node !== undefined && isScalar(node.node)) {
        const value = String(node.value);
        const done = interpolate({
          value,
          source: sourceText(file, node.node),
          vars,
          env: options.env,
          suggestions: varSuggestions,
        });
        for (const name of done.envUsed) envUsed.add(name);
        const at = node.node.range[0];
        for (const p of done.problems)
          error(p.message, { file, range: { offset: at + p.offset, length: p.length } });
        negativePrompts.set(shot.id, done.text);
      }
    }

    // Frame images, reference images and the input video, by their bytes.
    const shotFit = (shot.fields.get('fit')?.value ??
      defaults.get('fit')?.value ??
      BUILTIN_DEFAULTS.fit) as Fit;
    const fitKnown = !shot.badFields.has('fit') && !bad.has('/defaults/fit');
    if (frames !== undefined && frames.length > 0) {
      const list: (FrameConfig | undefined)[] = frames.map(() => undefined);
      for (const [i, f] of frames.entries()) {
        const fit = f.fit ?? shotFit;
        pendingImages.push(
          checkImage({
            written: f.image,
            location: f.imageLocation,
            fit,
            size: fitKnown && r.trusted ? r.size?.value : undefined,
            what: 'frame image',
            field: 'image',
          }).then((image) => {
            if (image !== undefined) list[i] = { image, at: f.at, crop: f.crop };
          }),
        );
      }
      frameConfigs.set(shot.id, list as FrameConfig[]);
    }
    if (refs !== undefined && refs.length > 0) {
      const list: (ReferenceImage | undefined)[] = refs.map(() => undefined);
      for (const [i, item] of refs.entries()) {
        pendingImages.push(
          checkImage({
            written: item.path,
            location: item.location,
            fit: 'none',
            size: undefined,
            what: 'reference image',
            field: 'reference_images',
          }).then((image) => {
            if (image !== undefined) list[i] = image;
          }),
        );
      }
      referenceConfigs.set(shot.id, list as ReferenceImage[]);
    }
    if (video !== undefined) {
      const written = video.video;
      const maxSeconds = caps?.inputVideo?.maxSeconds;
      const problem = referencePathProblem(written, 'input_video');
      if (problem !== undefined) error(problem, video.videoLocation);
      else
        pendingImages.push(
          options.videos.check(path.resolve(manifestDir, written)).then((v) => {
            if (!v.ok) {
              error(v.problem(written), video.videoLocation);
              return;
            }
            if (maxSeconds !== undefined && v.durationSeconds > maxSeconds + 0.001) {
              error(
                `Expected an input video of at most ${maxSeconds} s for model ${r.model?.value ?? ''}, but ${JSON.stringify(written)} lasts ${Math.round(v.durationSeconds * 100) / 100} s`,
                video.videoLocation,
              );
            }
            videoConfigs.set(shot.id, {
              path: path.resolve(manifestDir, written),
              displayPath: v.displayPath,
              mime: v.mime,
              durationSeconds: v.durationSeconds,
              sourceDigest: v.digest,
              at: video.at,
              crop: video.crop,
              location: video.videoLocation,
            });
          }),
        );
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
    if (ref !== undefined && link === undefined) {
      pendingImages.push(
        checkImage({
          written: String(ref.value),
          location: ref.location,
          fit: shotFit,
          size: fitKnown && r.trusted ? r.size?.value : undefined,
          what: 'reference image',
          field: 'input_reference',
        }).then((image) => {
          if (image !== undefined) images.set(shot.id, image);
        }),
      );
    } else if (
      fitOwn !== undefined &&
      ref === undefined &&
      (frames === undefined || frames.length === 0) &&
      link === undefined &&
      !shot.badFields.has('input_reference') &&
      !shot.badFields.has('frames')
    ) {
      diagnostics.push({
        severity: 'warning',
        message: `Expected \`fit\` only with an \`input_reference\` to resize, but this shot has none; \`fit\` has no effect`,
        location: fitOwn.keyLocation,
      });
    }

    // Output: one file per variant.
    const outputField = shot.fields.get('output');
    const count = variants === undefined ? 1 : Number(variants.value);
    if (outputField !== undefined) {
      const checked = variantOutputs(String(outputField.value), shot.id, count);
      if (!checked.ok) error(checked.message, outputField.location);
      else {
        outputsOf.set(shot.id, checked.outputs);
        for (const output of checked.outputs)
          claims.push({ shot: shot.id, output, location: outputField.location, explicit: true });
      }
    } else if (!shot.badFields.has('output')) {
      const outputs = (variantOutputs(undefined, shot.id, count) as { outputs: string[] }).outputs;
      outputsOf.set(shot.id, outputs);
      for (const output of outputs)
        claims.push({ shot: shot.id, output, location: shot.location, explicit: false });
    }
  }
  diagnostics.push(...outputCollisions(claims));
  for (const { type, model, location, shots } of unknownModels.values()) {
    diagnostics.push({
      severity: 'warning',
      message: `Expected a model known for provider type ${type} (${Object.keys(CAPABILITIES[type]).join(', ')}), but found \`${model}\`${shots > 1 ? ` (in ${shots} shots)` : ''}; its sizes and seconds are not checked`,
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
    const outputs = outputsOf.get(shot.id) ?? [`${shot.id}.mp4`];
    const provider = shotProviders.get(shot.id) ?? defaultProvider;
    const own = <T>(name: ShotField & DefaultsField, convert: (v: unknown) => T): T | undefined => {
      const v = ownOrShared(shot, name);
      return v === undefined ? undefined : convert(v.value);
    };
    shots.set(shot.id, {
      id: shot.id,
      prompt: prompts.get(shot.id) ?? '',
      model: r.model?.value ?? builtinModel(providerTypes.get(provider) ?? options.providerType),
      size,
      width,
      height,
      seconds: r.seconds?.value ?? BUILTIN_DEFAULTS.seconds,
      inputReference: images.get(shot.id),
      provider,
      frames: frameConfigs.get(shot.id) ?? [],
      inputVideo: videoConfigs.get(shot.id),
      referenceImages: referenceConfigs.get(shot.id) ?? [],
      variants: own('variants', Number) ?? 1,
      negativePrompt: negativePrompts.get(shot.id),
      seed: own('seed', Number),
      audio: own('audio', Boolean),
      remixOf: link?.relation === 'remix_of' ? asShotId(link.id) : undefined,
      extendOf: link?.relation === 'extend_of' ? asShotId(link.id) : undefined,
      output: outputs[0]!,
      outputs,
      assets: ASSETS.filter((a) => a === 'video' || assetList.includes(a)),
      location: shot.location,
      fieldLocations: shot.fieldLocations,
    });
  }
  return { shots, diagnostics, envVarsUsed: [...envUsed].sort() };
}

const untrusted: Resolved = {
  provider: undefined,
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
