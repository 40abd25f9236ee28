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
 *
 * Output stays proportional to what a reader can use, whatever the input: a quoted source line is clipped
 * to a window around the column, a message to MAX_MESSAGE_LENGTH, control characters are shown as U+FFFD
 * (text from the file never drives the terminal), and `formatDiagnostics` merges problems of one kind on
 * one line and prints at most MAX_PRINTED_DIAGNOSTICS. Reprinting a whole 30 KB line for each of its
 * 10,000 bad items once made `validate` print 451 MB.
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

/** Characters of a quoted source line shown around the column; a longer line is clipped with `…`. */
export const MAX_SOURCE_WIDTH = 160;
/** Characters of one message (messages quote the user's text: a key may be a megabyte long). */
export const MAX_MESSAGE_LENGTH = 1000;
/**
 * Problems of one kind on one line printed in full before the rest are counted: a few show what differs
 * (two misspelt fields in one flow mapping), thousands say nothing more than the first.
 */
export const MAX_ALIKE_PER_LINE = 3;
/** Diagnostics (after merging) printed in full; the rest are counted. */
export const MAX_PRINTED_DIAGNOSTICS = 200;

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

/** C0 and C1 control characters but the tab: shown as U+FFFD, one code unit for one, so columns hold. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;
const printable = (text: string): string => text.replace(CONTROL, '\ufffd');

function clipMessage(message: string): string {
  const shown = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
  return printable(shown);
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
  const shownPath = printable(displayPath(location.file.path, options.cwd));
  let out = `${shownPath}:${line}:${col}: ${label} ${clipMessage(message)}\n`;
  const lineStart = offset - (col - 1);
  let lineEnd = contents.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = contents.length;
  if (lineEnd > lineStart && contents[lineEnd - 1] === '\r') lineEnd--;
  // A window of the line around the column: a third of it before, the rest after.
  const lineLength = lineEnd - lineStart;
  let from = 0;
  let to = lineLength;
  if (lineLength > MAX_SOURCE_WIDTH) {
    from = Math.max(0, Math.min(col - 1 - Math.floor(MAX_SOURCE_WIDTH / 3), lineLength - MAX_SOURCE_WIDTH));
    to = from + MAX_SOURCE_WIDTH;
  }
  const window = contents.slice(lineStart + from, lineStart + to);
  if (window.trim() === '') return out;
  const before = from > 0 ? '…' : '';
  const after = to < lineLength ? '…' : '';
  // Keep tabs in the padding so the underline lines up under tab-indented text.
  const pad = before.replace(/./g, ' ') + window.slice(0, Math.max(0, col - 1 - from)).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(location.range.length, to - (col - 1)));
  out += `${before}${printable(window)}${after}\n${pad}${paintUnderline('~'.repeat(width))}\n`;
  return out;
}

/**
 * What makes two diagnostics "of one kind": the message with the parts that quote the input (`"..."`,
 * backquoted names, numbers) left out. `found "x"` and `found "y"` for two items of one list are one kind.
 */
function kindOf(d: Diagnostic): string {
  return `${d.severity}\0${d.message.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`|[0-9]+/g, '\u0001')}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Formats a sorted list of diagnostics for a terminal: of the problems of one kind on one line, the first
 * MAX_ALIKE_PER_LINE are printed, then "and N more like it on this line"; after MAX_PRINTED_DIAGNOSTICS
 * printed, the rest are counted.
 * The size of the result is bounded whatever the input (each part is clipped).
 */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  options: FormatDiagnosticOptions = {},
): string {
  const groups = new Map<string, { shown: Diagnostic[]; more: number }>();
  for (const d of diagnostics) {
    const { line } = lineColumnOf(d.location.file, d.location.range.offset);
    const key = `${d.location.file.path}\0${line}\0${kindOf(d)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { shown: [d], more: 0 });
    else if (group.shown.length < MAX_ALIKE_PER_LINE) group.shown.push(d);
    else group.more++;
  }
  let out = '';
  let printed = 0;
  let hidden = 0;
  for (const { shown, more } of groups.values()) {
    for (const d of shown) {
      if (printed < MAX_PRINTED_DIAGNOSTICS) out += formatDiagnostic(d, options);
      else hidden++;
      printed++;
    }
    if (printed > MAX_PRINTED_DIAGNOSTICS) hidden += more;
    else if (more > 0) out += `    and ${count(more)} more like it on this line\n`;
  }
  if (hidden > 0) {
    out += `... and ${count(hidden)} more not shown (the first ${MAX_PRINTED_DIAGNOSTICS} are above)\n`;
  }
  return out;
}
