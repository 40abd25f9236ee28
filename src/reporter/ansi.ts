/**
 * The few ANSI sequences `pretty` uses: SGR colours and the cursor movements that redraw a frame in place.
 * Text is built as styled segments and turned into escapes only at the end, so widths are measured on the
 * plain text and colour can be switched off in one place.
 */

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';

/** A run of text with at most one style. */
export interface Segment {
  readonly text: string;
  readonly style?: Style;
}

const SGR: Readonly<Record<Style, readonly [number, number]>> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

export const ESC = '\u001b[';
/** Moves the cursor up `n` lines to column 0. */
export const cursorUp = (n: number): string => (n > 0 ? `${ESC}${n}A\r` : '\r');
/** Clears from the cursor to the end of the line. */
export const eraseLineEnd = `${ESC}K`;
/** Clears from the cursor to the end of the screen. */
export const eraseDown = `${ESC}J`;

export function paint(text: string, style: Style | undefined, color: boolean): string {
  if (!color || style === undefined || text === '') return text;
  const [on, off] = SGR[style];
  return `${ESC}${on}m${text}${ESC}${off}m`;
}

/** Segments as one string, with escapes when `color` is on. */
export function renderSegments(segments: readonly Segment[], color: boolean): string {
  return segments.map((s) => paint(s.text, s.style, color)).join('');
}

/** Cuts segments to at most `width` characters (ending in `…` when cut), so a live line never wraps. */
export function fitSegments(segments: readonly Segment[], width: number): Segment[] {
  const total = segments.reduce((n, s) => n + s.text.length, 0);
  if (total <= width) return [...segments];
  const out: Segment[] = [];
  let room = Math.max(0, width - 1);
  for (const s of segments) {
    if (room === 0) break;
    const text = s.text.slice(0, room);
    room -= text.length;
    out.push(s.style === undefined ? { text } : { text, style: s.style });
  }
  out.push({ text: '…' });
  return out;
}

/**
 * Whether to colour: never when `NO_COLOR` is set (https://no-color.org), never off a terminal, else what
 * the stream says it supports (Node's `hasColors` also honours `FORCE_COLOR` and `TERM`).
 */
export function colorSupported(
  stream: { hasColors?(env?: object): boolean },
  isTTY: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (!isTTY || env['TERM'] === 'dumb') return false;
  return typeof stream.hasColors === 'function' ? stream.hasColors(env) : true;
}
