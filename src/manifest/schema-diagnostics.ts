/**
 * Turns ajv's errors into our diagnostics: each at the YAML node the error is about (ajv's
 * `instancePath` walked down the AST), each saying what was expected and what was found, with a "did you
 * mean" for unknown fields and enum values. Also returns the pointers that failed, so the semantic pass
 * can skip them instead of piling follow-on errors on a value already reported.
 */
import type { ErrorObject } from 'ajv';
import type { Diagnostic, Range, SourceFile } from '../core/diagnostic.ts';
import { didYouMean as closest } from './did-you-mean.ts';
import type { YamlDocument } from './yaml-document.ts';
import { nodeAtPointer, pointerSegments, rangeOfNode } from './yaml-document.ts';

export interface SchemaDiagnosticOptions {
  /** What the whole document is called in messages, e.g. `the manifest`. */
  readonly rootNoun: string;
  /** Keys whose children are named things: `shots` -> `shot` gives "shot `mug`". */
  readonly containerNouns: Readonly<Record<string, string>>;
  /** What a key under a container is, e.g. `shots` -> `shot id`. */
  readonly keyNouns: Readonly<Record<string, string>>;
  /** Plain words for the patterns the schema uses (a regex means nothing to a user). */
  readonly patternWords: Readonly<Record<string, string>>;
}

export interface SchemaCheck {
  readonly diagnostics: Diagnostic[];
  /** JSON pointers of values that failed the schema (or are required and missing). */
  readonly badPointers: Set<string>;
}

/** True when the value at `pointer` or any value containing it failed the schema. */
export function isBadPointer(bad: ReadonlySet<string>, pointer: string): boolean {
  if (bad.size === 0) return false;
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    if (bad.has(p)) return true;
    if (p === '') return false;
  }
}

