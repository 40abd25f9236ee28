/**
 * YAML with positions: parsing (the `yaml` package keeps every node's source range), our own duplicate-key
 * check naming both places, and the mapping from a JSON pointer (what ajv reports) back to the node and
 * its range (what the user sees as `file:line:col`).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair, ParsedNode, YAMLMap } from 'yaml';
import type { Diagnostic, Location, Range, SourceFile } from '../core/diagnostic.ts';
import { parseYamlFast } from './fast-yaml.ts';
import { lineColumnOf } from './line-index.ts';
import { findDeepNesting, MAX_YAML_DEPTH } from './nesting-depth.ts';

export type YamlDocument = Document.Parsed;

export interface ParsedYaml {
  /** `undefined` when the text is not valid YAML (then `diagnostics` holds the syntax errors). */
  readonly doc: YamlDocument | undefined;
  /** The document as plain JavaScript (what the JSON Schema checks); `undefined` with `doc`. */
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
  /** Read by the fast reader (fast-yaml.ts): problems found later are best reported after a full parse. */
  readonly fast: boolean;
}

export function locationOf(file: SourceFile, range: Range): Location {
  return { file, range };
}

/** The range of a node's own text: `[start, valueEnd)` (a block collection's range spans its lines). */
export function rangeOfNode(node: Node | null | undefined): Range | undefined {
  const r = node?.range;
  if (r === undefined || r === null) return undefined;
  return { offset: r[0], length: Math.max(0, r[1] - r[0]) };
}

/**
 * Parses `file`; syntax errors and duplicate keys become diagnostics. Duplicate keys are checked by us
 * (`uniqueKeys: false`) so the message can name both places; the document still resolves them (last wins).
 *
 * With `fast` (the default) the fast reader goes first (fast-yaml.ts): the same Document for plain
 * storyboards in a tenth of the time. It declines anything unusual, and then the `yaml` package parses.
 */
export function parseYaml(file: SourceFile, options: { readonly fast?: boolean } = {}): ParsedYaml {
  // Before any parser recurses into it: past the limit, the parsers run out of stack.
  const deep = findDeepNesting(file.contents);
  if (deep !== undefined) {
    const diagnostic: Diagnostic = {
      severity: 'error',
      message: `Expected YAML nested at most ${MAX_YAML_DEPTH} levels deep, but it goes deeper here`,
      location: locationOf(file, { offset: deep.offset, length: 1 }),
    };
    return { doc: undefined, value: undefined, diagnostics: [diagnostic], fast: false };
  }
  if (options.fast !== false) {
    const quick = parseYamlFast(file.contents);
    if (quick !== undefined) return { doc: quick.doc, value: quick.value, diagnostics: [], fast: true };
  }
  const doc = parseDocument(file.contents, {
    uniqueKeys: false,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const diagnostics: Diagnostic[] = [];
  for (const w of doc.warnings) {
    diagnostics.push({
      severity: 'warning',
      message: `YAML: ${w.message}`,
      location: locationOf(file, { offset: w.pos[0], length: w.pos[1] - w.pos[0] }),
    });
  }
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      diagnostics.push({
        severity: 'error',
        message: `Invalid YAML: ${e.message}${YAML_HINTS[e.code] ?? ''}`,
        location: locationOf(file, { offset: e.pos[0], length: e.pos[1] - e.pos[0] }),
      });
    }
    return { doc: undefined, value: undefined, diagnostics, fast: false };
  }
  const { duplicates, aliases } = checkStructure(doc, file);
  diagnostics.push(...duplicates, ...aliases);
  if (aliases.length > 0) return { doc: undefined, value: undefined, diagnostics, fast: false };
  let value: unknown;
  try {
    // Resolving aliases here catches alias bombs (`maxAliasCount`) before anything else expands them.
    value = doc.toJS();
  } catch (e) {
    diagnostics.push({
      severity: 'error',
      message: `Invalid YAML: ${e instanceof Error ? e.message : String(e)}`,
      location: locationOf(file, { offset: 0, length: 0 }),
    });
    return { doc: undefined, value: undefined, diagnostics, fast: false };
  }
  return { doc, value, diagnostics, fast: false };
}

/** What to do about the YAML mistakes people make most in storyboards. */
const YAML_HINTS: Readonly<Partial<Record<string, string>>> = {
  BLOCK_AS_IMPLICIT_KEY: ' (if this is text containing `: `, put the text in quotes)',
  MULTIPLE_DOCS: ' (one storyboard per file: remove the `---`)',
  TAB_AS_INDENT: ' (indent with spaces)',
};

/** The string a mapping key stands for (as `toJS` would use it), or `undefined` for a non-scalar key. */
export function keyString(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return '';
  return undefined;
}

