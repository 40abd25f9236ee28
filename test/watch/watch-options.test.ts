import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeRedactor } from '../../src/cli/context.ts';
import { emulatorProject } from '../commands/emulator-project.ts';
import type { EmulatorProject } from '../commands/emulator-project.ts';
import { STORYBOARD } from '../commands/pinned-project.ts';
import { runCli } from '../commands/cli-harness.ts';
import { readdirSync, readFileSync } from 'node:fs';

/** Samples recorded in the action cache, over all keys. */
function countSamples(cacheDir: string): number {
  let n = 0;
  const ac = path.join(cacheDir, 'ac');
  let shards: string[] = [];
  try {
    shards = readdirSync(ac);
  } catch {
    return 0;
  }
  for (const shard of shards)
    for (const f of readdirSync(path.join(ac, shard)))
      if (f.endsWith('.json'))
        n += (JSON.parse(readFileSync(path.join(ac, shard, f), 'utf8')) as { samples: unknown[] }).samples
          .length;
  return n;
}

let p: EmulatorProject;
async function setUp(options: { speed?: number } = {}): Promise<void> {
  p = await emulatorProject(options);
  await writeFile(
    path.join(p.dir, 'sora.config.yaml'),
    (await readFile(path.join(p.dir, 'sora.config.yaml'), 'utf8')) +
      '    pricing: { sora-2: { usd_per_second: 0.1 } }\n',
  );
  await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD);
}
beforeEach(() => setUp());
afterEach(() => p.close());

/** `sora-build watch` in-process, with its output readable while it runs and a Ctrl-C of our own. */
function startWatch(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = { stdout: '', stderr: '' };
  stdout.on('data', (c: Buffer) => (out.stdout += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (out.stderr += c.toString('utf8')));
  const controller = new AbortController();
  const code = main(['watch', ...args], {
    cwd: p.dir,
    env: p.env,
    stdout,
    stderr,
    stdin: new PassThrough(),
    signal: controller.signal,
    redact: makeRedactor([]),
  });
  return { out, code, interrupt: () => controller.abort(new Error('interrupted by SIGINT')) };
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

describe('sora-build watch options', () => {
  it('--max-cost skips an iteration over budget, sends nothing, keeps watching; Ctrl-C exits 130', async () => {
    const w = startWatch(['--max-cost', '0.50', '--reporter', 'plain']);
    await until('the refusal', () => w.out.stderr.includes('refused'));
    expect(w.out.stderr).toBe(
      'refused: this change would generate 3 shot(s) for $1.20, above --max-cost $0.50; nothing was sent (still watching)\n',
    );
    await until('idle', () => w.out.stdout.includes('watching 2 files · Ctrl-C to stop\n'));
    expect(w.out.stdout).toBe('\n── iteration 1 · initial build ──\nwatching 2 files · Ctrl-C to stop\n');
    w.interrupt();
    expect(await w.code).toBe(130);
    expect(w.out.stdout).toContain('stopping\n');
    expect(w.out.stdout).not.toContain('in flight');
    expect(p.log()).toEqual([]);
  });

  it("a superseded job's events stay out of the next iteration's report; Ctrl-C names only jobs in flight", async () => {
    // Slow enough that the first harbor job still renders when the save supersedes its iteration.
    await p.close();
    await setUp({ speed: 20 });
    const w = startWatch(['--reporter', 'plain']);
    await until('the first harbor job', () => /\[harbor\] submitted video_\w+/.test(w.out.stdout));
    const oldId = /\[harbor\] submitted (video_\w+)/.exec(w.out.stdout)![1]!;
    await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD.replace('misty harbor', 'foggy harbor'));
    await until('iteration 2 to finish', () => /── iteration 2 [^]*sora-build: built/.test(w.out.stdout));
    const second = w.out.stdout.slice(w.out.stdout.indexOf('── iteration 2'));
    expect(second).toMatch(/\[harbor\] submitted video_\w+/);
    // The first harbor job went on into the cache, but its lines are not the new harbor's.
    expect(second).not.toContain(oldId);
    await until('idle', () => second.length > 0 && w.out.stdout.endsWith('Ctrl-C to stop\n'));
    w.interrupt();
    expect(await w.code).toBe(130);
    expect(w.out.stdout.endsWith('stopping\n')).toBe(true);
  });

  it('Ctrl-C during a build says how many jobs in flight stay in the journal', async () => {
    await p.close();
    await setUp({ speed: 20 });
    const w = startWatch(['--reporter', 'plain']);
    await until('a job on the service', () => w.out.stdout.includes('[harbor] submitted video_'));
    w.interrupt();
    expect(await w.code).toBe(130);
    expect(w.out.stdout).toMatch(/\nstopping: \d+ jobs? in flight stays? in the journal for the next run\n/);
    // Abandoned jobs let go of their files asynchronously; let them before the folder is removed.
    await new Promise((r) => setTimeout(r, 300));
  });

  it('--shot limits the build to that shot and the shots it needs', async () => {
    const w = startWatch(['--shot', 'harbor', '--reporter', 'plain']);
    await until('idle', () => w.out.stdout.includes('watching 2 files'));
    w.interrupt();
    expect(await w.code).toBe(130);
    expect(w.out.stdout).toContain('[harbor] built out/harbor.mp4');
    expect(w.out.stdout).not.toContain('[lighthouse]');
    expect(p.log().filter((l) => l.startsWith('POST'))).toEqual(['POST /v1/videos']);
  });

  it('a save while a shot renders lets that job finish into the cache and builds the new key', async () => {
    // A slower clock than the other tests: the render must still be running when the save is noticed.
    await p.close();
    await p.close();
    await setUp({ speed: 20 });
    const w = startWatch(['--shot', 'harbor', '--reporter', 'plain', '--debounce', '50']);
    await until('the first job', () => w.out.stdout.includes('[harbor] submitted'));
    await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD.replace('at dawn', 'at dusk'));
    await until(
      'idle after iteration 2',
      () => w.out.stdout.split('── iteration 2')[1]?.includes('\nwatching ') === true,
    );
    expect(w.out.stdout).toContain('storyboard.yaml changed during the build: rebuilding once it settles\n');
    // Two paid jobs (the old key's and the new key's), no third; the old one's video landed in the cache.
    expect(p.log().filter((l) => l.startsWith('POST'))).toEqual(['POST /v1/videos', 'POST /v1/videos']);
    await until('the old job in the action cache', () => countSamples(p.cacheDir) === 2);
    w.interrupt();
    expect(await w.code).toBe(130);
    // The lockfile pins the new key's video.
    expect((await runCli(['status'], { cwd: p.dir, env: p.env })).stdout).toContain(
      'harbor            fresh',
    );
  });

  it.each([
    [['--debounce', 'soon'], 'sora-build watch: expected --debounce to be whole milliseconds, got soon\n'],
    [['--max-cost', 'lots'], "sora-build watch: expected --max-cost to be an amount in USD, got 'lots'\n"],
    [['--reporter', 'fancy'], 'sora-build watch: expected --reporter to be one of'],
    [['a.yaml', 'b.yaml'], "sora-build watch: expected one MANIFEST, got 'a.yaml', 'b.yaml'"],
  ])('%j exits 2', async (args, message) => {
    const w = startWatch(args);
    expect(await w.code).toBe(2);
    expect(w.out.stderr.startsWith(message)).toBe(true);
  });
});
