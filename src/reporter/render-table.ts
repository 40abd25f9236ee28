/**
 * The `pretty` reporter's picture of a build, as a pure function of the folded state and the time: a table
 * (shot, state, progress, elapsed, quota wait, remote id) and a summary line. Pure so tests can render any
 * moment with a fake clock and compare text.
 */
import type { Segment, Style } from './ansi.ts';
import { BuildState, FINAL_ROW_STATES, rowLabel } from './build-state.ts';
import type { RowState, ShotRow } from './build-state.ts';
import { formatCost, formatDuration, formatElapsed, summaryLine } from './format.ts';

export interface RenderTableOptions {
  /** Show at most this many shot rows (live frames must fit the screen); the rest become one "more" line. */
  readonly maxRows?: number;
}

const HEADER = ['shot', 'state', 'progress', 'elapsed', 'quota wait', 'remote id'] as const;
/** Numbers are right-aligned so they line up by their units. */
const RIGHT: readonly boolean[] = [false, false, true, true, true, false];
const GAP = '  ';

const STATE_STYLE: Readonly<Record<RowState, Style | undefined>> = {
  pending: undefined,
  'quota-wait': 'yellow',
  creating: 'cyan',
  queued: 'cyan',
  rendering: 'cyan',
  downloading: 'cyan',
  built: 'green',
  fresh: 'dim',
  cached: 'dim',
  failed: 'red',
  blocked: 'yellow',
};

/** Which rows a cut-down live frame keeps first: what is moving, then what went wrong. */
const PRIORITY: Readonly<Record<RowState, number>> = {
  rendering: 0,
  downloading: 0,
  queued: 0,
  creating: 0,
  'quota-wait': 0,
  failed: 1,
  pending: 2,
  blocked: 3,
  built: 4,
  fresh: 5,
  cached: 5,
};

/** The table and the summary line at time `now`, one `Segment[]` per line. */
export function renderTable(state: BuildState, now: number, options: RenderTableOptions = {}): Segment[][] {
  const all = state.rows();
  let rows = all;
  let hidden = 0;
  if (options.maxRows !== undefined && all.length > options.maxRows) {
    const keep = new Set(
      [...all]
        .sort((a, b) => PRIORITY[a.state] - PRIORITY[b.state])
        .slice(0, Math.max(1, options.maxRows - 1))
        .map((r) => r.shot),
    );
    rows = all.filter((r) => keep.has(r.shot));
    hidden = all.length - rows.length;
  }
  const end = state.finished?.time ?? state.interrupted?.time ?? now;
  const over = state.finished !== null || state.interrupted !== null;
  const cells = rows.map((row) => rowCells(row, Math.min(now, end), over));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const pad = (text: string, i: number): string =>
    RIGHT[i] === true ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);

  const lines: Segment[][] = [];
  lines.push(trimEnd([{ text: HEADER.map(pad).join(GAP), style: 'bold' }]));
  rows.forEach((row, r) => {
    const c = cells[r]!;
    const segments: Segment[] = [{ text: pad(c[0]!, 0) + GAP }];
    const style = STATE_STYLE[row.state];
    segments.push(style === undefined ? { text: pad(c[1]!, 1) } : { text: pad(c[1]!, 1), style });
    segments.push({
      text:
        GAP +
        c
          .slice(2)
          .map((t, i) => pad(t, i + 2))
          .join(GAP),
    });
    lines.push(trimEnd(segments));
  });
  if (hidden > 0) lines.push([{ text: `… and ${hidden} more`, style: 'dim' }]);
  lines.push([]);
  const started = state.started?.time ?? state.firstEventAt ?? now;
  lines.push([
    {
      text: `${summaryLine(state.summary())} · ${formatElapsed(Math.min(now, end) - started)}`,
      style: 'bold',
    },
  ]);
  const estimate = estimateLine(state);
  if (estimate !== null) lines.push([{ text: estimate, style: 'dim' }]);
  return lines;
}

/**
 * What the plan expected, under the running totals, so the live view answers "how much, how long" the
 * whole time (the question before the build asked with these very figures). None when nothing is generated.
 */
function estimateLine(state: BuildState): string | null {
  const started = state.started;
  if (started === null || state.jobsPlanned === 0) return null;
  const time = started.estimatedWallMs === null ? '' : `, about ${formatDuration(started.estimatedWallMs)}`;
  return `estimated ${formatCost(started.estimatedCostUsd)}${time}`;
}

function rowCells(row: ShotRow, now: number, over: boolean): string[] {
  const end = row.finishedAt ?? now;
  const elapsed = row.startedAt === null ? '' : formatElapsed(end - row.startedAt);
  const wait = BuildState.quotaWait(row, FINAL_ROW_STATES.has(row.state) ? end : now);
  const progress = row.progress === null ? '' : `${Math.round(row.progress)}%`;
  return [
    row.shot,
    rowLabel(row, over),
    progress,
    elapsed,
    wait > 0 ? formatElapsed(wait) : '',
    row.videoId ?? '',
  ];
}

/** Drops trailing spaces (across segments) so empty last cells leave no invisible padding behind. */
function trimEnd(segments: Segment[]): Segment[] {
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    const text = s.text.trimEnd();
    segments[i] = s.style === undefined ? { text } : { text, style: s.style };
    if (text !== '') break;
  }
  return segments.filter((s) => s.text !== '');
}
