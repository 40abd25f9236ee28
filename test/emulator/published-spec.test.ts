/**
 * The project's contract (contract/openai-videos.schema.json, which every other emulator test uses) says the
 * same as OpenAI's published OpenAPI spec about each response: the same fields, types, enums, required and
 * nullable ones. The spec is kept in the repository (contract/openai-videos.openapi.yaml, a verbatim excerpt
 * with its source in its header), so the check runs in every clone and reads nothing outside it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONTRACT_URL, expectSchema } from './helpers.ts';

const SPEC_PATH = fileURLToPath(new URL('contract/openai-videos.openapi.yaml', import.meta.url));

interface Node {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly Node[];
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly items?: Node;
}

/** What both documents must agree on, with descriptions, defaults and annotations left out. */
interface Shape {
  types: string[];
  enum?: string[];
  properties?: Record<string, Shape>;
  required?: string[];
  items?: Shape;
}

function shapeOf(node: Node, resolve: (ref: string) => Node): Shape {
  if (node.$ref !== undefined) return shapeOf(resolve(node.$ref), resolve);
  if (node.anyOf !== undefined) {
    const branches = node.anyOf.map((b) => shapeOf(b, resolve));
    const merged: Shape = { types: [...new Set(branches.flatMap((b) => b.types))].sort() };
    // An enum survives only if every non-null branch is limited to one (`string | 'sora-2'` is any string).
    const valued = branches.filter((b) => !(b.types.length === 1 && b.types[0] === 'null'));
    if (valued.every((b) => b.enum !== undefined))
      merged.enum = [...new Set(valued.flatMap((b) => b.enum!))].sort();
    const object = branches.find((b) => b.properties !== undefined);
    if (object !== undefined) {
      merged.properties = object.properties!;
      merged.required = object.required!;
    }
    const array = branches.find((b) => b.items !== undefined);
    if (array !== undefined) merged.items = array.items!;
    if (merged.enum === undefined) delete merged.enum;
    return merged;
  }
  const shape: Shape = { types: [] };
  if (node.const !== undefined) {
    shape.types = [typeof node.const];
    shape.enum = [JSON.stringify(node.const)];
  } else if (node.type !== undefined) {
    shape.types = (typeof node.type === 'string' ? [node.type] : [...node.type]).sort();
  } else if (node.properties !== undefined) shape.types = ['object'];
  if (node.enum !== undefined) shape.enum = node.enum.map((v) => JSON.stringify(v)).sort();
  if (node.properties !== undefined) {
    shape.properties = Object.fromEntries(
      Object.entries(node.properties)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v, resolve)]),
    );
    shape.required = [...(node.required ?? [])].sort();
  }
  if (node.items !== undefined) shape.items = shapeOf(node.items, resolve);
  return shape;
}

/** Our name -> the published spec's component name. */
const PAIRS = {
  VideoResource: 'VideoResource',
  VideoListResource: 'VideoListResource',
  DeletedVideoResource: 'DeletedVideoResource',
  VideoError: 'Error-2',
  VideoStatus: 'VideoStatus',
  VideoSize: 'VideoSize',
  VideoModel: 'VideoModel',
  Error: 'Error',
  ErrorResponse: 'ErrorResponse',
} as const;

describe('the contract itself', () => {
  it('refuses a missing field, a wrong type and a field the API does not have', () => {
    const video = {
      id: 'video_1',
      object: 'video',
      model: 'sora-2',
      status: 'queued',
      progress: 0,
      created_at: 1,
      completed_at: null,
      expires_at: null,
      prompt: 'p',
      size: '1280x720',
      seconds: '4',
      remixed_from_video_id: null,
      error: null,
    };
    expectSchema('VideoResource', video);
    const { progress: _progress, ...missing } = video;
    expect(() => expectSchema('VideoResource', missing)).toThrow(/progress/);
    expect(() => expectSchema('VideoResource', { ...video, seconds: 4 })).toThrow(/seconds/);
    expect(() => expectSchema('VideoResource', { ...video, quality: 'high' })).toThrow(/additional/);
  });
});

describe('the contract agrees with the published OpenAPI spec', () => {
  const [first] = parseAllDocuments(readFileSync(SPEC_PATH, 'utf8'));
  const published = (first!.toJS() as { components: { schemas: Record<string, Node> } }).components.schemas;
  const ours = (JSON.parse(readFileSync(CONTRACT_URL, 'utf8')) as { $defs: Record<string, Node> }).$defs;
  const fromPublished = (ref: string): Node => published[ref.split('/').pop()!]!;
  const fromOurs = (ref: string): Node => ours[ref.split('/').pop()!]!;

  it.each(Object.entries(PAIRS))('%s matches components.schemas.%s', (mine, theirs) => {
    expect(published[theirs], `the spec has no ${theirs}`).toBeDefined();
    expect(shapeOf(ours[mine]!, fromOurs)).toEqual(shapeOf(published[theirs]!, fromPublished));
  });
});
