/**
 * `github`: for GitHub Actions. The `plain` lines, folded into `::group::` sections (plan, build), workflow
 * annotations (`::error file=…,line=…,col=…::`) for manifest diagnostics and failed shots so they show on the
 * run's summary and in the pull request's diff, and a Markdown table appended to `$GITHUB_STEP_SUMMARY` at
 * close. Commands and escaping follow GitHub's "workflow commands" documentation.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildEvent, EventLocation } from '../core/events.ts';
import { unreachable } from '../core/unreachable.ts';
import { BuildState, rowLabel } from './build-state.ts';
import type { ShotRow } from './build-state.ts';
import { displayPath, formatCost, formatElapsed, summaryLine } from './format.ts';
import { failureText, interruptedText, plainLine } from './plain-line.ts';
import type { OutputStream, Reporter } from './reporter.ts';

export interface GithubReporterOptions {
  readonly stdout: OutputStream;
  /** Where a failure to write the step summary is reported. */
  readonly stderr: OutputStream;
  /** Reads `GITHUB_STEP_SUMMARY` and `GITHUB_WORKSPACE`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Events that belong to the plan section; the first other event opens the build section. */
const PLAN_EVENTS: ReadonlySet<BuildEvent['type']> = new Set([
  'build-started',
  'shot-planned',
  'shot-cached',
]);

export class GithubReporter implements Reporter {
  readonly #options: GithubReporterOptions;
  readonly #state = new BuildState();
  /** Annotation paths are relative to the checkout, which is what GitHub matches against the diff. */
  readonly #root: string;
  #group: 'plan' | 'build' | null = null;
  #planDone = false;
  #closed = false;

  constructor(options: GithubReporterOptions) {
    this.#options = options;
    this.#root = options.env['GITHUB_WORKSPACE'] ?? options.cwd;
  }

  handle(event: BuildEvent): void {
    const before = 'shot' in event && event.shot !== null ? this.#state.row(event.shot)?.state : undefined;
    this.#state.apply(event);
    switch (event.type) {
      case 'diagnostic':
        this.#write(
          `::${event.severity} ${this.#locationProperties({ file: event.file, line: event.line, col: event.col })}::${escapeData(event.message)}`,
        );
        return;
      case 'shot-failed': {
        this.#enter('build');
        const location = this.#state.row(event.shot)?.location ?? null;
        const props = [
          location === null ? '' : this.#locationProperties(location),
          `title=${escapeProperty(`${event.shot} failed`)}`,
        ];
        this.#write(
          `::error ${props.filter((p) => p !== '').join(',')}::${escapeData(`${event.shot} ${failureText(event)}`)}`,
        );
        return;
      }
      case 'build-started':
        this.#line(plainLine(event, this.#state, before, this.#options.cwd));
        this.#enter('plan');
        return;
      case 'interrupted':
      case 'build-finished':
        this.#leave();
        this.#line(plainLine(event, this.#state, before, this.#options.cwd));
        return;
      case 'shot-planned':
      case 'shot-cached':
      case 'quota-wait':
      case 'create-sent':
      case 'job-submitted':
      case 'job-progress':
      case 'job-completed':
      case 'download-started':
      case 'download-finished':
      case 'asset-derived':
      case 'shot-built':
      case 'shot-blocked':
      case 'resumed':
      case 'reconciled':
      case 'retry':
        if (!PLAN_EVENTS.has(event.type)) this.#enter('build');
        this.#line(plainLine(event, this.#state, before, this.#options.cwd));
        return;
      default:
        unreachable(event);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#leave();
    const file = this.#options.env['GITHUB_STEP_SUMMARY'];
    if (file === undefined || file === '') return;
    const markdown = stepSummary(this.#state, this.#options.cwd);
    if (markdown === null) return;
    try {
      await appendFile(file, markdown);
    } catch (error) {
      this.#options.stderr.write(
        `sora-build: could not append the step summary to ${file}: ${(error as Error).message}\n`,
      );
    }
  }

  #enter(group: 'plan' | 'build'): void {
    if (this.#group === group || (group === 'plan' && this.#planDone)) return;
    this.#leave();
    if (group === 'build') this.#planDone = true;
    const started = this.#state.started;
    const title =
      group === 'plan'
        ? `Plan: ${started?.targets.length ?? 0} shots`
        : `Build: ${this.#state.jobsPlanned} to generate`;
    this.#write(`::group::${escapeData(title)}`);
    this.#group = group;
  }

  #leave(): void {
    if (this.#group === 'plan') this.#planDone = true;
    if (this.#group !== null) this.#write('::endgroup::');
    this.#group = null;
  }

  #line(text: string | null): void {
    if (text === null) return;
    // A provider message is not ours: a line of it starting with `::` would be run as a workflow command.
    const safe = text
      .split('\n')
      .map((l) => (l.trimStart().startsWith('::') ? `| ${l}` : l))
      .join('\n');
    this.#write(safe);
  }

  note(text: string): void {
    this.#write(text);
  }

  #write(line: string): void {
    this.#options.stdout.write(`${line}\n`);
  }

  #locationProperties(location: EventLocation): string {
    const file = path.isAbsolute(location.file) ? displayPath(location.file, this.#root) : location.file;
    return `file=${escapeProperty(file)},line=${location.line},col=${location.col}`;
  }
}