/**
 * One walk over the whole tree (keys included) for what the YAML library leaves to us: aliases without an
 * anchor before them, and keys given twice in one mapping (named with both places). A plain recursive walk:
 * the library's generic `visit` costs several times more on a 10,000-shot storyboard.
 */
function checkStructure(
  doc: YamlDocument,
  file: SourceFile,
): { duplicates: Diagnostic[]; aliases: Diagnostic[] } {
  const duplicates: Diagnostic[] = [];
  const aliases: Diagnostic[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      checkKeys(node, file, duplicates);
      for (const pair of node.items) {
        walk(pair.key);
        walk(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    } else if (isAlias(node)) {
      if (node.resolve(doc) !== undefined) return;
      aliases.push({
        severity: 'error',
        message: `Expected \`*${node.source}\` to refer to an anchor \`&${node.source}\` defined before it, but there is none`,
        location: locationOf(file, rangeOfNode(node) ?? { offset: 0, length: 0 }),
      });
    }
  };
  walk(doc.contents);
  return { duplicates, aliases };
}

function checkKeys(map: YAMLMap, file: SourceFile, diagnostics: Diagnostic[]): void {
  const seen = new Map<string, Pair>();
  for (const pair of map.items) {
    const key = keyString(pair);
    const keyRange = rangeOfNode(pair.key as Node | null);
    if (key === undefined) {
      if (keyRange !== undefined) {
        diagnostics.push({
          severity: 'error',
          message: 'Expected a plain key (text), but found a list or mapping used as a key',
          location: locationOf(file, keyRange),
        });
      }
      continue;
    }
    const first = seen.get(key);
    const firstRange = rangeOfNode(first?.key as Node | null);
    if (first !== undefined && keyRange !== undefined && firstRange !== undefined) {
      diagnostics.push({
        severity: 'error',
        message: `Expected each key once in a mapping, but \`${key}\` appears twice (first at line ${lineColumnOf(file, firstRange.offset).line})`,
        location: locationOf(file, keyRange),
        supplementalLocations: [
          { message: `\`${key}\` is first defined here`, location: locationOf(file, firstRange) },
        ],
      });
    } else if (first === undefined) {
      seen.set(key, pair);
    }
  }
}

/** Follows an alias (`*name`) to the node it stands for. */
export function resolveNode(doc: YamlDocument, node: unknown): ParsedNode | undefined {
  if (isAlias(node)) return node.resolve(doc) as ParsedNode | undefined;
  return (node ?? undefined) as ParsedNode | undefined;
}

/**
 * Each mapping's pairs by key, made on first lookup: a diagnostic per shot looks its shot up in `shots:`,
 * and a scan of the mapping per lookup made 10,000 bad shots cost 10^8 key comparisons. Parsed documents
 * are not changed afterwards; a changed item count rebuilds the index all the same.
 */
const pairIndex = new WeakMap<YAMLMap, { readonly size: number; readonly pairs: Map<string, Pair> }>();

/** The pair for `key` in `map` (the last one, as `toJS` resolves duplicates). */
export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndex.get(map);
  if (index?.size !== map.items.length) {
    const pairs = new Map<string, Pair>();
    for (const pair of map.items) {
      const k = keyString(pair);
      if (k !== undefined) pairs.set(k, pair);
    }
    index = { size: map.items.length, pairs };
    pairIndex.set(map, index);
  }
  return index.pairs.get(key);
}

export interface PointerTarget {
  /** The node at the pointer (after aliases), if it exists. */
  readonly node: ParsedNode | undefined;
  /** The node as written there: the alias (`*name`) itself when it is one, so messages point at it. */
  readonly written: ParsedNode | undefined;
  /** The key of the mapping entry that holds it, if it is held by one. */
  readonly key: ParsedNode | undefined;
}

/** Decodes a JSON pointer (`/shots/a~1b/seconds`) into its segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Walks `pointer` down the document's AST. */
export function nodeAtPointer(doc: YamlDocument, pointer: string): PointerTarget {
  let written = doc.contents ?? undefined;
  let node = resolveNode(doc, written);
  let key: ParsedNode | undefined;
  const none = { node: undefined, written: undefined, key: undefined };
  for (const segment of pointerSegments(pointer)) {
    if (isMap(node)) {
      const pair = pairOf(node, segment);
      if (pair === undefined) return none;
      key = pair.key as ParsedNode;
      written = (pair.value ?? undefined) as ParsedNode | undefined;
    } else if (isSeq(node)) {
      key = undefined;
      written = node.items[Number(segment)];
    } else {
      return none;
    }
    node = resolveNode(doc, written);
  }
  return { node, written, key };
}

/** Pairs of a mapping node as `[key, pair]`, last one winning for duplicated keys. */
export function entriesOf(map: YAMLMap): Map<string, Pair> {
  const out = new Map<string, Pair>();
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const key = keyString(pair);
    if (key !== undefined) out.set(key, pair);
  }
  return out;
}
