/**
 * Picks and builds the reporter for `--reporter` (design.md section 8). `auto`: `github` inside GitHub
 * Actions, `pretty` on a terminal, `plain` otherwise (pipes, files, other CI).
 */
import { GithubReporter } from './github-reporter.ts';
import { JsonReporter } from './json-reporter.ts';
import { PlainReporter } from './plain-reporter.ts';
import { PrettyReporter } from './pretty-reporter.ts';
import { REPORTER_KINDS } from './reporter.ts';
import type { Reporter, ReporterKind, ReporterOptions } from './reporter.ts';

export interface CreateReporterOptions extends ReporterOptions {
  /** @default 'auto' */
  readonly kind?: ReporterKind;
}

/** The concrete kind `auto` stands for in this environment. */
export function resolveReporterKind(
  kind: ReporterKind,
  env: Readonly<Record<string, string | undefined>>,
  isTTY: boolean,
): Exclude<ReporterKind, 'auto'> {
  if (kind !== 'auto') return kind;
  if (env['GITHUB_ACTIONS'] === 'true') return 'github';
  return isTTY && env['TERM'] !== 'dumb' ? 'pretty' : 'plain';
}

export function createReporter(options: CreateReporterOptions): Reporter {
  const requested = options.kind ?? 'auto';
  if (!REPORTER_KINDS.includes(requested)) {
    throw new TypeError(
      `Expected \`kind\` to be one of ${REPORTER_KINDS.join(', ')}, got ${String(requested)}`,
    );
  }
  const kind = resolveReporterKind(requested, options.env, options.isTTY);
  switch (kind) {
    case 'pretty':
      return new PrettyReporter(options);
    case 'plain':
      return new PlainReporter(options);
    case 'json':
      return new JsonReporter(options);
    case 'github':
      return new GithubReporter(options);
  }
}
