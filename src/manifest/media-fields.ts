/**
 * Reads the media fields of a shot (`frames:`, `input_video:`, `reference_images:`) from the YAML AST, each
 * part with its own position, after the JSON Schema has accepted their shapes. What the schema cannot say is
 * checked here: `at` is `first`, `last` or an index; a crop leaves a non-empty area; two frames never share a
 * position. The files themselves are checked later (reference-images.ts, input-videos.ts).
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { ParsedNode } from 'yaml';
import type { Diagnostic, Location, SourceFile } from '../core/diagnostic.ts';
import type { CropBounds, FramePosition } from '../provider/job-api.ts';
import { didYouMean } from './did-you-mean.ts';
import type { Fit } from './types.ts';
import type { YamlDocument } from './yaml-document.ts';
import { entriesOf, rangeOfNode, resolveNode } from './yaml-document.ts';

export interface FrameItem {
  readonly image: string;
  readonly imageLocation: Location;
  readonly at: FramePosition;
  readonly atLocation: Location;
  readonly crop: CropBounds | undefined;
  readonly cropLocation: Location | undefined;
  /** The item's own `fit`, when written. */
  readonly fit: Fit | undefined;
  readonly location: Location;
}

export interface InputVideoItem {
  readonly video: string;
  readonly videoLocation: Location;
  readonly at: number;
  readonly atLocation: Location;
  readonly crop: CropBounds | undefined;
  readonly cropLocation: Location | undefined;
}

export interface PathItem {
  readonly path: string;
  readonly location: Location;
}

interface Context {
  readonly doc: YamlDocument;
  readonly file: SourceFile;
  readonly diagnostics: Diagnostic[];
}

const POSITIONS = ['first', 'last'] as const;

/** The items of `frames:`; `undefined` when one of them is wrong (reported). */
export function readFrames(node: ParsedNode, ctx: Context): FrameItem[] | undefined {
  if (!isSeq(node)) return undefined;
  const items: FrameItem[] = [];
  let broken = false;
  const taken = new Map<string, Location>();
  for (const raw of node.items) {
    const item = resolveNode(ctx.doc, raw);
    if (!isMap(item)) return undefined;
    const fields = entriesOf(item);
    const value = (name: string): ParsedNode | undefined => resolveNode(ctx.doc, fields.get(name)?.value);
    const imageNode = value('image');
    const atNode = value('at');
    if (imageNode === undefined || atNode === undefined || !isScalar(imageNode) || !isScalar(atNode))
      return undefined;
    const atLocation = locate(ctx, atNode);
    const at = readPosition(atNode.value, atLocation, ctx);
    const cropNode = value('crop');
    const crop = cropNode === undefined ? undefined : readCrop(cropNode, ctx);
    if (at === undefined || crop === null) {
      broken = true;
      continue;
    }
    const where = String(at === 0 ? 'first' : at);
    const earlier = taken.get(where);
    if (earlier !== undefined) {
      ctx.diagnostics.push({
        severity: 'error',
        message: `Expected each frame at its own position, but two are at ${describeAt(at)} (the other at ${lineCol(ctx.file, earlier)})`,
        location: atLocation,
      });
      broken = true;
      continue;
    }
    taken.set(where, atLocation);
    const fitNode = value('fit');
    items.push({
      image: String(imageNode.value),
      imageLocation: locate(ctx, imageNode),
      at,
      atLocation,
      crop,
      cropLocation: cropNode === undefined ? undefined : locate(ctx, cropNode),
      fit: fitNode !== undefined && isScalar(fitNode) ? (String(fitNode.value) as Fit) : undefined,
      location: locate(ctx, item),
    });
  }
  return broken ? undefined : items;
}

/** `input_video:` as a path, or `{video, at, crop}`; `undefined` when wrong (reported). */
export function readInputVideo(node: ParsedNode, ctx: Context): InputVideoItem | undefined {
  if (isScalar(node)) {
    const location = locate(ctx, node);
    return {
      video: String(node.value),
      videoLocation: location,
      at: 0,
      atLocation: location,
      crop: undefined,
      cropLocation: undefined,
    };
  }
  if (!isMap(node)) return undefined;
  const fields = entriesOf(node);
  const value = (name: string): ParsedNode | undefined => resolveNode(ctx.doc, fields.get(name)?.value);
  const videoNode = value('video');
  if (videoNode === undefined || !isScalar(videoNode)) return undefined;
  const atNode = value('at');
  const cropNode = value('crop');
  const crop = cropNode === undefined ? undefined : readCrop(cropNode, ctx);
  if (crop === null) return undefined;
  const videoLocation = locate(ctx, videoNode);
  return {
    video: String(videoNode.value),
    videoLocation,
    at: atNode !== undefined && isScalar(atNode) ? Number(atNode.value) : 0,
    atLocation: atNode === undefined ? videoLocation : locate(ctx, atNode),
    crop,
    cropLocation: cropNode === undefined ? undefined : locate(ctx, cropNode),
  };
}

/** The paths of `reference_images:`. */
export function readPaths(node: ParsedNode, ctx: Context): PathItem[] | undefined {
  if (!isSeq(node)) return undefined;
  const items: PathItem[] = [];
  for (const raw of node.items) {
    const item = resolveNode(ctx.doc, raw);
    if (item === undefined || !isScalar(item)) return undefined;
    items.push({ path: String(item.value), location: locate(ctx, item) });
  }
  return items;
}

function readPosition(value: unknown, location: Location, ctx: Context): FramePosition | undefined {
  if (typeof value === 'number') return value; // the schema checked: a whole number, at least 0
  const text = String(value);
  if ((POSITIONS as readonly string[]).includes(text)) return text as 'first' | 'last';
  if (/^[0-9]+$/.test(text)) return Number(text);
  const suggestion = didYouMean(text, POSITIONS);
  ctx.diagnostics.push({
    severity: 'error',
    message: `Expected \`at\` to be first, last or a frame index, but found ${JSON.stringify(text)}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
    location,
  });
  return undefined;
}

/** The crop, with its defaults; `null` when it leaves no area (reported). */
function readCrop(node: ParsedNode, ctx: Context): CropBounds | null | undefined {
  if (!isMap(node)) return undefined;
  const fields = entriesOf(node);
  const side = (name: string, fallback: number): number => {
    const n = resolveNode(ctx.doc, fields.get(name)?.value);
    return n !== undefined && isScalar(n) && typeof n.value === 'number' ? n.value : fallback;
  };
  const crop = {
    left: side('left', 0),
    top: side('top', 0),
    right: side('right', 1),
    bottom: side('bottom', 1),
  };
  if (crop.left >= crop.right || crop.top >= crop.bottom) {
    ctx.diagnostics.push({
      severity: 'error',
      message: `Expected \`crop\` to leave an area (left < right and top < bottom), but found left ${crop.left}, top ${crop.top}, right ${crop.right}, bottom ${crop.bottom}`,
      location: locate(ctx, node),
    });
    return null;
  }
  return crop;
}

function describeAt(at: FramePosition): string {
  return at === 0 ? 'the first frame' : typeof at === 'number' ? `frame ${at}` : `the ${at} frame`;
}

function locate(ctx: Context, node: ParsedNode): Location {
  return { file: ctx.file, range: rangeOfNode(node) ?? { offset: 0, length: 0 } };
}

function lineCol(file: SourceFile, location: Location): string {
  const before = file.contents.slice(0, location.range.offset);
  const line = before.split('\n').length;
  const col = location.range.offset - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}
