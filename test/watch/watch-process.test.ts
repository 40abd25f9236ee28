/**
 * `sora-build watch` as a real process (node bin/sora-build.js) against a standalone emulator on loopback
 * (a `type: openai` provider pointed at it), sharing a scaled clock: edit a prompt, then a reference image,
 * then break the YAML, then fix it, then a burst of saves. After each step the test knows exactly which
 * shots were rebuilt (the lockfile's remote ids that changed) and that nothing else was paid for (the
 * emulator's create requests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ScaledClock } from '../../src/core/clock.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { readLockfile } from '../../src/cache/lockfile.ts';

const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const API_KEY = 'sk-test-watch-0b6e3f9d1c';
const SPEED = 2000;
const DEBOUNCE_MS = 400;

const storyboard = (harbor: string, pier: string, broken = false) => `version: 1
defaults:
  model: sora-2
  size: 1280x720
  seconds: 4
shots:
  harbor:
    prompt: ${harbor}
  mug:
    prompt: Slow dolly-in on a mug on a wooden table.
    input_reference: refs/mug.png
  pier:
    prompt: ${pier}${broken ? '\n  broken: [\n' : ''}
`;

const png = (r: number, g: number, b: number) =>
  sharp({ create: { width: 1280, height: 720, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();

let dir: string;
let emulator: EmulatorHandle;
let child: ChildProcess;
let stdout = '';
let stderr = '';
let exit: Promise<number | null>;

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
/** Waits until the watch is idle after `iterations` iterations (each ends with a `watching` line). */
const idleAfter = (iterations: number) =>
  waitFor(`iteration ${iterations} to finish`, () => count(stdout, '\nwatching ') >= iterations);

async function lockedIds(): Promise<Record<string, string>> {
  const lock = await readLockfile(path.join(dir, 'storyboard.lock'));
  if (!lock.ok) throw new Error('unreadable lockfile');
  return Object.fromEntries([...lock.value.shots].map(([id, e]) => [id, e.videoId]));
}

let creates = 0;
/** Create requests since the last call. */
function newCreates(): number {
  const all = emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/v1/videos').length;
  const n = all - creates;
  creates = all;
  return n;
}

