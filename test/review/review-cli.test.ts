/**
 * `sora-build review` as a command (the page itself is tested in a browser: review-browser.test.ts) and
 * the live log every build writes for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeRedactor } from '../../src/cli/context.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { runCli } from '../commands/cli-harness.ts';
import { startReviewServer } from '../../src/review/review-server.ts';
import { LiveLogReporter, pruneDeadLiveLogs } from '../../src/reporter/live-log.ts';
import type { ShotId } from '../../src/core/brand.ts';

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function project(storyboard: string): Promise<void> {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-build-review-'));
  await writeFile(path.join(dir, 'sora.config.yaml'), 'version: 1\n');
  await writeFile(path.join(dir, 'storyboard.yaml'), storyboard);
}

describe('sora-build review (command)', () => {
  it('serves on loopback until Ctrl-C, printing the URL', async () => {
    await project('version: 1\nshots:\n  harbor:\n    prompt: A harbor.\n');
    const stdout = new PassThrough();
    let out = '';
    const printed = new Promise<string>((resolve) =>
      stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = / at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
        if (m) resolve(m[1]!);
      }),
    );
    const controller = new AbortController();
    const ctx: CliContext = {
      cwd: dir,
      env: {},
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      signal: controller.signal,
      redact: makeRedactor([]),
    };
    const exit = main(['review'], ctx);
    const url = await printed;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
    const html = await page.text();
    expect(html).toContain('"id":"harbor"');
    expect(html).toMatch(/"token":"[0-9a-f]{64}"/);
    controller.abort();
    expect(await exit).toBe(0);
    expect(out).toBe(
      `sora-build review: storyboard.yaml at ${url}\nPress Ctrl-C to stop.\nsora-build review stopped\n`,
    );
  });

  it('reports usage and manifest errors with exit 2', async () => {
    await project('version: 1\nshots:\n  harbor:\n    promt: A harbor.\n');
    const bad = await runCli(['review', '--port', 'x'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sora-build review: expected --port to be a port number (0-65535), got x');
    const broken = await runCli(['review'], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('storyboard.yaml:4:5: error: Expected a field of shot `harbor`');
  });
});

describe('startReviewServer', () => {
  it('on a wildcard host answers any host name, and still refuses another origin', async () => {
    await project('version: 1\nshots:\n  harbor:\n    prompt: A harbor.\n');
    const server = await startReviewServer({ review: { cwd: dir, env: {} }, host: '0.0.0.0' });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/api/model`)).status).toBe(200);
      const pin = await fetch(`http://127.0.0.1:${port}/api/pin`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-sora-build-token': server.token,
          origin: 'http://evil.example',
        },
        body: JSON.stringify({ shot: 'harbor', take: 1 }),
      });
      expect(pin.status).toBe(403);
      const mine = await fetch(`http://127.0.0.1:${port}/api/pin`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-sora-build-token': server.token,
          origin: `http://127.0.0.1:${port}`,
        },
        body: JSON.stringify({ shot: 'harbor', take: 1 }),
      });
      // Past the checks: refused only because the shot was never built.
      expect(await mine.json()).toEqual({
        error: 'harbor was never built: there is no take to pin; run `sora-build build` first',
      });
    } finally {
      await server.close();
    }
  });
});

describe('the live log', () => {
  it('writes each event as an NDJSON line per process, and prunes the logs of dead processes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sora-build-live-'));
    const cacheDir = path.join(dir, '.sora-build');
    const liveDir = path.join(cacheDir, 'live');
    await mkdir(liveDir, { recursive: true });
    // A log left by a process that is gone (a child that has exited).
    const child = spawn('true');
    await new Promise((r) => child.on('close', r));
    await writeFile(path.join(liveDir, `${child.pid}.ndjson`), '{}\n');
    await writeFile(path.join(liveDir, 'notes.txt'), 'not a live log');

    const a = LiveLogReporter.open({ cacheDir, manifest: '/p/a.yaml', pid: 4_000_001 });
    const b = LiveLogReporter.open({ cacheDir, manifest: '/p/b.yaml', pid: 4_000_001 });
    expect((await readdir(liveDir)).sort()).toEqual(['4000001.ndjson', 'notes.txt']);
    a.handle({ type: 'job-submitted', time: 1, shot: 'x' as ShotId, videoId: 'video_1' as never });
    b.handle({ type: 'shot-blocked', time: 2, shot: 'y' as ShotId, blockedBy: 'x' as ShotId });
    await a.close();
    await b.close();
    b.handle({ type: 'shot-blocked', time: 3, shot: 'z' as ShotId, blockedBy: 'x' as ShotId }); // after close: dropped
    const lines = (await readFile(path.join(liveDir, '4000001.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { manifest: '/p/a.yaml', event: { type: 'job-submitted', time: 1, shot: 'x', videoId: 'video_1' } },
      { manifest: '/p/b.yaml', event: { type: 'shot-blocked', time: 2, shot: 'y', blockedBy: 'x' } },
    ]);
    // pid 4000001 does not exist either: pruned like any dead process's log.
    expect(pruneDeadLiveLogs(liveDir)).toBe(1);
    expect(await readdir(liveDir)).toEqual(['notes.txt']);
  });
});
