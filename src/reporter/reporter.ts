/**
 * The receiving end of the `BuildEvent` stream (style.md: `BuildEvent` -> `Reporter`). The engine never
 * prints; it hands each event to one reporter, which decides what the user sees.
 */
import type { BuildEvent } from '../core/events.ts';
import type { Clock } from '../core/clock.ts';

export interface Reporter {
  /** Takes one event. Never throws for a well-formed event and never blocks the build. */
  handle(event: BuildEvent): void;
  /**
   * Prints a line of the caller's own (watch mode's "saved, rebuilding") between the reporter's output:
   * above a live table, so the table's in-place redraw does not leave a stale copy behind; on stderr for
   * `json`, whose stdout carries events only.
   */
  note(text: string): void;
  /** Writes whatever is left (a final frame, a step summary). Safe to call more than once. */
  close(): Promise<void>;
}

/** The part of a writable stream a reporter uses; `process.stdout` and a test's string sink both fit. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** Node's `tty.WriteStream#hasColors`, when the stream is a terminal. */
  hasColors?(env?: object): boolean;
}

export type ReporterKind = 'auto' | 'pretty' | 'plain' | 'json' | 'github';
export const REPORTER_KINDS: readonly ReporterKind[] = ['auto', 'pretty', 'plain', 'json', 'github'];

/** What every reporter may be given; reporters never read `process` themselves. */
export interface ReporterOptions {
  /** Where output goes (`json`: the NDJSON lines; the others: everything but diagnostics). */
  readonly stdout: OutputStream;
  /** Where `pretty` and `plain` print manifest diagnostics. */
  readonly stderr: OutputStream;
  /** The process environment (`NO_COLOR`, `TERM`, `GITHUB_ACTIONS`, `GITHUB_STEP_SUMMARY`, `GITHUB_WORKSPACE`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether `stdout` is a terminal: decides `auto`, live redraws and colours. */
  readonly isTTY: boolean;
  /**
   * Terminal width; `pretty` cuts longer lines so a redraw never wraps.
   * @default 80
   */
  readonly columns?: number | undefined;
  /**
   * Terminal height; `pretty` shows at most this many lines live (the final frame shows every shot).
   * @default 24
   */
  readonly rows?: number | undefined;
  /** The build's clock: elapsed times and redraw throttling. */
  readonly clock: Clock;
  /** Paths under it are shown relative to it. */
  readonly cwd: string;
}
