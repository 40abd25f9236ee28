/**
 * `pretty`: for a person at a terminal. A live table redrawn in place, at most every `redrawIntervalMs`
 * (events arrive in bursts; the screen should not), and every `tickMs` while shots are moving so elapsed
 * times count up. Each frame is one write that overwrites the previous one line by line (`ESC[K` at each end,
 * `ESC[J` below) instead of clearing first, so it does not flicker. Lines are cut to the terminal width,
 * because a wrapped line would break the cursor arithmetic. At close, the live frame is replaced by a
 * static one with every shot, the failures in full and, after Ctrl-C, how to resume.
 *
 * Off a terminal (`--reporter pretty` into a pipe) nothing is redrawn: only the final picture is printed.
 */
import type { Clock } from '../core/clock.ts';
import type { BuildEvent, DiagnosticEvent } from '../core/events.ts';
import type { Segment } from './ansi.ts';
import {
  colorSupported,
  cursorUp,
  eraseDown,
  eraseLineEnd,
  fitSegments,
  paint,
  renderSegments,
} from './ansi.ts';
import { BuildState, FINAL_ROW_STATES } from './build-state.ts';
import { displayPath } from './format.ts';
import { failureText, interruptedText, plainLine } from './plain-line.ts';
import { renderTable } from './render-table.ts';
import type { OutputStream, Reporter } from './reporter.ts';

/** Failures shown under the live table (all of them are printed at the end). */
const LIVE_FAILURES = 3;

export interface PrettyReporterOptions {
  readonly stdout: OutputStream;
  /** Diagnostics are printed here, above the live table. */
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Redraw live only on a terminal. */
  readonly isTTY: boolean;
  /** @default 80 */
  readonly columns?: number | undefined;
  /** @default 24 */
  readonly rows?: number | undefined;
  readonly clock: Clock;
  readonly cwd: string;
  /**
   * Least time between two redraws (about 10 per second).
   * @default 100
   */
  readonly redrawIntervalMs?: number;
  /**
   * Redraw period while shots are in flight and nothing else happens, so elapsed times move.
   * @default 1000
   */
  readonly tickMs?: number;
}

export class PrettyReporter implements Reporter {
  readonly #o: PrettyReporterOptions;
  readonly #state = new BuildState();
  readonly #live: boolean;
  readonly #color: boolean;
  readonly #interval: number;
  readonly #tick: number;
  /** Lines of the live frame now on screen (the cursor sits just below them). */
  #drawn = 0;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #timer: { at: number; controller: AbortController } | null = null;
  #closed = false;
  /** Number of live frames drawn; for tests and curiosity. */
  frames = 0;

  constructor(options: PrettyReporterOptions) {
    this.#o = options;
    this.#live = options.isTTY && options.env['TERM'] !== 'dumb';
    this.#color = colorSupported(options.stdout, options.isTTY, options.env);
    this.#interval = options.redrawIntervalMs ?? 100;
    this.#tick = options.tickMs ?? 1000;
  }