/** Which shots got a new remote video since `before`. */
function rebuilt(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after)
    .filter((id) => before[id] !== after[id])
    .sort();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-build-watch-'));
  const epoch = Date.now();
  emulator = await startEmulator({
    clock: new ScaledClock({ speed: SPEED, epoch }),
    apiKeys: [API_KEY],
    createsPerMinute: 100,
    renderFps: 1, // placeholder frames are not what this test looks at; fewer keep it fast
  });
  await writeFile(
    path.join(dir, 'sora.config.yaml'),
    [
      'version: 1',
      'provider: local',
      'providers:',
      '  local:',
      '    type: openai',
      `    base_url: ${emulator.url}/v1`,
      '    quota: { creates_per_minute: 100, max_in_flight: 8 }',
      '',
    ].join('\n'),
  );
  await mkdir(path.join(dir, 'refs'));
  await writeFile(path.join(dir, 'refs', 'mug.png'), await png(200, 120, 40));
  await writeFile(path.join(dir, 'storyboard.yaml'), storyboard('A misty harbor at dawn.', 'A wooden pier.'));

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(OPENAI_|AZURE_|GITHUB_|SORA_BUILD_)/.test(k)) env[k] = v;
  env.PATH = `${path.join(REPO, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;
  env.OPENAI_API_KEY = API_KEY;
  env.SORA_BUILD_CLOCK = `scaled:${SPEED}:${epoch}`;
  env.NO_COLOR = '1';
  child = spawn(
    'node',
    [
      path.join(REPO, 'bin', 'sora-build.js'),
      'watch',
      '--debounce',
      String(DEBOUNCE_MS),
      '--reporter',
      'plain',
    ],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  exit = new Promise((resolve) => child.on('close', (code) => resolve(code)));
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sora-build watch (real process)', () => {
  it('rebuilds exactly what changed, survives a broken manifest, merges a burst, never resubmits a refused key, exits 130 on Ctrl-C', async () => {
    // 1. The initial build generates every shot.
    await idleAfter(1);
    expect(stdout).toContain('── iteration 1 · initial build ──\n');
    let before = await lockedIds();
    expect(Object.keys(before).sort()).toEqual(['harbor', 'mug', 'pier']);
    expect(newCreates()).toBe(3);

    // 2. A prompt edit rebuilds that shot only.
    await writeFile(
      path.join(dir, 'storyboard.yaml'),
      storyboard('A misty harbor at dusk.', 'A wooden pier.'),
    );
    await idleAfter(2);
    expect(stdout).toContain('── iteration 2 · storyboard.yaml changed ──\n');
    let after = await lockedIds();
    expect(rebuilt(before, after)).toEqual(['harbor']);
    expect(newCreates()).toBe(1);
    before = after;

    // 3. A new reference image rebuilds the shot that uses it.
    await writeFile(path.join(dir, 'refs', 'mug.png'), await png(20, 140, 160));
    await idleAfter(3);
    expect(stdout).toContain('── iteration 3 · refs/mug.png changed ──\n');
    after = await lockedIds();
    expect(rebuilt(before, after)).toEqual(['mug']);
    expect(newCreates()).toBe(1);
    before = after;

    // 4. A broken manifest: diagnostics, nothing built, still watching.
    await writeFile(
      path.join(dir, 'storyboard.yaml'),
      storyboard('A misty harbor at dusk.', 'A wooden pier.', true),
    );
    await idleAfter(4);
    expect(stdout).toContain('── iteration 4 · storyboard.yaml changed ──\n');
    expect(stderr).toMatch(/storyboard\.yaml:\d+:\d+: error: /);
    expect(stderr).toContain('nothing built; fix and save to try again (still watching)\n');
    expect(await lockedIds()).toEqual(before);
    expect(newCreates()).toBe(0);

    // 5. Fixed (with a new pier prompt): builds again, only the pier.
    await writeFile(
      path.join(dir, 'storyboard.yaml'),
      storyboard('A misty harbor at dusk.', 'A stone pier.'),
    );
    await idleAfter(5);
    expect(stdout).toContain('── iteration 5 · storyboard.yaml changed ──\n');
    after = await lockedIds();
    expect(rebuilt(before, after)).toEqual(['pier']);
    expect(newCreates()).toBe(1);
    before = after;

    // 6. A burst of saves within the quiet period: one iteration, one rebuild of the final text.
    for (let i = 1; i <= 6; i++) {
      await writeFile(
        path.join(dir, 'storyboard.yaml'),
        storyboard(`A misty harbor, take ${i}.`, 'A stone pier.'),
      );
      await new Promise((r) => setTimeout(r, 30));
    }
    await idleAfter(6);
    await new Promise((r) => setTimeout(r, 3 * DEBOUNCE_MS)); // would a second iteration start?
    expect(count(stdout, '── iteration ')).toBe(6);
    expect(stdout).toContain('── iteration 6 · storyboard.yaml changed ──\n');
    after = await lockedIds();
    expect(rebuilt(before, after)).toEqual(['harbor']);
    expect(newCreates()).toBe(1);

    before = after;

    // 7. A prompt the service's moderation refuses fails once; an unrelated save does not resubmit it.
    emulator.setFaults({ moderationWords: ['forbidden'] });
    await writeFile(path.join(dir, 'storyboard.yaml'), storyboard('A forbidden harbor.', 'A stone pier.'));
    await idleAfter(7);
    expect(newCreates()).toBe(1);
    expect(await lockedIds()).toEqual(before);
    await writeFile(
      path.join(dir, 'storyboard.yaml'),
      storyboard('A forbidden harbor.', 'A stone pier at noon.'),
    );
    await idleAfter(8);
    expect(stdout).toContain(
      'harbor: not resubmitted: it failed in this session (moderation-blocked); change its prompt or inputs to try again\n',
    );
    after = await lockedIds();
    expect(rebuilt(before, after)).toEqual(['pier']);
    expect(newCreates()).toBe(1);

    // 8. Ctrl-C: a clean exit with 130.
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    // Idle: nothing is in flight, so there is nothing to say about the journal.
    expect(stdout.endsWith('stopping\n')).toBe(true);
    expect(stderr).not.toContain('internal error');
    expect(stdout + stderr).not.toContain(API_KEY);
  });
});
