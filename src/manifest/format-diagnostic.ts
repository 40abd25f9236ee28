/**
 * Prints a diagnostic the way compilers do:
 *
 *     examples/broken/x.yaml:7:14: error: Expected ..., but found ...
 *         seconds: 10
 *                  ~~
 *
 * then each supplemental location as a `note:` in the same shape. The path is relative to `cwd` when it is
 * inside it. The underline covers the range on its first line (a block mapping spans many lines; its first
 * line is enough to find it).
 */
import path from 'node:path';
import type { Diagnostic, Location } from '../core/diagnostic.ts';
import { lineColumnOf } from './line-index.ts';

export interface FormatDiagnosticOptions {
  /** ANSI colours. @default false */
  readonly color?: boolean;
  /** Paths inside this folder are printed relative to it. @default undefined (absolute paths) */
  readonly cwd?: string;
}

const ANSI = { red: '\x1b[31m', yellow: '\x1b[33m', cyan: '\x1b[36m', bold: '\x1b[1m', reset: '\x1b[0m' };

export function formatDiagnostic(d: Diagnostic, options: FormatDiagnosticOptions = {}): string {
  const paint = (code: string, text: string): string =>
    options.color === true ? `${code}${text}${ANSI.reset}` : text;
  const colour = d.severity === 'error' ? ANSI.red : ANSI.yellow;
  let out = formatAt(
    d.location,
    paint(colour + ANSI.bold, `${d.severity}:`),
    d.message,
    (t) => paint(colour, t),
    options,
  );
  for (const s of d.supplementalLocations ?? []) {
    out += formatAt(
      s.location,
      paint(ANSI.cyan + ANSI.bold, 'note:'),
      s.message,
      (t) => paint(ANSI.cyan, t),
      options,
    );
  }
  return out;
}

function displayPath(p: string, cwd: string | undefined): string {
  if (cwd === undefined || !path.isAbsolute(p)) return p;
  const rel = path.relative(cwd, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}

function formatAt(
  location: Location,
  label: string,
  message: string,
  paintUnderline: (t: string) => string,
  options: FormatDiagnosticOptions,
): string {
  const { contents } = location.file;
  const offset = Math.min(location.range.offset, contents.length);
  const { line, col } = lineColumnOf(location.file, offset);
  let out = `${displayPath(location.file.path, options.cwd)}:${line}:${col}: ${label} ${message}\n`;
  const lineStart = offset - (col - 1);
  let lineEnd = contents.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = contents.length;
  const source = contents.slice(lineStart, lineEnd).replace(/\r$/, '');
  if (source.trim() === '') return out;
  // Keep tabs in the padding so the underline lines up under tab-indented text.
  const pad = source.slice(0, col - 1).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(location.range.length, source.length - (col - 1)));
  out += `${source}\n${pad}${paintUnderline('~'.repeat(width))}\n`;
  return out;
}
