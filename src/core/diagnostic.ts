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

/** 1-based line and column of an offset (columns count UTF-16 code units, like editors and the yaml package). */
export function lineAndColumn(contents: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < contents.length; i++) {
    if (contents.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
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
