/**
 * A fast first reading of a storyboard: js-yaml's event parser (offsets into the text, no tree) turned into
 * the same `yaml` Document, with the same node ranges, that `parseDocument` gives, for the plain YAML that
 * storyboards are made of. On a 10,000-shot manifest it takes about a tenth of the time of the `yaml`
 * package's positioned parse, which was most of a `plan` after an edit.
 *
 * It answers only when it is sure, and `undefined` otherwise, and the caller then parses with the `yaml`
 * package as always:
 * - anything beyond plain block and flow collections of scalars: anchors, aliases, tags, documents markers
 *   or directives, complex keys, `__proto__`, tab characters, a block scalar with a keep (`+`) or explicit
 *   indentation indicator, an empty value anywhere but after a mapping key;
 * - any syntax error (js-yaml is as strict as the YAML 1.2 grammar), and any key given twice, so every
 *   problem is still reported by the full parse, with both places named;
 * - any offset that does not land where it should (a quote, a block indicator, a closing bracket).
 * Plain scalars are resolved with the `yaml` package's own core-schema tags (the same `test` and `resolve`
 * its composer uses), so `8`, `8.0`, `0x8`, `~` or `true` mean exactly what they mean to the full parse.
 * test/manifest/fast-yaml.test.ts holds both readings side by side, node by node, over generated and
 * hand-written manifests.
 */
import {
  CHOMPING_MODE,
  COLLECTION_STYLE,
  EVENT_ID,
  SCALAR_STYLE,
  getScalarValue,
  parseEvents,
} from 'js-yaml';
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { Node } from 'yaml';

type Event = ReturnType<typeof parseEvents>[number];
type ScalarEvent = Extract<Event, { type: typeof EVENT_ID.SCALAR }>;
type Range = [number, number, number];

export interface FastParse {
  readonly doc: Document.Parsed;
  /** The document as plain JavaScript (what `doc.toJS()` gives). */
  readonly value: unknown;
}

/** Thrown inside the walk when the text is outside what this reader answers for. */
class Unsure extends Error {}

interface ScalarTagLike {
  readonly default?: boolean | 'key';
  readonly test?: RegExp;
  readonly format?: string;
  readonly collection?: string;
  resolve(value: string, onError: (message: string) => void, options: unknown): unknown;
}

export function parseYamlFast(text: string): FastParse | undefined {
  if (text.includes('\t')) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: 100 });
  } catch {
    return undefined;
  }
  const first = events[0];
  const documents = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
  if (
    first?.type !== EVENT_ID.DOCUMENT ||
    documents !== 1 ||
    first.explicitStart ||
    first.explicitEnd ||
    first.directives.length > 0 ||
    events.length < 3
  )
    return undefined;
  const doc = new Document();
  try {
    const reader = new Reader(text, events, doc);
    const root = reader.node(1, false, -1);
    if (events[reader.index]?.type !== EVENT_ID.POP || reader.index !== events.length - 1) return undefined;
    doc.contents = root.node;
    return { doc: doc as unknown as Document.Parsed, value: root.value };
  } catch (error) {
    if (error instanceof Unsure) return undefined;
    throw error;
  }
}

interface Built {
  readonly node: Node;
  readonly value: unknown;
  readonly range: Range;
}

class Reader {
  index = 0;
  readonly #text: string;
  readonly #events: readonly Event[];
  readonly #doc: Document;
  readonly #tags: readonly ScalarTagLike[];

  constructor(text: string, events: readonly Event[], doc: Document) {
    this.#text = text;
    this.#events = events;
    this.#doc = doc;
    this.#tags = (doc.schema.tags as unknown as ScalarTagLike[]).filter((t) => t.collection === undefined);
  }

  /**
   * The node whose event is at `at`; `index` moves past it. `flow`: inside a flow collection (no line end
   * belongs to the node). `keyEnd`: the end of the mapping key this node is the value of, or -1.
   */
  node(at: number, flow: boolean, keyEnd: number): Built {
    const event = this.#events[at];
    if (event === undefined) throw new Unsure();
    switch (event.type) {
      case EVENT_ID.SCALAR:
        this.index = at + 1;
        return this.#scalar(event, flow, keyEnd, false);
      case EVENT_ID.MAPPING:
        if (event.anchorStart !== -1 || event.tagStart !== -1) throw new Unsure();
        return this.#map(at, event.start, event.style === COLLECTION_STYLE.FLOW, flow);
      case EVENT_ID.SEQUENCE:
        if (event.anchorStart !== -1 || event.tagStart !== -1) throw new Unsure();
        return this.#seq(at, event.start, event.style === COLLECTION_STYLE.FLOW, flow);
      case EVENT_ID.ALIAS:
      case EVENT_ID.DOCUMENT:
      case EVENT_ID.POP:
        throw new Unsure(); // an alias; no node where one was due
    }
  }

