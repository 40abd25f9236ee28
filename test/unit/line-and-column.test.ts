import { describe, expect, it } from 'vitest';
import { lineAndColumn } from '../../src/core/diagnostic.ts';

/** The definition: scan from the start, counting newlines before the offset. */
function reference(contents: string, offset: number): { line: number; col: number } {
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

describe('lineAndColumn', () => {
  it('matches a scan from the start at every offset, past the end, and across texts', () => {
    for (const text of ['', 'a', '\n', 'ab\ncd\n\nef', '\n\nx\r\ny\n', 'shots:\n  a:\n    prompt: hi\n']) {
      for (let offset = 0; offset <= text.length + 2; offset++) {
        expect(lineAndColumn(text, offset)).toEqual(reference(text, offset));
      }
    }
  });
  it('answers for the text asked about, not the one indexed before', () => {
    expect(lineAndColumn('a\nb\nc', 4)).toEqual({ line: 3, col: 1 });
    expect(lineAndColumn('abcd', 4)).toEqual({ line: 1, col: 5 });
  });
});
