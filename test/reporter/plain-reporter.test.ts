import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/core/events.ts';
import { PlainReporter } from '../../src/reporter/plain-reporter.ts';
import {
  CWD,
  MemoryStream,
  T0,
  digest,
  id,
  interruptedBuild,
  invalidManifest,
  scriptedBuild,
  vid,
} from './fixtures.ts';

async function run(events: readonly BuildEvent[]): Promise<{ stdout: string; stderr: string }> {
  const stdout = new MemoryStream();
  const stderr = new MemoryStream();
  const reporter = new PlainReporter({ stdout, stderr, cwd: CWD });
  for (const event of events) reporter.handle(event);
  await reporter.close();
  return { stdout: stdout.text, stderr: stderr.text };
}

describe('PlainReporter', () => {
  it('prints one stable line per meaningful event of a whole build', async () => {
    const { stdout, stderr } = await run(scriptedBuild());
    expect(stdout).toBe(
      [
        'sora-build: building storyboard.yaml with provider emulator: 4 shots to generate (2 missing, 1 stale, 1 waiting for a parent), 1 fresh; estimated $2.00, about 1m 35s',
        '[harbor] missing',
        '[intro] missing',
        '[mug] stale: prompt changed',
        '[mug-teal] waits for mug',
        '[teaser] fresh',
        '[harbor] submitted video_harbor1 (1/4)',
        '[mug] submitted video_mug1 (2/4)',
        '[intro] waiting for quota: per-minute window, 30s',
        '[harbor] rendering',
        '[mug] failed: moderation_blocked: Your request was rejected by the safety system.',
        '[mug-teal] blocked: mug failed',
        '[intro] retrying create in 1.5s (attempt 2): connection: connect ECONNREFUSED 127.0.0.1:4010',
        '[intro] submitted video_intro1 (3/4)',
        '[harbor] completed video_harbor1',
        '[harbor] built out/harbor.mp4 (1.2 MB, $0.80) in 41s',
        '[intro] rendering',
        '[intro] completed video_intro1',
        '[intro] downloaded thumbnail (23.5 kB)',
        '[intro] built out/intro.mp4 (2.3 MB, $0.40) in 1m 10s',
        'sora-build: built 2 · fresh 1 · cached 0 · failed 1 · blocked 1 · $1.20 in 1m 11s',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('');
  });

  it('says how to resume after an interruption, and shows an unknown price as unknown', async () => {
    const { stdout } = await run(interruptedBuild());
    expect(stdout).toBe(
      [
        'sora-build: building storyboard.yaml with provider gateway: 2 shots to generate (2 missing), 0 fresh; estimated cost unknown',
        '[harbor] missing',
        '[intro] missing',
        '[harbor] resumed video_harbor1 from the journal',
        "[intro] reconciled: no remote job matches the journal's intent, creating it",
        '[intro] submitted video_intro2 (2/2)',
        '[harbor] rendering',
        'sora-build: interrupted; 2 jobs in flight are kept in the journal. Run `sora-build build storyboard.yaml` again to resume them without paying twice.',
        'sora-build: built 0 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.00 in 9s',
        '',
      ].join('\n'),
    );
  });

  it('prints manifest diagnostics to stderr as file:line:col: severity: message', async () => {
    const { stdout, stderr } = await run(invalidManifest());
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'storyboard.yaml:7:14: error: Expected `seconds` to be one of 4, 8, 12, but was 10.\n' +
        'storyboard.yaml:12:5: warning: Unknown model `veo-3`: its sizes and durations are not checked.\n',
    );
  });

  it('words the rarer events: re-pins, a matched reconciliation, 429 waits, hints, unknown cost, paths outside cwd', async () => {
    const { stdout } = await run([
      {
        type: 'build-started',
        time: T0,
        manifest: '/proj/ads/storyboard.yaml',
        provider: 'azure',
        counts: { fresh: 3, cached: 1, missing: 0, stale: 0, blocked: 0 },
        estimatedCostUsd: 0,
        estimatedWallMs: 0,
        targets: [id('teaser')],
      },
      {
        type: 'shot-planned',
        time: T0,
        shot: id('teaser'),
        state: 'cached',
        reasons: ['prompt changed'],
        blockedBy: null,
        location: null,
      },
      {
        type: 'shot-cached',
        time: T0,
        shot: id('teaser'),
        source: 'action-cache',
        output: '/elsewhere/teaser.mp4',
        digest: digest('e'),
        videoId: vid('video_t'),
      },
      { type: 'reconciled', time: T0, shot: id('harbor'), matched: true, videoId: vid('video_h') },
      {
        type: 'quota-wait',
        time: T0,
        shot: id('intro'),
        until: T0 + 12_000,
        reason: 'rate-limited',
        retryAfterMs: 12_000,
      },
      {
        type: 'quota-wait',
        time: T0,
        shot: id('outro'),
        until: null,
        reason: 'max-in-flight',
        retryAfterMs: null,
      },
      {
        type: 'shot-failed',
        time: T0,
        shot: id('mug-teal'),
        reason: 'parent-expired',
        message: 'The remote video of mug (video_m) expired at 2026-11-24T10:00:00Z.\nRemix needs it.',
        code: null,
        videoId: null,
        retryable: false,
        hint: 'run again with --regenerate-expired to regenerate mug',
      },
      {
        type: 'retry',
        time: T0,
        shot: null,
        operation: 'list',
        attempt: 3,
        delayMs: 12_400,
        reason: 'server',
        message: 'Internal server error',
      },
      {
        type: 'shot-built',
        time: T0 + 65_000,
        shot: id('gw'),
        output: '/elsewhere/gw.mp4',
        digest: digest('f'),
        bytes: 999,
        videoId: vid('task_1'),
        costUsd: null,
      },
    ]);
    expect(stdout).toBe(
      [
        'sora-build: building ads/storyboard.yaml with provider azure: nothing to generate, 3 fresh, 1 cached',
        '[teaser] cached: re-pinned from the action cache',
        '[harbor] reconciled: found video_h through List, not creating it again',
        '[intro] waiting for quota: rate limited (429), 12s',
        '[outro] waiting for quota: max in flight',
        '[mug-teal] failed: parent-expired: The remote video of mug (video_m) expired at 2026-11-24T10:00:00Z.',
        '  Remix needs it.',
        '  hint: run again with --regenerate-expired to regenerate mug',
        'sora-build: retrying list in 12s (attempt 3): server: Internal server error',
        '[gw] built /elsewhere/gw.mp4 (999 B, cost unknown)',
        '',
      ].join('\n'),
    );
  });
});