  #map(at: number, start: number, isFlow: boolean, inFlow: boolean): Built {
    const map = new YAMLMap(this.#doc.schema);
    map.flow = isFlow;
    const value: Record<string, unknown> = {};
    const seen = new Set<string>();
    let i = at + 1;
    let last: Range | undefined;
    while (this.#events[i]?.type !== EVENT_ID.POP) {
      const keyEvent = this.#events[i];
      if (keyEvent?.type !== EVENT_ID.SCALAR || keyEvent.valueStart === -1) throw new Unsure();
      const key = this.#scalar(keyEvent, true, -1, true);
      const name = String(key.value);
      // Duplicates are reported by the full parse (both places named); `__proto__` needs toJS's care.
      if (seen.has(name) || name === '__proto__' || typeof key.value === 'object') throw new Unsure();
      seen.add(name);
      const item = this.node(i + 1, isFlow || inFlow, key.range[1]);
      map.items.push(new Pair(key.node, item.node));
      value[name] = item.value;
      last = item.range;
      i = this.index;
    }
    this.index = i + 1;
    return { node: map, value, range: this.#collectionRange(map, start, isFlow, inFlow, last, '}') };
  }

  #seq(at: number, start: number, isFlow: boolean, inFlow: boolean): Built {
    const seq = new YAMLSeq(this.#doc.schema);
    seq.flow = isFlow;
    const value: unknown[] = [];
    let i = at + 1;
    let last: Range | undefined;
    while (this.#events[i]?.type !== EVENT_ID.POP) {
      const item = this.node(i, isFlow || inFlow, -1);
      seq.items.push(item.node);
      value.push(item.value);
      last = item.range;
      i = this.index;
    }
    this.index = i + 1;
    return { node: seq, value, range: this.#collectionRange(seq, start, isFlow, inFlow, last, ']') };
  }

  #collectionRange(
    node: YAMLMap | YAMLSeq,
    start: number,
    isFlow: boolean,
    inFlow: boolean,
    last: Range | undefined,
    close: '}' | ']',
  ): Range {
    let range: Range;
    if (isFlow) {
      // The closing bracket follows the last item, past spaces, line breaks, commas and comments.
      let p = last === undefined ? start + 1 : last[1];
      for (;;) {
        const c = this.#text[p];
        if (c === ' ' || c === '\n' || c === '\r' || c === ',') p++;
        else if (c === '#') p = this.#lineEnd(p, false);
        else break;
      }
      if (this.#text[p] !== close || this.#text[start] !== (close === '}' ? '{' : '[')) throw new Unsure();
      const end = p + 1;
      range = [start, end, inFlow ? end : this.#lineEnd(end, true)];
    } else {
      if (last === undefined) throw new Unsure();
      range = [start, last[2], last[2]];
    }
    node.range = range;
    return range;
  }

  #scalar(event: ScalarEvent, flow: boolean, keyEnd: number, atKey: boolean): Built {
    if (event.anchorStart !== -1 || event.tagStart !== -1) throw new Unsure();
    const text = this.#text;
    let scalar: Scalar;
    let range: Range;
    const { valueStart: vs, valueEnd: ve } = event;
    switch (event.style) {
      case SCALAR_STYLE.PLAIN: {
        let source: string;
        let at: number;
        let end: number;
        if (vs === -1) {
          // An empty value (`fit:`): where the full parse puts it, just after the key's colon.
          if (keyEnd === -1 || flow) throw new Unsure();
          let p = keyEnd;
          while (text[p] === ' ') p++;
          if (text[p] !== ':') throw new Unsure();
          at = p + 1;
          while (text[at] === ' ') at++;
          end = at;
          source = '';
        } else {
          source = getScalarValue(text, event);
          at = vs;
          end = ve;
        }
        scalar = this.#resolvePlain(source, atKey);
        scalar.type = 'PLAIN';
        let nodeEnd = atKey || flow ? end : this.#lineEnd(end, true);
        if (vs === -1 && !flow) {
          // The full parse's extent of an empty value: nothing, or its comment and all the blank space after
          // it, up to the next thing written.
          nodeEnd = text[at] === '#' ? this.#blankLinesEnd(nodeEnd) : at;
        }
        range = [at, end, nodeEnd];
        break;
      }
      case SCALAR_STYLE.SINGLE_QUOTED:
      case SCALAR_STYLE.DOUBLE_QUOTED: {
        const quote = event.style === SCALAR_STYLE.SINGLE_QUOTED ? "'" : '"';
        if (text[vs - 1] !== quote || text[ve] !== quote) throw new Unsure();
        scalar = new Scalar(getScalarValue(text, event));
        scalar.type = quote === "'" ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE';
        range = [vs - 1, ve + 1, atKey || flow ? ve + 1 : this.#lineEnd(ve + 1, true)];
        break;
      }
      case SCALAR_STYLE.LITERAL_BLOCK:
      case SCALAR_STYLE.FOLDED_BLOCK: {
        if (atKey || flow || vs === -1 || event.chomping === CHOMPING_MODE.KEEP) throw new Unsure();
        // The header (`|`, `>-`) is on the line before the content; the range starts at its indicator.
        const headerEnd = vs - 1;
        if (text[headerEnd] !== '\n') throw new Unsure();
        const lineStart = text.lastIndexOf('\n', headerEnd - 1) + 1;
        const header = /(?:^|[ :-])([|>])-? *(?:#.*)?$/.exec(text.slice(lineStart, headerEnd));
        if (header === null || keyEnd === -1) throw new Unsure();
        const indicator = lineStart + header.index + header[0].indexOf(header[1]!);
        if (indicator < keyEnd || text.slice(keyEnd, indicator).trim() !== ':') throw new Unsure();
        scalar = new Scalar(getScalarValue(text, event));
        scalar.type = event.style === SCALAR_STYLE.LITERAL_BLOCK ? 'BLOCK_LITERAL' : 'BLOCK_FOLDED';
        // The extent ends after the last line with content: blank lines after it are not part of it.
        let end = ve;
        for (;;) {
          const lastLine = text.lastIndexOf('\n', end - 2) + 1;
          if (lastLine <= vs || text.slice(lastLine, end).trim() !== '') break;
          end = lastLine;
        }
        range = [indicator, end, end];
        break;
      }
      default:
        throw new Unsure();
    }
    scalar.range = range;
    return { node: scalar, value: scalar.value, range };
  }

  /** A plain scalar as the `yaml` composer resolves it: the first default core-schema tag whose test matches. */
  #resolvePlain(source: string, atKey: boolean): Scalar {
    const tag = this.#tags.find(
      (t) => (t.default === true || (atKey && t.default === 'key')) && t.test?.test(source) === true,
    );
    if (tag === undefined) {
      const scalar = new Scalar(source);
      scalar.source = source;
      return scalar;
    }
    const resolved = tag.resolve(
      source,
      () => {
        throw new Unsure();
      },
      this.#doc.options,
    );
    const scalar = resolved instanceof Scalar ? resolved : new Scalar(resolved);
    scalar.source = source;
    if (tag.format !== undefined) scalar.format = tag.format;
    return scalar;
  }

  /** From `p` past every space and line break, to the next thing written. */
  #blankLinesEnd(p: number): number {
    const text = this.#text;
    let q = p;
    while (text[q] === ' ' || text[q] === '\n' || text[q] === '\r') q++;
    return q;
  }

  /**
   * From `p` past spaces and a comment to the end of the line, and past its line break when `withBreak`
   * (where a block node's extent ends); `p` itself when something else follows on the line.
   */
  #lineEnd(p: number, withBreak: boolean): number {
    const text = this.#text;
    let q = p;
    while (text[q] === ' ') q++;
    if (text[q] === '#') {
      while (q < text.length && text[q] !== '\n' && text[q] !== '\r') q++;
    }
    if (q >= text.length) return q;
    if (text[q] === '\r' && text[q + 1] === '\n') return withBreak ? q + 2 : q;
    if (text[q] === '\n') return withBreak ? q + 1 : q;
    return withBreak ? p : q;
  }
}
