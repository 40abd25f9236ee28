/**
 * Scripted builds for the reporter tests: event sequences as the engine emits them, in-memory streams, and a
 * tiny virtual terminal that applies the escape sequences `pretty` writes, so a test can assert what the
 * screen shows rather than which bytes were sent.
 */
import { asSha256, asShotId, asVideoId } from '../../src/core/brand.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import type { BuildEvent, BuildEventType } from '../../src/core/events.ts';
import type { Reporter } from '../../src/reporter/reporter.ts';

export const T0 = 1_700_000_000_000;
export const CWD = '/proj';
export const MANIFEST = '/proj/storyboard.yaml';

export const id = asShotId;
export const vid = asVideoId;
export const digest = (c: string): ReturnType<typeof asSha256> => asSha256(c.repeat(64).slice(0, 64));
const at = (file: string, line: number, col: number): { file: string; line: number; col: number } => ({
  file,
  line,
  col,
});

/**
 * A whole build: harbor and intro generated (intro waits for the per-minute window and retries a refused
 * connection), mug blocked by moderation so mug-teal is blocked, teaser fresh.
 */
export function scriptedBuild(): BuildEvent[] {
  return [
    {
      type: 'build-started',
      time: T0,
      manifest: MANIFEST,
      provider: 'emulator',
      counts: { fresh: 1, cached: 0, missing: 2, stale: 1, blocked: 1 },
      estimatedCostUsd: 2,
      estimatedWallMs: 95_000,
      targets: [id('harbor'), id('intro'), id('mug'), id('mug-teal'), id('teaser')],
    },
    planned('harbor', 'missing', 9),
    planned('intro', 'missing', 22),
    { ...planned('mug', 'stale', 11), reasons: ['prompt changed'] },
    { ...planned('mug-teal', 'blocked', 16), blockedBy: id('mug') },
    planned('teaser', 'fresh', 18),
    {
      type: 'shot-cached',
      time: T0 + 5,
      shot: id('teaser'),
      source: 'lockfile',
      output: '/proj/out/social/teaser.mp4',
      digest: digest('e'),
      videoId: vid('video_teaser0'),
    },
    { type: 'create-sent', time: T0 + 10, shot: id('harbor'), operation: 'create', parentVideoId: null },
    { type: 'job-submitted', time: T0 + 250, shot: id('harbor'), videoId: vid('video_harbor1') },
    { type: 'create-sent', time: T0 + 260, shot: id('mug'), operation: 'create', parentVideoId: null },
    { type: 'job-submitted', time: T0 + 500, shot: id('mug'), videoId: vid('video_mug1') },
    {
      type: 'quota-wait',
      time: T0 + 510,
      shot: id('intro'),
      until: T0 + 30_510,
      reason: 'per-minute-window',
      retryAfterMs: null,
    },
    progress('harbor', 'video_harbor1', T0 + 2_000, 'in_progress', 10),
    progress('mug', 'video_mug1', T0 + 4_000, 'queued', 0),
    {
      type: 'shot-failed',
      time: T0 + 6_000,
      shot: id('mug'),
      reason: 'moderation-blocked',
      message: 'Your request was rejected by the safety system.',
      code: 'moderation_blocked',
      videoId: vid('video_mug1'),
      retryable: false,
      hint: null,
    },
    { type: 'shot-blocked', time: T0 + 6_000, shot: id('mug-teal'), blockedBy: id('mug') },
    progress('harbor', 'video_harbor1', T0 + 12_000, 'in_progress', 55),
    { type: 'create-sent', time: T0 + 30_510, shot: id('intro'), operation: 'create', parentVideoId: null },
    {
      type: 'retry',
      time: T0 + 30_700,
      shot: id('intro'),
      operation: 'create',
      attempt: 2,
      delayMs: 1_500,
      reason: 'connection',
      message: 'connect ECONNREFUSED 127.0.0.1:4010',
    },
    { type: 'job-submitted', time: T0 + 32_300, shot: id('intro'), videoId: vid('video_intro1') },
    { type: 'job-completed', time: T0 + 40_000, shot: id('harbor'), videoId: vid('video_harbor1') },
    download('download-started', 'harbor', 'video_harbor1', T0 + 40_010, 'video'),
    {
      ...download('download-finished', 'harbor', 'video_harbor1', T0 + 41_000, 'video'),
      bytes: 1_234_567,
      digest: digest('a'),
    },
    {
      type: 'shot-built',
      time: T0 + 41_050,
      shot: id('harbor'),
      output: '/proj/out/harbor.mp4',
      digest: digest('a'),
      bytes: 1_234_567,
      videoId: vid('video_harbor1'),
      costUsd: 0.8,
    },
    progress('intro', 'video_intro1', T0 + 50_000, 'in_progress', 40),
    { type: 'job-completed', time: T0 + 70_000, shot: id('intro'), videoId: vid('video_intro1') },
    download('download-started', 'intro', 'video_intro1', T0 + 70_010, 'video'),
    {
      ...download('download-finished', 'intro', 'video_intro1', T0 + 70_500, 'video'),
      bytes: 2_345_678,
      digest: digest('b'),
    },
    download('download-started', 'intro', 'video_intro1', T0 + 70_510, 'thumbnail'),
    {
      ...download('download-finished', 'intro', 'video_intro1', T0 + 70_600, 'thumbnail'),
      bytes: 23_456,
      digest: digest('c'),
    },
    {
      type: 'shot-built',
      time: T0 + 71_000,
      shot: id('intro'),
      output: '/proj/out/intro.mp4',
      digest: digest('b'),
      bytes: 2_345_678,
      videoId: vid('video_intro1'),
      costUsd: 0.4,
    },
    {
      type: 'build-finished',
      time: T0 + 71_010,
      built: 2,
      fresh: 1,
      cached: 0,
      failed: 1,
      blocked: 1,
      costUsd: 1.2,
      wallMs: 71_010,
    },
  ];
}

