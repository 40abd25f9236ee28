/**
 * A problem found in a file the user wrote (manifest, config, reference image), with its position.
 * Printed as `file:line:col: severity: message`, then the source line and a `~~~` underline.
 */
export interface SourceFile {
  /** Absolute path. */
  readonly path: string;
  /** The whole text, used to print the offending line. */
  readonly contents: string;
}

export interface Range {
  /** 0-based character offset into `SourceFile.contents`. */
  readonly offset: number;
  /** Length in characters; 0 marks a point. */
  readonly length: number;
}

export interface Location {
  readonly file: SourceFile;
  readonly range: Range;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** One sentence; says what was expected and what was found. */
  readonly message: string;
  readonly location: Location;
  /** Other places that belong to the same problem (e.g. the first of two duplicated keys). */
  readonly supplementalLocations?: readonly { readonly message: string; readonly location: Location }[];
}

/**
 * Line starts of the text last asked about: callers ask for many offsets in one manifest (an event per
 * shot), and rescanning from the start each time made a 1,000-shot build spend ~0.1 s here (quadratic).
 */
let indexed: { contents: string; starts: Int32Array } | undefined;

function lineStarts(contents: string): Int32Array {
  if (indexed?.contents === contents) return indexed.starts;
  const starts = [0];
  for (let i = contents.indexOf('\n'); i !== -1; i = contents.indexOf('\n', i + 1)) starts.push(i + 1);
  indexed = { contents, starts: Int32Array.from(starts) };
  return indexed.starts;
}

/** 1-based line and column of an offset (columns count UTF-16 code units, like editors and the yaml package). */
export function lineAndColumn(contents: string, offset: number): { line: number; col: number } {
  const starts = lineStarts(contents);
  // Only newlines before min(offset, length) count, as a scan up to there would find.
  const limit = Math.min(offset, contents.length);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= limit) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - starts[lo]! + 1 };
}

/** Sort order for printing: by file, then position, then message, so output is deterministic. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.location.file.path;
  const fb = b.location.file.path;
  if (fa !== fb) return fa < fb ? -1 : 1;
  if (a.location.range.offset !== b.location.range.offset)
    return a.location.range.offset - b.location.range.offset;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