/** The Markdown appended to the step summary, or `null` when there is nothing to say. */
export function stepSummary(state: BuildState, cwd: string): string | null {
  const rows = state.rows();
  if (state.started === null && rows.length === 0 && state.diagnostics.length === 0) return null;
  const out: string[] = [];
  out.push(
    state.started === null
      ? '### sora-build'
      : `### sora-build: ${cell(displayPath(state.started.manifest, cwd))} (${cell(state.started.provider)})`,
    '',
  );
  if (state.started !== null || rows.length > 0) {
    const wall = state.finished === null ? '' : ` in ${formatElapsed(state.finished.wallMs)}`;
    out.push(`**${summaryLine(state.summary())}**${wall}`, '');
  }
  if (state.interrupted !== null) {
    const text = interruptedText(state.interrupted.inFlight, state.interrupted.resume);
    out.push(`**Interrupted.** ${cell(text.slice(text.indexOf(' ') + 1))}`, '');
  }
  if (rows.length > 0) {
    out.push(
      '| Shot | Result | Time | Cost | Remote id | Details |',
      '| --- | --- | ---: | ---: | --- | --- |',
    );
    for (const row of rows) out.push(summaryRow(row, cwd));
    out.push('');
  }
  if (state.diagnostics.length > 0) {
    out.push('#### Problems', '');
    for (const d of state.diagnostics) {
      out.push(`- ${cell(`${displayPath(d.file, cwd)}:${d.line}:${d.col}: ${d.severity}: ${d.message}`)}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

function summaryRow(row: ShotRow, cwd: string): string {
  const time =
    row.startedAt !== null && row.finishedAt !== null ? formatElapsed(row.finishedAt - row.startedAt) : '';
  const cost = row.state === 'built' ? (row.costUsd === null ? 'unknown' : formatCost(row.costUsd)) : '';
  let details = '';
  if ((row.state === 'built' || row.state === 'fresh' || row.state === 'cached') && row.output !== null)
    details = displayPath(row.output, cwd);
  else if (row.state === 'failed' && row.failure !== null)
    details = failureText(row.failure).slice('failed: '.length);
  else if (row.state === 'blocked' && row.blockedBy !== null) details = `${row.blockedBy} failed`;
  const label = row.state === 'blocked' ? 'blocked' : rowLabel(row, true);
  const cells = [row.shot, label, time, cost, row.videoId ?? '', details];
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** Text that may come from a provider, made inert in a Markdown table cell. */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n\s*/g, '<br>');
}

/** Workflow command data: `%`, CR and LF are escaped so a message cannot end the command early. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Workflow command properties additionally escape `:` and `,`, which separate them. */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