/**
 * A rerun after Ctrl-C that is interrupted again: harbor resumed from the journal, intro's intent without an
 * id reconciled (nothing found) and created, a gateway model with an unknown price, then Ctrl-C.
 */
export function interruptedBuild(): BuildEvent[] {
  return [
    {
      type: 'build-started',
      time: T0,
      manifest: MANIFEST,
      provider: 'gateway',
      counts: { fresh: 0, cached: 0, missing: 2, stale: 0, blocked: 0 },
      estimatedCostUsd: null,
      estimatedWallMs: null,
      targets: [id('harbor'), id('intro')],
    },
    planned('harbor', 'missing', 9),
    planned('intro', 'missing', 22),
    { type: 'resumed', time: T0 + 20, shot: id('harbor'), videoId: vid('video_harbor1') },
    { type: 'reconciled', time: T0 + 400, shot: id('intro'), matched: false, videoId: null },
    { type: 'create-sent', time: T0 + 410, shot: id('intro'), operation: 'create', parentVideoId: null },
    { type: 'job-submitted', time: T0 + 900, shot: id('intro'), videoId: vid('video_intro2') },
    progress('harbor', 'video_harbor1', T0 + 3_000, 'in_progress', 80),
    { type: 'interrupted', time: T0 + 9_000, inFlight: 2, resume: 'sora-build build storyboard.yaml' },
    {
      type: 'build-finished',
      time: T0 + 9_050,
      built: 0,
      fresh: 0,
      cached: 0,
      failed: 0,
      blocked: 0,
      costUsd: 0,
      wallMs: 9_050,
    },
  ];
}

/** A manifest that does not validate: no build starts. */
export function invalidManifest(): BuildEvent[] {
  return [
    {
      type: 'diagnostic',
      time: T0,
      file: MANIFEST,
      line: 7,
      col: 14,
      severity: 'error',
      message: 'Expected `seconds` to be one of 4, 8, 12, but was 10.',
    },
    {
      type: 'diagnostic',
      time: T0,
      file: MANIFEST,
      line: 12,
      col: 5,
      severity: 'warning',
      message: 'Unknown model `veo-3`: its sizes and durations are not checked.',
    },
  ];
}

/** One event of every type, typed so that the compiler proves none is missing. */
export const ONE_OF_EACH: { readonly [K in BuildEventType]: Extract<BuildEvent, { type: K }> } = (() => {
  const all = [...scriptedBuild(), ...interruptedBuild(), ...invalidManifest()];
  const first = <K extends BuildEventType>(type: K): Extract<BuildEvent, { type: K }> => {
    const found = all.find((e) => e.type === type);
    if (found === undefined) throw new Error(`no sample of ${type}`);
    return found as Extract<BuildEvent, { type: K }>;
  };
  return {
    'build-started': first('build-started'),
    'shot-planned': first('shot-planned'),
    'shot-cached': first('shot-cached'),
    'quota-wait': first('quota-wait'),
    'create-sent': first('create-sent'),
    'job-submitted': first('job-submitted'),
    'job-progress': first('job-progress'),
    'job-completed': first('job-completed'),
    'download-started': first('download-started'),
    'download-finished': first('download-finished'),
    'asset-derived': {
      type: 'asset-derived',
      time: T0 + 70_700,
      shot: asShotId('intro'),
      videoId: asVideoId('video_intro1'),
      variant: 'spritesheet',
      bytes: 20_480,
      digest: asSha256('c'.repeat(64)),
      because: 'the finished video video_intro1 is no longer on the service (expired or deleted)',
    },
    'shot-built': first('shot-built'),
    'shot-failed': first('shot-failed'),
    'shot-blocked': first('shot-blocked'),
    resumed: first('resumed'),
    reconciled: first('reconciled'),
    retry: first('retry'),
    interrupted: first('interrupted'),
    'build-finished': first('build-finished'),
    diagnostic: first('diagnostic'),
  };
})();

