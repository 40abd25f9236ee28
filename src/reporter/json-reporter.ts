/**
 * `json`: the events themselves as NDJSON on stdout, one per line, nothing else, for tools that watch a
 * build. Each line validates against `schemas/events.schema.json`.
 */
import type { BuildEvent } from '../core/events.ts';
import type { OutputStream, Reporter } from './reporter.ts';

export interface JsonReporterOptions {
  readonly stdout: OutputStream;
  /** Where `note` lines go (never stdout, which carries events only). @default nowhere */
  readonly stderr?: OutputStream;
}

export class JsonReporter implements Reporter {
  readonly #stdout: OutputStream;
  readonly #stderr: OutputStream | undefined;

  constructor(options: JsonReporterOptions) {
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  note(text: string): void {
    this.#stderr?.write(`${text}\n`);
  }

  handle(event: BuildEvent): void {
    // Events are plain data by contract (src/core/events.ts), so they are printed exactly as emitted.
    this.#stdout.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
