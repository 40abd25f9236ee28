import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/core/events.ts';
import { GithubReporter } from '../../src/reporter/github-reporter.ts';
import {
  CWD,
  MANIFEST,
  MemoryStream,
  T0,
  id,
  interruptedBuild,
  invalidManifest,
  scriptedBuild,
} from './fixtures.ts';

let dir: string;
let summaryFile: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-build-github-'));
  summaryFile = path.join(dir, 'step-summary.md');
  // The runner's file may already hold an earlier step's summary: we append, never overwrite.
  await writeFile(summaryFile, '# Earlier step\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(
  events: readonly BuildEvent[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; summary: string }> {
  const stdout = new MemoryStream();
  const stderr = new MemoryStream();
  const reporter = new GithubReporter({
    stdout,
    stderr,
    cwd: CWD,
    env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: CWD, GITHUB_STEP_SUMMARY: summaryFile, ...env },
  });
  for (const event of events) reporter.handle(event);
  await reporter.close();
  await reporter.close();
  return { stdout: stdout.text, stderr: stderr.text, summary: await readFile(summaryFile, 'utf8') };
}

describe('GithubReporter', () => {
  it('groups the plan and the build, annotates the failed shot at its line, appends a summary table', async () => {
    const { stdout, stderr, summary } = await run(scriptedBuild());
    expect(stdout).toBe(
      [
        'sora-build: building storyboard.yaml with provider emulator: 4 shots to generate (2 missing, 1 stale, 1 waiting for a parent), 1 fresh; estimated $2.00, about 1m 35s',
        '::group::Plan: 5 shots',
        '[harbor] missing',
        '[intro] missing',
        '[mug] stale: prompt changed',
        '[mug-teal] waits for mug',
        '[teaser] fresh',
        '::endgroup::',
        '::group::Build: 4 to generate',
        '[harbor] submitted video_harbor1 (1/4)',
        '[mug] submitted video_mug1 (2/4)',
        '[intro] waiting for quota: per-minute window, 30s',
        '[harbor] rendering',
        '::error file=storyboard.yaml,line=11,col=3,title=mug failed::mug failed: moderation_blocked: Your request was rejected by the safety system.',
        '[mug-teal] blocked: mug failed',
        '[intro] retrying create in 1.5s (attempt 2): connection: connect ECONNREFUSED 127.0.0.1:4010',
        '[intro] submitted video_intro1 (3/4)',
        '[harbor] completed video_harbor1',
        '[harbor] built out/harbor.mp4 (1.2 MB, $0.80) in 41s',
        '[intro] rendering',
        '[intro] completed video_intro1',
        '[intro] downloaded thumbnail (23.5 kB)',
        '[intro] built out/intro.mp4 (2.3 MB, $0.40) in 1m 10s',
        '::endgroup::',
        'sora-build: built 2 · fresh 1 · cached 0 · failed 1 · blocked 1 · $1.20 in 1m 11s',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('');
    expect(summary).toBe(
      [
        '# Earlier step',
        '### sora-build: storyboard.yaml (emulator)',
        '',
        '**built 2 · fresh 1 · cached 0 · failed 1 · blocked 1 · $1.20** in 1m 11s',
        '',
        '| Shot | Result | Time | Cost | Remote id | Details |',
        '| --- | --- | ---: | ---: | --- | --- |',
        '| harbor | built | 41s | $0.80 | video_harbor1 | out/harbor.mp4 |',
        '| intro | built | 1m 10s | $0.40 | video_intro1 | out/intro.mp4 |',
        '| mug | failed | 5s |  | video_mug1 | moderation_blocked: Your request was rejected by the safety system. |',
        '| mug-teal | blocked |  |  |  | mug failed |',
        '| teaser | fresh |  |  | video_teaser0 | out/social/teaser.mp4 |',
        '',
        '',
      ].join('\n'),
    );
  });

  it('annotates manifest diagnostics as ::error / ::warning with file, line and col, and lists them', async () => {
    const { stdout, summary } = await run(invalidManifest());
    expect(stdout).toBe(
      '::error file=storyboard.yaml,line=7,col=14::Expected `seconds` to be one of 4, 8, 12, but was 10.\n' +
        '::warning file=storyboard.yaml,line=12,col=5::Unknown model `veo-3`: its sizes and durations are not checked.\n',
    );
    expect(summary).toBe(
      [
        '# Earlier step',
        '### sora-build',
        '',
        '#### Problems',
        '',
        '- storyboard.yaml:7:14: error: Expected `seconds` to be one of 4, 8, 12, but was 10.',
        '- storyboard.yaml:12:5: warning: Unknown model `veo-3`: its sizes and durations are not checked.',
        '',
        '',
      ].join('\n'),
    );
  });

  it('after an interruption: the resume command outside the groups and in the summary, shots in flight', async () => {
    const { stdout, summary } = await run(interruptedBuild());
    expect(stdout).toBe(
      [
        'sora-build: building storyboard.yaml with provider gateway: 2 shots to generate (2 missing), 0 fresh; estimated cost unknown',
        '::group::Plan: 2 shots',
        '[harbor] missing',
        '[intro] missing',
        '::endgroup::',
        '::group::Build: 2 to generate',
        '[harbor] resumed video_harbor1 from the journal',
        "[intro] reconciled: no remote job matches the journal's intent, creating it",
        '[intro] submitted video_intro2 (2/2)',
        '[harbor] rendering',
        '::endgroup::',
        'sora-build: interrupted; 2 jobs in flight are kept in the journal. Run `sora-build build storyboard.yaml` again to resume them without paying twice.',
        'sora-build: built 0 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.00 in 9s',
        '',
      ].join('\n'),
    );
    expect(summary).toBe(
      [
        '# Earlier step',
        '### sora-build: storyboard.yaml (gateway)',
        '',
        '**built 0 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.00** in 9s',
        '',
        '**Interrupted.** 2 jobs in flight are kept in the journal. Run `sora-build build storyboard.yaml` again to resume them without paying twice.',
        '',
        '| Shot | Result | Time | Cost | Remote id | Details |',
        '| --- | --- | ---: | ---: | --- | --- |',
        '| harbor | in flight |  |  | video_harbor1 |  |',
        '| intro | in flight |  |  | video_intro2 |  |',
        '',
        '',
      ].join('\n'),
    );
  });

  it('escapes provider text so it can neither end a command nor run one, nor break the table', async () => {
    const events: BuildEvent[] = [
      {
        type: 'diagnostic',
        time: T0,
        file: '/proj/a,b:c.yaml',
        line: 1,
        col: 1,
        severity: 'error',
        message: '100% wrong\n::add-mask::x',
      },
      {
        type: 'shot-failed',
        time: T0,
        shot: id('mug'),
        reason: 'job-failed',
        message: 'bad | pipe <b>bold</b>\n::stop-commands::token',
        code: null,
        videoId: null,
        retryable: true,
        hint: null,
      },
      {
        type: 'retry',
        time: T0,
        shot: id('mug'),
        operation: 'retrieve',
        attempt: 2,
        delayMs: 500,
        reason: 'server',
        message: 'oops\n::set-output name=x::y',
      },
    ];
    const { stdout, summary } = await run(events);
    expect(stdout).toBe(
      [
        '::error file=a%2Cb%3Ac.yaml,line=1,col=1::100%25 wrong%0A::add-mask::x',
        '::group::Build: 0 to generate',
        '::error title=mug failed::mug failed: job-failed: bad | pipe <b>bold</b>%0A  ::stop-commands::token',
        '[mug] retrying retrieve in 0.5s (attempt 2): server: oops',
        '| ::set-output name=x::y',
        '::endgroup::',
        '',
      ].join('\n'),
    );
    expect(summary).toContain(
      '| mug | failed |  |  |  | job-failed: bad \\| pipe &lt;b&gt;bold&lt;/b&gt;<br>::stop-commands::token |',
    );
  });

  it('writes no summary when GITHUB_STEP_SUMMARY is unset, and reports an unwritable summary on stderr', async () => {
    const quiet = await run(scriptedBuild(), { GITHUB_STEP_SUMMARY: '' });
    expect(quiet.summary).toBe('# Earlier step\n');

    const stdout = new MemoryStream();
    const stderr = new MemoryStream();
    const missing = path.join(dir, 'no-such-dir', 'summary.md');
    const reporter = new GithubReporter({ stdout, stderr, cwd: CWD, env: { GITHUB_STEP_SUMMARY: missing } });
    for (const event of scriptedBuild()) reporter.handle(event);
    await reporter.close();
    expect(stderr.text).toMatch(/^sora-build: could not append the step summary to .*summary\.md: ENOENT/);
  });

  it('annotates relative to GITHUB_WORKSPACE, where GitHub matches files, not the working folder', async () => {
    const { stdout } = await run(invalidManifest().slice(0, 1), { GITHUB_WORKSPACE: path.dirname(CWD) });
    expect(stdout).toBe(
      `::error file=${path.basename(CWD)}/${path.basename(MANIFEST)},line=7,col=14::Expected \`seconds\` to be one of 4, 8, 12, but was 10.\n`,
    );
  });
});
