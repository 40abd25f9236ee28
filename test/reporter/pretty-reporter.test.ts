import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { BuildEvent } from '../../src/core/events.ts';
import { PrettyReporter } from '../../src/reporter/pretty-reporter.ts';
import type { PrettyReporterOptions } from '../../src/reporter/pretty-reporter.ts';
import {
  CWD,
  MANIFEST,
  MemoryStream,
  T0,
  VirtualTerminal,
  feed,
  id,
  interruptedBuild,
  invalidManifest,
  scriptedBuild,
  vid,
} from './fixtures.ts';

function setup(options: Partial<PrettyReporterOptions> = {}): {
  clock: FakeClock;
  term: VirtualTerminal;
  reporter: PrettyReporter;
} {
  const clock = new FakeClock(T0);
  const term = new VirtualTerminal();
  const reporter = new PrettyReporter({
    stdout: term,
    stderr: term,
    env: {},
    isTTY: true,
    clock,
    cwd: CWD,
    ...options,
  });
  return { clock, term, reporter };
}

const SGR = /\u001b\[[0-9;]*m/;

describe('PrettyReporter', () => {
  it('ends with a static table of every shot, the summary and the failures in full', async () => {
    const { clock, term, reporter } = setup();
    await feed(reporter, clock, scriptedBuild());
    await clock.advance(5_000);
    await reporter.close();
    expect(term.screen).toBe(
      [
        'shot      state           progress  elapsed  quota wait  remote id',
        'harbor    built               100%      41s              video_harbor1',
        'intro     built               100%   1m 10s         30s  video_intro1',
        'mug       failed                0%       5s              video_mug1',
        'mug-teal  blocked by mug',
        'teaser    fresh                                          video_teaser0',
        '',
        'built 2 · fresh 1 · cached 0 · failed 1 · blocked 1 · $1.20 · 1m 11s',
        'estimated $2.00, about 1m 35s',
        '',
        'mug failed: moderation_blocked: Your request was rejected by the safety system.',
      ].join('\n'),
    );
    expect(clock.pending).toBe(0);
  });

  it('shows the live table mid-build, with elapsed and quota wait counting while nothing else happens, and failures at once', async () => {
    const { clock, term, reporter } = setup();
    const events = scriptedBuild();
    const upTo = events.findIndex((e) => e.type === 'retry');
    await feed(reporter, clock, events.slice(0, upTo));
    await clock.advance(3_000);
    expect(term.screen).toBe(
      [
        'shot      state           progress  elapsed  quota wait  remote id',
        'harbor    rendering            55%      33s              video_harbor1',
        'intro     creating                      33s         30s',
        'mug       failed                0%       5s              video_mug1',
        'mug-teal  blocked by mug',
        'teaser    fresh                                          video_teaser0',
        '',
        'built 0 · fresh 1 · cached 0 · failed 1 · blocked 1 · $0.00 · 33s',
        'estimated $2.00, about 1m 35s',
        '',
        'mug failed: moderation_blocked: Your request was rejected by the safety system.',
      ].join('\n'),
    );
    await reporter.close();
  });

  it("prints a caller's note above the live table, which is then drawn once, below it", async () => {
    const { clock, term, reporter } = setup();
    const events = scriptedBuild();
    await feed(reporter, clock, events.slice(0, 8));
    await clock.advance(100);
    reporter.note('storyboard.yaml changed during the build: rebuilding once it settles');
    await feed(reporter, clock, events.slice(8, 12));
    await clock.advance(1_000);
    const screen = term.screen.split('\n');
    expect(screen[0]).toBe('storyboard.yaml changed during the build: rebuilding once it settles');
    expect(screen[1]).toMatch(/^shot +state +progress +elapsed +quota wait +remote id$/);
    expect(screen.filter((l) => l.startsWith('shot '))).toHaveLength(1);
    await reporter.close();
    expect(term.screen.split('\n').filter((l) => l.startsWith('shot '))).toHaveLength(1);
  });

  it('redraws at most every 100 ms however many events arrive, and once a second while shots move', async () => {
    const { clock, term, reporter } = setup();
    const [started, ...rest] = scriptedBuild();
    reporter.handle(started!);
    reporter.handle({
      type: 'create-sent',
      time: T0,
      shot: id('harbor'),
      operation: 'create',
      parentVideoId: null,
    });
    expect(reporter.frames).toBe(1);
    // A burst: 50 polls in the same millisecond draw nothing until the interval has passed.
    for (let i = 0; i < 50; i++) {
      reporter.handle({
        type: 'job-progress',
        time: T0,
        shot: id('harbor'),
        videoId: vid('video_harbor1'),
        status: 'in_progress',
        progress: i,
      });
    }
    expect(reporter.frames).toBe(1);
    expect(term.writes).toHaveLength(1);
    await clock.advance(99);
    expect(reporter.frames).toBe(1);
    await clock.advance(1);
    expect(reporter.frames).toBe(2);
    expect(term.screen).toContain('harbor    rendering       49%       0s              video_harbor1');
    // Quiet time: one redraw per second so elapsed times move.
    await clock.advance(999);
    expect(reporter.frames).toBe(2);
    await clock.advance(1);
    expect(reporter.frames).toBe(3);
    expect(term.screen).toContain('harbor    rendering       49%       1s');
    await clock.advance(10_000);
    expect(reporter.frames).toBe(13);
    // Every frame is one write that overwrites the previous one in place.
    expect(term.writes).toHaveLength(13);
    expect(term.writes.slice(1).every((w) => w.startsWith('\u001b[9A\r'))).toBe(true);
    await feed(reporter, clock, rest);
    await reporter.close();
    expect(clock.pending).toBe(0);
    const frames = reporter.frames;
    await clock.advance(5_000);
    expect(reporter.frames).toBe(frames);
  });

  it('keeps the latest three failures under the live table, first lines only, and all of them in full at the end', async () => {
    const { clock, term, reporter } = setup();
    const shots = ['a', 'b', 'c', 'd', 'e'].map(id);
    await feed(reporter, clock, [
      {
        type: 'build-started',
        time: T0,
        manifest: MANIFEST,
        provider: 'emulator',
        counts: { fresh: 0, cached: 0, missing: 5, stale: 0, blocked: 0 },
        estimatedCostUsd: null,
        estimatedWallMs: null,
        targets: shots,
      },
      ...shots.map((shot, i): BuildEvent => ({
        type: 'shot-failed',
        time: T0 + 1_000 * (i + 1),
        shot,
        reason: 'job-failed',
        message: `render error ${i}\nsecond line`,
        code: 'internal_error',
        videoId: null,
        retryable: true,
        hint: null,
      })),
    ]);
    await clock.advance(100);
    expect(term.screen.split('\n').slice(-5)).toEqual([
      '',
      '… 2 earlier failures',
      'c failed: internal_error: render error 2',
      'd failed: internal_error: render error 3',
      'e failed: internal_error: render error 4',
    ]);
    await reporter.close();
    expect(term.screen.split('\n').slice(-11)).toEqual([
      '',
      'a failed: internal_error: render error 0',
      '  second line',
      'b failed: internal_error: render error 1',
      '  second line',
      'c failed: internal_error: render error 2',
      '  second line',
      'd failed: internal_error: render error 3',
      '  second line',
      'e failed: internal_error: render error 4',
      '  second line',
    ]);
  });

  it('after Ctrl-C says how to resume and marks the jobs still in flight', async () => {
    const { clock, term, reporter } = setup();
    await feed(reporter, clock, interruptedBuild());
    await reporter.close();
    expect(term.screen).toBe(
      [
        'shot    state      progress  elapsed  quota wait  remote id',
        'harbor  in flight       80%       9s              video_harbor1',
        'intro   in flight                 8s              video_intro2',
        '',
        'built 0 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.00 · 9s',
        'estimated cost unknown',
        '',
        'interrupted; 2 jobs in flight are kept in the journal. Run `sora-build build storyboard.yaml` again to resume them without paying twice.',
      ].join('\n'),
    );
  });

  it('cuts live lines to the terminal width and live rows to its height; the final frame shows everything', async () => {
    const { clock, term, reporter } = setup({ columns: 40, rows: 10 });
    const shots = Array.from({ length: 30 }, (_, i) => id(`shot-${String(i).padStart(2, '0')}`));
    const events: BuildEvent[] = [
      {
        type: 'build-started',
        time: T0,
        manifest: MANIFEST,
        provider: 'emulator',
        counts: { fresh: 0, cached: 0, missing: 30, stale: 0, blocked: 0 },
        estimatedCostUsd: 24,
        estimatedWallMs: 900_000,
        targets: shots,
      },
      { type: 'create-sent', time: T0 + 10, shot: id('shot-17'), operation: 'create', parentVideoId: null },
      {
        type: 'job-submitted',
        time: T0 + 300,
        shot: id('shot-17'),
        videoId: vid('video_a_rather_long_remote_id'),
      },
    ];
    await feed(reporter, clock, events);
    await clock.advance(100);
    const live = term.screen.split('\n');
    expect(live.every((l) => l.length <= 39)).toBe(true);
    expect(live).toHaveLength(9);
    expect(live[1]).toBe('shot-00  pending');
    expect(live.find((l) => l.startsWith('shot-17'))).toBe('shot-17  queued                  0s   …');
    expect(live[5]).toBe('… and 26 more');
    expect(live[7]).toBe('built 0 · fresh 0 · cached 0 · failed …');
    expect(live[8]).toBe('estimated $24.00, about 15m 00s');
    await reporter.close();
    const final = term.screen.split('\n');
    expect(final).toHaveLength(34);
    expect(final).toContain(
      `shot-17  queued${' '.repeat(18)}0s${' '.repeat(14)}video_a_rather_long_remote_id`,
    );
    expect(final.at(-2)).toBe('built 0 · fresh 0 · cached 0 · failed 0 · blocked 0 · $0.00 · 0s');
    expect(final.at(-1)).toBe('estimated $24.00, about 15m 00s');
  });

  it('colours only on a colour terminal without NO_COLOR', async () => {
    for (const [env, coloured] of [
      [{}, true],
      [{ NO_COLOR: '1' }, false],
      [{ NO_COLOR: '' }, true],
      [{ TERM: 'dumb' }, false],
    ] as const) {
      const { clock, term, reporter } = setup({ env });
      await feed(reporter, clock, scriptedBuild());
      await reporter.close();
      expect(SGR.test(term.text), JSON.stringify(env)).toBe(coloured);
    }
    const clock = new FakeClock(T0);
    const term = new VirtualTerminal();
    const reporter = new PrettyReporter({
      stdout: Object.assign(term, { hasColors: () => false }),
      stderr: term,
      env: {},
      isTTY: true,
      clock,
      cwd: CWD,
    });
    await feed(reporter, clock, scriptedBuild());
    await reporter.close();
    expect(SGR.test(term.text)).toBe(false);
  });

  it('off a terminal, draws nothing live and prints only the final picture, without escapes', async () => {
    const clock = new FakeClock(T0);
    const stdout = new MemoryStream();
    const reporter = new PrettyReporter({ stdout, stderr: stdout, env: {}, isTTY: false, clock, cwd: CWD });
    await feed(reporter, clock, scriptedBuild());
    expect(stdout.writes).toEqual([]);
    await reporter.close();
    expect(reporter.frames).toBe(0);
    expect(stdout.writes).toHaveLength(1);
    expect(stdout.text).not.toContain('\u001b');
    expect(stdout.text).toContain('built 2 · fresh 1 · cached 0 · failed 1 · blocked 1 · $1.20 · 1m 11s\n');
  });

  it('prints diagnostics above the live table and draws the table again below them', async () => {
    const { clock, term, reporter } = setup();
    const [started, planned] = scriptedBuild();
    await feed(reporter, clock, [started!, planned!]);
    await clock.advance(100);
    const [error, warning] = invalidManifest();
    reporter.handle(warning!);
    expect(term.screen.split('\n').slice(0, 3)).toEqual([
      'storyboard.yaml:12:5: warning: Unknown model `veo-3`: its sizes and durations are not checked.',
      'shot      state    progress  elapsed  quota wait  remote id',
      'harbor    pending',
    ]);
    await reporter.close();

    const alone = setup();
    alone.reporter.handle(error!);
    await alone.reporter.close();
    expect(alone.term.screen).toBe(
      'storyboard.yaml:7:14: error: Expected `seconds` to be one of 4, 8, 12, but was 10.',
    );
  });
});
