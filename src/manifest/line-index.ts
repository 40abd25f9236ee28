/**
 * Line and column of an offset in O(log n), with the line starts of each file computed once: printing ten
 * thousand diagnostics of one big manifest must not rescan the file from the top for each of them.
 */
import type { SourceFile } from '../core/diagnostic.ts';

const lineStarts = new WeakMap<SourceFile, number[]>();

function startsOf(file: SourceFile): number[] {
  let starts = lineStarts.get(file);
  if (starts === undefined) {
    starts = [0];
    const text = file.contents;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineStarts.set(file, starts);
  }
  return starts;
}

/** 1-based line and column (UTF-16 code units), as `lineAndColumn` in src/core/diagnostic.ts computes them. */
export function lineColumnOf(file: SourceFile, offset: number): { line: number; col: number } {
  const starts = startsOf(file);
  const at = Math.max(0, Math.min(offset, file.contents.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: at - starts[lo]! + 1 };
}
