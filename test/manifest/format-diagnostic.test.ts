import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostic.ts';
import { didYouMean, editDistance } from '../../src/manifest/did-you-mean.ts';
import { formatDiagnostic } from '../../src/manifest/format-diagnostic.ts';

const file = {
  path: '/project/boards/storyboard.yaml',
  contents: 'version: 1\nshots:\n\ta:\n\t\tprompt: x\r\n',
};
const at = (offset: number, length: number): Diagnostic['location'] => ({ file, range: { offset, length } });

describe('formatDiagnostic', () => {
  const d: Diagnostic = {
    severity: 'error',
    message: 'Expected something, but found x',
    location: at(file.contents.indexOf('x'), 1),
    supplementalLocations: [{ message: 'see here', location: at(0, 7) }],
  };

  it('prints path:line:col, the line (tabs kept, CR dropped), the underline, then notes', () => {
    expect(formatDiagnostic(d, { cwd: '/project' })).toBe(
      'boards/storyboard.yaml:4:11: error: Expected something, but found x\n' +
        '\t\tprompt: x\n' +
        '\t\t        ~\n' +
        'boards/storyboard.yaml:1:1: note: see here\n' +
        'version: 1\n' +
        '~~~~~~~\n',
    );
  });

  it('keeps absolute paths outside cwd, and colours only when asked', () => {
    const text = formatDiagnostic(
      { ...d, severity: 'warning', supplementalLocations: [] },
      { cwd: '/elsewhere', color: true },
    );
    expect(text).toBe(
      '/project/boards/storyboard.yaml:4:11: \x1b[33m\x1b[1mwarning:\x1b[0m Expected something, but found x\n' +
        '\t\tprompt: x\n' +
        '\t\t        \x1b[33m~\x1b[0m\n',
    );
  });

  it('underlines only the first line of a multi-line range, and at least one column', () => {
    expect(formatDiagnostic({ ...d, location: at(11, 100), supplementalLocations: [] })).toBe(
      '/project/boards/storyboard.yaml:2:1: error: Expected something, but found x\nshots:\n~~~~~~\n',
    );
    expect(formatDiagnostic({ ...d, location: at(11, 0), supplementalLocations: [] })).toBe(
      '/project/boards/storyboard.yaml:2:1: error: Expected something, but found x\nshots:\n~\n',
    );
  });
});

describe('didYouMean', () => {
  it('counts swaps as one edit', () => {
    expect(editDistance('promtp', 'prompt')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(didYouMean('promt', ['prompt', 'model', 'size'])).toBe('prompt');
    expect(didYouMean('Prompt', ['prompt'])).toBe('prompt');
    expect(didYouMean('colour', ['prompt', 'model', 'size'])).toBeUndefined();
    expect(didYouMean('x', ['y'])).toBe('y');
    expect(didYouMean('ab', ['cd'])).toBeUndefined();
  });
});