export function pointerOf(...segments: string[]): string {
  return segments.map((s) => '/' + s.replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/** A short, quoted rendering of a found value for messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  object: 'a mapping',
  array: 'a list',
  boolean: 'true or false',
  null: 'nothing',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

export function describePointer(pointer: string, options: SchemaDiagnosticOptions): string {
  const segs = pointerSegments(pointer);
  const last = segs.at(-1);
  if (last === undefined) return options.rootNoun;
  const parent = segs.at(-2);
  const grand = segs.at(-3);
  const parentIsName = grand !== undefined && Object.hasOwn(options.containerNouns, grand);
  if (parent !== undefined && !parentIsName && Object.hasOwn(options.containerNouns, parent)) {
    return `${options.containerNouns[parent]} \`${last}\``;
  }
  if (/^[0-9]+$/.test(last) && parent !== undefined) return `each item of \`${parent}\``;
  if (parent !== undefined && !parentIsName && (parent === 'defaults' || parent === 'quota')) {
    return `\`${parent}.${last}\``;
  }
  return `\`${last}\``;
}

/**
 * Suggestions by (word, candidates): ten thousand shots with one unknown field ask the same question ten
 * thousand times (twice each), and an answer costs a string distance per candidate.
 */
const suggestions = new Map<string, string | undefined>();
function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const key = `${word}\0${candidates.join('\0')}`;
  if (suggestions.has(key)) return suggestions.get(key);
  const found = closest(word, candidates);
  if (suggestions.size > 10_000) suggestions.clear();
  suggestions.set(key, found);
  return found;
}

export function schemaDiagnostics(
  errors: readonly ErrorObject[] | null | undefined,
  doc: YamlDocument,
  file: SourceFile,
  options: SchemaDiagnosticOptions,
): SchemaCheck {
  const diagnostics: Diagnostic[] = [];
  const badPointers = new Set<string>();
  const seen = new Set<string>();
  // A misspelt required field (`promt:`) is one mistake: the "did you mean `prompt`" says it all, so the
  // "`prompt` is missing" that comes with it is dropped.
  const misspelt = new Set<string>();
  for (const e of errors ?? []) {
    if (e.keyword !== 'additionalProperties') continue;
    const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const suggestion = didYouMean(String((e.params as Record<string, unknown>)['additionalProperty']), props);
    if (suggestion !== undefined) misspelt.add(`${e.instancePath}/${suggestion}`);
  }
  for (const e of errors ?? []) {
    const made = diagnose(e, doc, options, badPointers, misspelt);
    if (made === undefined) continue;
    // ajv may report one mistake through two keywords at one place (e.g. `minimum` of a union type).
    const id = `${made.range.offset}:${made.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    diagnostics.push({ severity: 'error', message: made.message, location: { file, range: made.range } });
  }
  return { diagnostics, badPointers };
}

function diagnose(
  e: ErrorObject,
  doc: YamlDocument,
  options: SchemaDiagnosticOptions,
  bad: Set<string>,
  misspelt: ReadonlySet<string>,
): { message: string; range: Range } | undefined {
  const target = nodeAtPointer(doc, e.instancePath);
  const keyRange = rangeOfNode(target.key);
  const nodeRange = rangeOfNode(target.written);
  // A null value (`shots:` with nothing after it) has an empty range: underline its key instead.
  const valueRange =
    nodeRange !== undefined && nodeRange.length > 0
      ? nodeRange
      : (keyRange ?? nodeRange ?? { offset: 0, length: 0 });
  const name = describePointer(e.instancePath, options);
  const found = describeValue(e.data);
  const markBad = (pointer: string): void => {
    bad.add(pointer);
    // A bad list item makes the whole list unusable.
    if (/\/[0-9]+$/.test(pointer)) bad.add(pointer.slice(0, pointer.lastIndexOf('/')));
  };
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(params['additionalProperty']);
      const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const keyNode = nodeAtPointer(
        doc,
        `${e.instancePath}/${prop.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      ).key;
      const suggestion = didYouMean(prop, props);
      const where = e.instancePath === '' ? options.rootNoun : describePointer(e.instancePath, options);
      return {
        message: `Expected a field of ${where} (${props.join(', ')}), but found \`${prop}\`${suggestion === undefined ? '' : `; did you mean \`${suggestion}\`?`}`,
        range: rangeOfNode(keyNode) ?? valueRange,
      };
    }
    case 'propertyNames':
      return undefined; // reported through the inner keyword, which carries `propertyName`
    case 'required': {
      const missing = String(params['missingProperty']);
      markBad(`${e.instancePath}/${missing}`);
      if (misspelt.has(`${e.instancePath}/${missing}`)) return undefined;
      // The document itself has no key: point at its start.
      const range = keyRange ?? (e.instancePath === '' ? { offset: 0, length: 0 } : valueRange);
      return { message: `Expected ${name} to have \`${missing}\`, but it is missing`, range };
    }
    case 'type':
      markBad(e.instancePath);
      return {
        message: `Expected ${name} to be ${typeWords(params['type'])}, but found ${found}`,
        range: valueRange,
      };
    case 'enum': {
      markBad(e.instancePath);
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const suggestion = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      return {
        message: `Expected ${name} to be one of ${allowed.join(', ')}, but found ${found}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
        range: valueRange,
      };
    }
    case 'const':
      markBad(e.instancePath);
      return {
        message: `Expected ${name} to be ${JSON.stringify(params['allowedValue'])}, but found ${found}`,
        range: valueRange,
      };
    case 'pattern': {
      const pattern = String(params['pattern']);
      const words = options.patternWords[pattern] ?? `text matching ${pattern}`;
      if (e.propertyName !== undefined) {
        // propertyNames: the key itself is wrong.
        const keyNode = nodeAtPointer(
          doc,
          `${e.instancePath}/${e.propertyName.replaceAll('~', '~0').replaceAll('/', '~1')}`,
        ).key;
        const noun = lastSegmentNoun(e.instancePath, options);
        return {
          message: `Expected ${noun} to be ${words}, but found ${describeValue(e.propertyName)}`,
          range: rangeOfNode(keyNode) ?? valueRange,
        };
      }
      markBad(e.instancePath);
      return { message: `Expected ${name} to be ${words}, but found ${found}`, range: valueRange };
    }
    case 'minimum':
    case 'exclusiveMinimum': {
      markBad(e.instancePath);
      const limit = Number(params['limit']);
      const integer = (e.parentSchema as { type?: unknown } | undefined)?.type !== 'number';
      const what =
        e.keyword === 'minimum'
          ? `${integer && limit === 1 ? 'a positive whole number' : `at least ${limit}`}`
          : `greater than ${limit}`;
      return { message: `Expected ${name} to be ${what}, but found ${found}`, range: valueRange };
    }
    case 'maximum': {
      markBad(e.instancePath);
      const limit = Number(params['limit']);
      const integer = (e.parentSchema as { type?: unknown } | undefined)?.type === 'integer';
      const what = integer ? `a whole number at most ${limit}` : `at most ${limit}`;
      return { message: `Expected ${name} to be ${what}, but found ${found}`, range: valueRange };
    }
    case 'minLength':
      markBad(e.instancePath);
      return { message: `Expected ${name} to be non-empty text, but found ${found}`, range: valueRange };
    case 'uniqueItems': {
      markBad(e.instancePath);
      const items = e.data as unknown[];
      const dup = items[Number(params['i'])];
      return {
        message: `Expected ${name} to list each item once, but ${describeValue(dup)} appears twice`,
        range: valueRange,
      };
    }
    default:
      markBad(e.instancePath);
      return {
        message: `Expected ${name} to satisfy the schema, but it ${e.message ?? 'does not'}`,
        range: valueRange,
      };
  }
}

/** For a propertyNames error at `/shots`: "a shot id". */
function lastSegmentNoun(pointer: string, options: SchemaDiagnosticOptions): string {
  const last = pointerSegments(pointer).at(-1);
  const noun = last === undefined ? undefined : options.keyNouns[last];
  return noun === undefined ? 'a key' : `a ${noun}`;
}
