import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createReporter, resolveReporterKind } from '../../src/reporter/create-reporter.ts';
import type { CreateReporterOptions } from '../../src/reporter/create-reporter.ts';
import { GithubReporter } from '../../src/reporter/github-reporter.ts';
import { PlainReporter } from '../../src/reporter/plain-reporter.ts';
import { PrettyReporter } from '../../src/reporter/pretty-reporter.ts';
import type { OutputStream, ReporterKind } from '../../src/reporter/reporter.ts';
import { CWD, MemoryStream, T0 } from './fixtures.ts';

describe('resolveReporterKind', () => {
  it.each<[ReporterKind, Record<string, string>, boolean, string]>([
    ['auto', { GITHUB_ACTIONS: 'true' }, false, 'github'],
    ['auto', { GITHUB_ACTIONS: 'true' }, true, 'github'],
    ['auto', {}, true, 'pretty'],
    ['auto', { TERM: 'dumb' }, true, 'plain'],
    ['auto', {}, false, 'plain'],
    ['auto', { CI: 'true', GITHUB_ACTIONS: 'false' }, false, 'plain'],
    ['pretty', {}, false, 'pretty'],
    ['plain', {}, true, 'plain'],
    ['github', {}, true, 'github'],
    ['json', { GITHUB_ACTIONS: 'true' }, true, 'json'],
  ])('%s with env %j and isTTY %s is %s', (kind, env, isTTY, expected) => {
    expect(resolveReporterKind(kind, env, isTTY)).toBe(expected);
  });
});

describe('createReporter', () => {
  const base = {
    stdout: new MemoryStream(),
    stderr: new MemoryStream(),
    clock: new FakeClock(T0),
    cwd: CWD,
  };

  it('builds the reporter auto stands for', () => {
    expect(createReporter({ ...base, env: {}, isTTY: true })).toBeInstanceOf(PrettyReporter);
    expect(createReporter({ ...base, kind: 'auto', env: {}, isTTY: false })).toBeInstanceOf(PlainReporter);
    expect(
      createReporter({ ...base, kind: 'auto', env: { GITHUB_ACTIONS: 'true' }, isTTY: false }),
    ).toBeInstanceOf(GithubReporter);
  });

  it('refuses an unknown kind with the expected values', () => {
    expect(() => createReporter({ ...base, kind: 'fancy' as ReporterKind, env: {}, isTTY: false })).toThrow(
      new TypeError('Expected `kind` to be one of auto, pretty, plain, json, github, got fancy'),
    );
  });
});

describe('createReporter from the command line', () => {
  it("takes the CLI context's streams as they are (checked by tsc) and prints through them", async () => {
    // What `sora-build build` passes; a real terminal stream must fit OutputStream too.
    const fromContext = (ctx: CliContext, kind: ReporterKind): CreateReporterOptions => ({
      kind,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      env: ctx.env,
      isTTY: ctx.stdout.isTTY === true,
      columns: ctx.stdout.columns,
      clock: new FakeClock(T0),
      cwd: ctx.cwd,
    });
    const terminal: OutputStream = process.stdout;
    expect(typeof terminal.write).toBe('function');

    const stdout = new MemoryStream();
    const ctx = { stdout, stderr: new MemoryStream(), env: {}, cwd: CWD } as unknown as CliContext;
    const reporter = createReporter(fromContext(ctx, 'auto'));
    expect(reporter).toBeInstanceOf(PlainReporter);
    reporter.handle({ type: 'interrupted', time: T0, inFlight: 1, resume: 'sora-build build' });
    await reporter.close();
    expect(stdout.text).toBe(
      'sora-build: interrupted; 1 job in flight is kept in the journal. Run `sora-build build` again to resume it without paying twice.\n',
    );
  });
});