function planned(
  shot: string,
  state: 'fresh' | 'cached' | 'missing' | 'stale' | 'blocked',
  line: number,
): Extract<BuildEvent, { type: 'shot-planned' }> {
  return {
    type: 'shot-planned',
    time: T0,
    shot: id(shot),
    state,
    reasons: [],
    blockedBy: null,
    location: at(MANIFEST, line, 3),
  };
}

function progress(
  shot: string,
  videoId: string,
  time: number,
  status: 'queued' | 'in_progress',
  percent: number,
): Extract<BuildEvent, { type: 'job-progress' }> {
  return { type: 'job-progress', time, shot: id(shot), videoId: vid(videoId), status, progress: percent };
}

function download<T extends 'download-started' | 'download-finished'>(
  type: T,
  shot: string,
  videoId: string,
  time: number,
  variant: 'video' | 'thumbnail',
): {
  type: T;
  time: number;
  shot: ReturnType<typeof id>;
  videoId: ReturnType<typeof vid>;
  variant: 'video' | 'thumbnail';
} {
  return { type, time, shot: id(shot), videoId: vid(videoId), variant };
}

/** A stream that keeps what was written. */
export class MemoryStream {
  readonly writes: string[] = [];
  write(chunk: string): boolean {
    this.writes.push(chunk);
    return true;
  }
  get text(): string {
    return this.writes.join('');
  }
}

/**
 * The screen of a terminal after the bytes written to it: printable text, `\r`, `\n` (as CR LF, like a tty),
 * and the CSI sequences `pretty` uses (`A` up, `K` erase to line end, `J` erase below, `m` colours). Any
 * other escape fails the test, so `pretty` cannot start using one the tests do not understand.
 */
export class VirtualTerminal extends MemoryStream {
  readonly isTTY = true;
  #lines: string[] = [''];
  #row = 0;
  #col = 0;

  override write(chunk: string): boolean {
    super.write(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (ch === '\u001b') {
        const m = /^\u001b\[([0-9;]*)([A-Za-z])/.exec(chunk.slice(i));
        if (m === null) throw new Error(`unsupported escape at ${JSON.stringify(chunk.slice(i, i + 8))}`);
        this.#csi(m[1]!, m[2]!);
        i += m[0].length - 1;
      } else if (ch === '\r') this.#col = 0;
      else if (ch === '\n') {
        this.#row++;
        this.#col = 0;
        while (this.#lines.length <= this.#row) this.#lines.push('');
      } else {
        const line = this.#lines[this.#row]!.padEnd(this.#col);
        this.#lines[this.#row] = line.slice(0, this.#col) + ch + line.slice(this.#col + 1);
        this.#col++;
      }
    }
    return true;
  }

  #csi(params: string, command: string): void {
    switch (command) {
      case 'A':
        this.#row = Math.max(0, this.#row - (params === '' ? 1 : Number(params)));
        return;
      case 'K':
        this.#lines[this.#row] = this.#lines[this.#row]!.slice(0, this.#col);
        return;
      case 'J':
        this.#lines[this.#row] = this.#lines[this.#row]!.slice(0, this.#col);
        this.#lines.length = this.#row + 1;
        return;
      case 'm':
        return;
      default:
        throw new Error(`unsupported CSI ${params}${command}`);
    }
  }

  /** What the screen shows, trailing empty lines dropped. */
  get screen(): string {
    const lines = [...this.#lines];
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines.join('\n');
  }
}

/** Hands events to a reporter, moving the fake clock to each event's time first. */
export async function feed(
  reporter: Reporter,
  clock: FakeClock,
  events: readonly BuildEvent[],
): Promise<void> {
  for (const event of events) {
    if (event.time > clock.now()) await clock.advance(event.time - clock.now());
    reporter.handle(event);
  }
}
