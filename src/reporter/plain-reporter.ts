/**
 * `plain`: one stable line per meaningful event, for logs that are not a terminal (CI, pipes, files).
 * Diagnostics go to stderr like a compiler's; everything else to stdout in event order.
 */
import type { BuildEvent } from '../core/events.ts';
import { BuildState } from './build-state.ts';
import { plainLine } from './plain-line.ts';
import type { OutputStream, Reporter } from './reporter.ts';

export interface PlainReporterOptions {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Paths under it are shown relative to it. */
  readonly cwd: string;
}

export class PlainReporter implements Reporter {
  readonly #options: PlainReporterOptions;
  readonly #state = new BuildState();

  constructor(options: PlainReporterOptions) {
    this.#options = options;
  }

  handle(event: BuildEvent): void {
    const before = 'shot' in event && event.shot !== null ? this.#state.row(event.shot)?.state : undefined;
    this.#state.apply(event);
    const line = plainLine(event, this.#state, before, this.#options.cwd);
    if (line === null) return;
    (event.type === 'diagnostic' ? this.#options.stderr : this.#options.stdout).write(`${line}\n`);
  }

  note(text: string): void {
    this.#options.stdout.write(`${text}\n`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
