/**
 * How deep a YAML text nests, found by one linear scan before any parser sees it. The parsers recurse once
 * per level: 2,000 nested block mappings overflowed the stack inside the `yaml` package (a crash), 900 gave
 * "Maximum call stack size exceeded" as a YAML error, and 10,000 nested flow lists an "Invalid regular
 * expression: Stack overflow". Storyboards and configs nest five levels; anything past MAX_YAML_DEPTH is
 * refused at the line where the limit is crossed, and never parsed.
 *
 * The scan is deliberately rough where roughness is harmless: it counts block levels by indentation (a
 * folded plain scalar's continuation line counts as one more), each compact `- ` or `? ` as a level, and
 * brackets of flow collections; it skips quoted scalars, comments and block scalars' contents, so a `[`
 * in a prompt is text, not a level. It errs towards counting more, and the limit leaves a wide margin.
 */

/** Far beyond any real storyboard or config, far below where a parser's recursion runs out of stack. */
export const MAX_YAML_DEPTH = 100;

export interface DeepNesting {
  /** Offset of the character that opens the level past the limit. */
  readonly offset: number;
}

/** Where `text` first nests deeper than `max` levels, or undefined. Linear in the text. */
export function findDeepNesting(text: string, max: number = MAX_YAML_DEPTH): DeepNesting | undefined {
  const n = text.length;
  /** Indents of the open block levels, innermost last. */
  const indents: number[] = [];
  let i = 0;
  /** Block scalar (`|`, `>`): lines indented more than this belong to it. -1: not in one. */
  let blockScalarParent = -1;
  while (i < n) {
    const lineStart = i;
    let lineEnd = text.indexOf('\n', i);
    if (lineEnd === -1) lineEnd = n;
    let p = i;
    while (p < lineEnd && (text[p] === ' ' || text[p] === '\t')) p++;
    const indent = p - lineStart;
    const blank = p >= lineEnd || text[p] === '\r' || text[p] === '#';
    if (blockScalarParent >= 0) {
      if (blank || indent > blockScalarParent) {
        i = lineEnd + 1;
        continue;
      }
      blockScalarParent = -1;
    }
    if (blank) {
      i = lineEnd + 1;
      continue;
    }
    while (indents.length > 0 && indents[indents.length - 1]! > indent) indents.pop();
    if (indents.length === 0 || indents[indents.length - 1]! < indent) indents.push(indent);
    if (indents.length > max) return { offset: p };
    // Compact nested collections on one line: `- - - x`, `? - x`.
    while (
      p < lineEnd &&
      (text[p] === '-' || text[p] === '?') &&
      (p + 1 >= lineEnd || text[p + 1] === ' ' || text[p + 1] === '\r')
    ) {
      p++;
      while (p < lineEnd && text[p] === ' ') p++;
      indents.push(p - lineStart);
      if (indents.length > max) return { offset: p - 1 };
    }
    // The rest of the line: values, keys, and what they open.
    const scan = scanLine(text, p, lineEnd, indents.length, max);
    if (scan.deep !== undefined) return { offset: scan.deep };
    if (scan.blockScalar) blockScalarParent = indent;
    i = scan.resume;
  }
  return undefined;
}

interface LineScan {
  /** Offset past the limit, if crossed. */
  readonly deep?: number;
  /** The line ends with a block scalar indicator (`|`, `>`). */
  readonly blockScalar: boolean;
  /** Where the next line starts (after a quoted scalar or a flow collection that spans lines). */
  readonly resume: number;
}

/** Scans from `p` (a value or key position) to the end of the line, or past a multi-line flow or quote. */
function scanLine(text: string, p: number, lineEnd: number, depth: number, max: number): LineScan {
  const n = text.length;
  let atValue = true;
  while (p < lineEnd) {
    const c = text[p]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      p++;
      continue;
    }
    if (c === '#') break; // a comment (only reached after whitespace or at a value position)
    if (atValue && (c === '&' || c === '!')) {
      // An anchor or a tag before the value.
      while (p < lineEnd && text[p] !== ' ') p++;
      continue;
    }
    if (atValue && (c === '[' || c === '{')) {
      const flow = scanFlow(text, p, depth, max);
      if (flow.deep !== undefined) return { deep: flow.deep, blockScalar: false, resume: n };
      p = flow.end;
      // A flow collection may end on a later line; the rest of that line is scanned as this one's.
      if (p > lineEnd) {
        lineEnd = text.indexOf('\n', p);
        if (lineEnd === -1) lineEnd = n;
      }
      atValue = false;
      continue;
    }
    if (atValue && (c === '"' || c === "'")) {
      p = skipQuoted(text, p);
      if (p > lineEnd) {
        lineEnd = text.indexOf('\n', p);
        if (lineEnd === -1) lineEnd = n;
      }
      atValue = false;
      continue;
    }
    if (atValue && (c === '|' || c === '>')) {
      return { blockScalar: true, resume: lineEnd + 1 };
    }
    // Plain text: a key if `: ` follows on this line, else a scalar to the end of the line (or a comment).
    let q = p;
    let key = false;
    while (q < lineEnd) {
      const d = text[q]!;
      if (d === ':' && (q + 1 >= lineEnd || text[q + 1] === ' ' || text[q + 1] === '\r')) {
        key = true;
        break;
      }
      if (d === '#' && (text[q - 1] === ' ' || text[q - 1] === '\t')) break;
      q++;
    }
    if (!key) break;
    p = q + 1;
    atValue = true;
  }
  return { blockScalar: false, resume: lineEnd + 1 };
}

/**
 * From an opening `[` or `{` to just past its closing bracket (or the end of the text). Inside flow
 * collections brackets cannot be plain text, so each one is a level; a quote starts a scalar only where a
 * node starts (`[it's]` is plain text with an apostrophe).
 */
function scanFlow(text: string, start: number, depth: number, max: number): { end: number; deep?: number } {
  const n = text.length;
  let level = 0;
  let p = start;
  let nodeStart = true;
  while (p < n) {
    const c = text[p]!;
    if (c === '[' || c === '{') {
      level++;
      if (depth + level > max) return { end: p, deep: p };
      p++;
      nodeStart = true;
    } else if (c === ']' || c === '}') {
      level--;
      p++;
      if (level <= 0) return { end: p };
      nodeStart = false;
    } else if (c === ',' || c === ':' || c === '?') {
      p++;
      nodeStart = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      p++;
    } else if (nodeStart && (c === '"' || c === "'")) {
      p = skipQuoted(text, p);
      nodeStart = false;
    } else if (c === '#' && p > 0 && /\s/.test(text[p - 1]!)) {
      const eol = text.indexOf('\n', p);
      p = eol === -1 ? n : eol;
    } else if (nodeStart && (c === '&' || c === '!')) {
      while (p < n && !/[\s,[\]{}]/.test(text[p]!)) p++;
    } else {
      p++;
      nodeStart = false;
    }
  }
  return { end: n };
}

/** Just past the quoted scalar starting at `p` (`"` with backslash escapes, `'` with `''`). */
function skipQuoted(text: string, p: number): number {
  const quote = text[p];
  const n = text.length;
  p++;
  while (p < n) {
    const c = text[p];
    if (quote === '"' && c === '\\') {
      p += 2;
      continue;
    }
    if (c === quote) {
      if (quote === "'" && text[p + 1] === "'") {
        p += 2;
        continue;
      }
      return p + 1;
    }
    p++;
  }
  return n;
}