  handle(event: BuildEvent): void {
    if (this.#closed) return;
    this.#state.apply(event);
    if (event.type === 'diagnostic') {
      this.#printAbove(this.#o.stderr, `${this.#diagnosticText(event)}\n`);
      return;
    }
    // Not a state of the table: a note the user should see (the asset is not the service's own).
    if (event.type === 'asset-derived') {
      this.#printAbove(this.#o.stdout, `${plainLine(event, this.#state, undefined, this.#o.cwd) ?? ''}\n`);
    }
    if (!this.#live) return;
    const now = this.#o.clock.now();
    if (now >= this.#lastDrawAt + this.#interval) this.#draw();
    else this.#schedule(this.#lastDrawAt + this.#interval);
  }

  note(text: string): void {
    if (this.#closed) this.#o.stdout.write(`${text}\n`);
    else this.#printAbove(this.#o.stdout, `${text}\n`);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#cancelTimer();
    const final = this.#finalText();
    this.#o.stdout.write((this.#drawn > 0 ? cursorUp(this.#drawn) + eraseDown : '') + final);
    this.#drawn = 0;
    return Promise.resolve();
  }

  /** The static picture printed at close: every shot, the summary, failures in full, how to resume. */
  #finalText(): string {
    const state = this.#state;
    if (state.started === null && state.rows().length === 0 && state.interrupted === null) return '';
    const lines = renderTable(state, this.#o.clock.now()).map((l) => renderSegments(l, this.#color));
    const failures = state.rows().filter((r) => r.failure !== null);
    if (failures.length > 0) lines.push('');
    for (const row of failures) {
      lines.push(
        `${paint(row.shot, 'bold', this.#color)} ${paint(failureText(row.failure!), 'red', this.#color)}`,
      );
    }
    if (state.interrupted !== null) {
      lines.push(
        '',
        paint(interruptedText(state.interrupted.inFlight, state.interrupted.resume), 'yellow', this.#color),
      );
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * A live frame: the table cut to the screen, then the latest failures (first line each) so a failure an hour
   * into a build is seen when it happens; the final text repeats them in full.
   */
  #frame(): string[] {
    const width = Math.max(20, (this.#o.columns ?? 80) - 1);
    const failures = this.#state
      .rows()
      .filter((r) => r.failure !== null)
      .sort((a, b) => a.failure!.time - b.failure!.time);
    const shown = failures.slice(-LIVE_FAILURES);
    const extra: Segment[][] = [];
    if (shown.length > 0) extra.push([]);
    if (failures.length > shown.length) {
      extra.push([{ text: `… ${failures.length - shown.length} earlier failures`, style: 'dim' }]);
    }
    for (const row of shown) {
      const first = failureText(row.failure!).split('\n')[0]!;
      extra.push([{ text: row.shot, style: 'bold' }, { text: ' ' }, { text: first, style: 'red' }]);
    }
    // Around the rows: the header, a blank line, the summary, the estimate and the line the cursor rests on.
    const maxRows = Math.max(3, (this.#o.rows ?? 24) - 5 - extra.length);
    return [...renderTable(this.#state, this.#o.clock.now(), { maxRows }), ...extra].map((l) =>
      renderSegments(fitSegments(l, width), this.#color),
    );
  }

  #draw(): void {
    this.#cancelTimer();
    const lines = this.#frame();
    let out = cursorUp(this.#drawn);
    for (const line of lines) out += `${line}${eraseLineEnd}\n`;
    this.#o.stdout.write(out + eraseDown);
    this.#drawn = lines.length;
    this.frames++;
    const now = this.#o.clock.now();
    this.#lastDrawAt = now;
    if (this.#moving()) this.#schedule(now + this.#tick);
  }

  /** Whether some shot's elapsed time is still counting. */
  #moving(): boolean {
    if (this.#state.finished !== null || this.#state.interrupted !== null) return false;
    return this.#state.rows().some((r) => r.startedAt !== null && !FINAL_ROW_STATES.has(r.state));
  }

  #schedule(at: number): void {
    if (this.#timer !== null && this.#timer.at <= at) return;
    this.#cancelTimer();
    const timer = { at, controller: new AbortController() };
    this.#timer = timer;
    this.#o.clock.sleep(Math.max(0, at - this.#o.clock.now()), timer.controller.signal).then(
      () => {
        if (this.#timer === timer && !this.#closed) this.#draw();
      },
      () => {
        // Cancelled: a newer draw made this one unnecessary.
      },
    );
  }

  #cancelTimer(): void {
    this.#timer?.controller.abort();
    this.#timer = null;
  }

  /** Prints text above the live table: erase it, print, draw it again below. */
  #printAbove(stream: OutputStream, text: string): void {
    if (this.#drawn > 0) {
      this.#o.stdout.write(cursorUp(this.#drawn) + eraseDown);
      this.#drawn = 0;
    }
    stream.write(text);
    if (this.#live && this.#state.rows().length > 0) this.#draw();
  }

  #diagnosticText(d: DiagnosticEvent): string {
    const where: Segment = { text: `${displayPath(d.file, this.#o.cwd)}:${d.line}:${d.col}:`, style: 'bold' };
    const severity: Segment = { text: `${d.severity}:`, style: d.severity === 'error' ? 'red' : 'yellow' };
    return renderSegments([where, { text: ' ' }, severity, { text: ` ${d.message}` }], this.#color);
  }
}
