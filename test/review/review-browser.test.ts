/**
 * `sora-build review` driven in a real headless browser (Playwright's library with Debian's Chromium,
 * /usr/bin/chromium, installed by .ci/run): the contact sheet, pinning by clicking, live updates from a
 * build in another process, the refusal of cross-origin pins, and the exported folder opened from disk.
 * `UPDATE_SCREENSHOTS=1` also writes the screenshot the README shows (docs/review.png).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readLockfile } from '../../src/cache/lockfile.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import type { ShotId } from '../../src/core/brand.ts';
import { startReviewServer } from '../../src/review/review-server.ts';
import type { ReviewServer } from '../../src/review/review-server.ts';
import { emulatorProject } from '../commands/emulator-project.ts';
import type { EmulatorProject } from '../commands/emulator-project.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';

const STORYBOARD = `version: 1
defaults:
  model: sora-2
  size: 1280x720
  seconds: 4
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn.
  lighthouse:
    prompt: Slow dolly-in on a lighthouse as the fog lifts.
  lighthouse-night:
    remix_of: lighthouse
    prompt: The same shot at night.
  teaser:
    size: 720x1280
    prompt: Vertical teaser, a lighthouse keeper's mug on a windowsill.
    assets: [video, thumbnail]
  banner:
    prompt: A forbidden banner over the harbor.
`;

let browser: Browser;
let p: EmulatorProject;
let server: ReviewServer | undefined;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  p = await emulatorProject();
  const config = path.join(p.dir, 'sora.config.yaml');
  await writeFile(
    config,
    `${await readFile(config, 'utf8')}    pricing: { sora-2: { usd_per_second: 0.1 } }\n`,
  );
  await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD);
  p.emulator.setFaults({ moderationWords: ['forbidden'] });
  const built = await p.run(['build', '--reporter', 'plain']);
  expect(built.stdout).toContain('sora-build: built 4 · fresh 0 · cached 0 · failed 1');
  p.emulator.setFaults({ moderationWords: [] });
  const again = await p.run(['reroll', 'harbor', '--yes', '--reporter', 'plain']);
  expect(again.code).toBe(0);
  // A prompt edit (lighthouse: stale; its remix: blocked) and a new shot (missing).
  await writeFile(
    path.join(p.dir, 'storyboard.yaml'),
    STORYBOARD.replace('as the fog lifts', 'as the storm breaks') +
      '  pier:\n    prompt: A wooden pier, ${look}.\nvars:\n  look: 35mm film\n',
  );
  server = await startReviewServer({ review: { cwd: p.dir, env: p.env } });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await browser?.close();
  await p?.close();
});

async function lockOf(shot: string) {
  const lock = await readLockfile(path.join(p.dir, 'storyboard.lock'));
  if (!lock.ok) throw new Error('bad lockfile');
  return lock.value.shots.get(shot as ShotId);
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('#sheet [data-shot]');
}

const stateOf = (page: Page, shot: string) => page.getAttribute(`#shot-${shot}`, 'data-state');

describe('sora-build review in a browser', () => {
  it('shows every shot in manifest order with its state, prompt, lineage and takes', async () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    await open(page, server!.url);
    const ids = await inPage(
      page,
      `[...document.querySelectorAll('#sheet > .shot')].map((e) => e.dataset.shot)`,
    );
    expect(ids).toEqual(['harbor', 'lighthouse', 'lighthouse-night', 'teaser', 'banner', 'pier']);
    expect(await stateOf(page, 'harbor')).toBe('fresh');
    expect(await stateOf(page, 'lighthouse')).toBe('stale');
    expect(await stateOf(page, 'lighthouse-night')).toBe('blocked');
    expect(await stateOf(page, 'teaser')).toBe('fresh');
    expect(await stateOf(page, 'banner')).toBe('failed');
    expect(await page.textContent('#shot-banner .detail')).toMatch(
      /^moderation-blocked: .+ \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/,
    );
    expect(await stateOf(page, 'pier')).toBe('missing');
    expect(await page.textContent('#shot-lighthouse .detail')).toBe('prompt changed');
    expect(await page.textContent('#shot-pier .prompt')).toBe('A wooden pier, 35mm film.');
    expect(await page.textContent('#shot-lighthouse-night .lineage')).toBe(
      'lighthouse─remix→lighthouse-night',
    );
    expect(await page.locator('#shot-harbor .take').count()).toBe(2);
    expect(await page.textContent('#shot-harbor .take.pinned')).toContain('Take 2');
    expect(await page.textContent('#summary')).toBe(
      '6 shots: 1 blocked, 1 failed, 2 fresh, 1 missing, 1 stale · provider local',
    );
    // Thumbnails are lazy images; the provider's own thumbnail is the poster when there is one.
    expect(await page.getAttribute('#shot-harbor .frame img', 'loading')).toBe('lazy');
    expect(await page.getAttribute('#shot-teaser .frame img', 'src')).toMatch(/^media\/[0-9a-f]{64}\.webp$/);
    await until(
      page,
      `[...document.querySelectorAll('.frame img')].every((i) => i.complete && i.naturalWidth > 0)`,
    );
    // Videos load only on demand: Enter on a focused shot turns its still into a playing video.
    expect(await page.$$('video')).toHaveLength(0);
    await page.focus('#shot-harbor');
    await page.keyboard.press('j');
    expect(await inPage(page, 'document.activeElement.id')).toBe('shot-lighthouse');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await until(
      page,
      `(() => {
      const v = document.querySelector('#shot-harbor .frame video');
      return v !== null && v.readyState >= 2 && v.error === null;
    })()`,
    );
    const shot = await page.screenshot({ type: 'png' });
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
    await writeFile(path.join(p.dir, 'review.png'), shot);
    // Committed, so kept small: a 256-colour palette PNG.
    if (process.env.UPDATE_SCREENSHOTS === '1')
      await writeFile(
        path.join(REPO, 'docs', 'review.png'),
        await sharp(shot).png({ palette: true, quality: 90, compressionLevel: 9 }).toBuffer(),
      );
    await page.close();
  });

  it('pins a take by clicking, as `reroll --take` does', async () => {
    const page = await browser.newPage();
    await open(page, server!.url);
    const before = await lockOf('harbor');
    await page.click('#shot-harbor .take[data-take="1"] button.pin');
    await page.waitForSelector('#shot-harbor .take.pinned[data-take="1"]');
    const after = await lockOf('harbor');
    const takes = ActionCache.open(p.cacheDir).samples(before!.key);
    expect(takes).toHaveLength(2);
    expect(before!.videoId).toBe(takes[1]!.videoId);
    expect(after!.videoId).toBe(takes[0]!.videoId);
    expect(after!.output).toBe(takes[0]!.output);
    expect(after!.key).toBe(before!.key);
    // Exactly the lockfile `reroll --take 1` writes: pinning take 1 again from the CLI changes nothing.
    const lockBytes = await readFile(path.join(p.dir, 'storyboard.lock'), 'utf8');
    const cli = await p.run(['reroll', 'harbor', '--take', '1']);
    expect(cli.stdout).toBe(`harbor: take 1 (${after!.videoId}) was already pinned\n`);
    expect(await readFile(path.join(p.dir, 'storyboard.lock'), 'utf8')).toBe(lockBytes);
    // A stale shot's takes cannot be pinned: no button.
    expect(await page.$$('#shot-lighthouse button.pin')).toHaveLength(0);
    await page.close();
  });

  it('refuses pins from another origin, without the token, or for another host name', async () => {
    const lockBefore = await readFile(path.join(p.dir, 'storyboard.lock'), 'utf8');
    // A page on another origin tries (it even knows the token, which a real attacker would not).
    const evil = http.createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    const crossSite = await inPage(
      page,
      `fetch(${JSON.stringify(`${server!.url}api/pin`)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sora-build-token': ${JSON.stringify(server!.token)} },
        body: JSON.stringify({ shot: 'harbor', take: 2 }),
      }).then((r) => 'status ' + r.status, (error) => 'blocked: ' + String(error))`,
    );
    expect(crossSite).toMatch(/^blocked: TypeError/);
    // A form post needs no preflight, so it reaches the server: refused there.
    await page.setContent(
      `<form method="post" action="${server!.url}api/pin" enctype="text/plain"><input name='{"shot":"harbor","take":2,"x":"' value='"}'></form>`,
    );
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/pin')),
      inPage(page, `document.querySelector('form').submit()`),
    ]);
    expect(response.status()).toBe(403);
    await page.close();
    await new Promise((r) => evil.close(r));

    const post = (headers: Record<string, string>) =>
      fetch(`${server!.url}api/pin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ shot: 'harbor', take: 2 }),
      }).then(async (r) => `${r.status} ${((await r.json()) as { error: string }).error}`);
    expect(await post({ 'x-sora-build-token': server!.token, origin: 'http://evil.example' })).toBe(
      '403 cross-origin request refused',
    );
    expect(await post({ 'x-sora-build-token': server!.token, 'sec-fetch-site': 'cross-site' })).toBe(
      '403 cross-site request refused',
    );
    expect(await post({})).toBe('403 missing or wrong token');
    expect(await post({ 'x-sora-build-token': 'f'.repeat(64) })).toBe('403 missing or wrong token');
    // DNS rebinding: the right token but another host name.
    const rebinding = await new Promise<number>((resolve) => {
      const url = new URL(server!.url);
      http
        .get(
          { host: url.hostname, port: url.port, path: '/', headers: { host: 'attacker.example' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .end();
    });
    expect(rebinding).toBe(421);
    // Only the store objects the page shows are served.
    expect((await fetch(`${server!.url}media/${'0'.repeat(64)}.mp4`)).status).toBe(404);
    expect((await fetch(`${server!.url}media/..%2f..%2fsora.config.yaml`)).status).toBe(404);
    expect(await readFile(path.join(p.dir, 'storyboard.lock'), 'utf8')).toBe(lockBefore);
  });

  it('updates live while a build runs in another process', async () => {
    const page = await browser.newPage();
    await open(page, server!.url);
    await page.waitForSelector('body[data-connected="true"]');
    // Record every state each card goes through.
    await inPage(
      page,
      `(() => {
        const seen = (window.seen = {});
        const record = () => {
          for (const el of document.querySelectorAll('#sheet > .shot')) {
            const list = (seen[el.dataset.shot] ??= []);
            if (list[list.length - 1] !== el.dataset.state) list.push(el.dataset.state);
          }
        };
        new MutationObserver(record).observe(document.getElementById('sheet'), {
          subtree: true,
          childList: true,
          attributes: true,
        });
        record();
      })()`,
    );
    // The emulator renders slowly enough (speed 20) for the page to see the jobs move.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(OPENAI_|AZURE_|GITHUB_|SORA_BUILD_)/.test(k)) env[k] = v;
    env.PATH = `${path.join(REPO, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;
    Object.assign(env, p.env, {
      SORA_BUILD_CLOCK: (p.env.SORA_BUILD_CLOCK ?? '').replace(/^scaled:\d+/, 'scaled:20'),
    });
    const child = spawn('node', [path.join(REPO, 'bin', 'sora-build.js'), 'build', '--reporter', 'plain'], {
      cwd: p.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(output).toContain('sora-build: built 4 · fresh 2 · cached 0 · failed 0');
    expect(code).toBe(0);
    await until(
      page,
      `['lighthouse', 'lighthouse-night', 'pier', 'banner'].every((id) => document.getElementById('shot-' + id).dataset.state === 'fresh')`,
    );
    const seen = (await inPage(page, 'window.seen')) as Record<string, string[]>;
    for (const id of ['lighthouse', 'lighthouse-night', 'pier', 'banner']) {
      expect(seen[id]![0]).toMatch(/^(stale|missing|blocked|failed)$/);
      expect(seen[id]).toContain('queued');
      expect(seen[id]).toContain('downloading');
      expect(seen[id]![seen[id]!.length - 1]).toBe('fresh');
    }
    expect(seen.harbor).toEqual(['fresh']);

    // Rendering progress, from a process that then dies without finishing (kill -9): the page shows the
    // progress, then, once the server notices the process is gone, the shot as it is on disk again.
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const log = path.join(p.dir, '.sora-build', 'live', `${sleeper.pid}.ndjson`);
    const manifest = path.join(p.dir, 'storyboard.yaml');
    const line = (event: object) =>
      `${JSON.stringify({ manifest, event: { time: Date.now(), ...event } })}\n`;
    await writeFile(
      log,
      line({
        type: 'build-started',
        provider: 'local',
        counts: {},
        estimatedCostUsd: 0,
        estimatedWallMs: 0,
        targets: [],
      }) + line({ type: 'job-submitted', shot: 'pier', videoId: 'video_x' }),
    );
    await page.waitForSelector('#shot-pier[data-state="queued"]');
    await appendFile(
      log,
      line({ type: 'job-progress', shot: 'pier', videoId: 'video_x', status: 'in_progress', progress: 42 }),
    );
    await page.waitForSelector('#shot-pier[data-state="rendering"] .progress[aria-valuenow="42"]');
    expect(await page.textContent('#shot-pier .badge')).toBe('rendering 42%');
    expect(await page.isVisible('#live')).toBe(true);
    sleeper.kill('SIGKILL');
    await page.waitForSelector('#shot-pier[data-state="fresh"]', { timeout: 10_000 });
    expect(await page.isVisible('#live')).toBe(false);
    expect(existsSync(log)).toBe(false);
    await page.close();
  }, 60_000);

  it('says so when the server stops', async () => {
    const second = await startReviewServer({ review: { cwd: p.dir, env: p.env } });
    const page = await browser.newPage();
    await open(page, second.url);
    await page.waitForSelector('body[data-connected="true"]');
    await second.close();
    await page.waitForSelector('body[data-connected="false"]');
    expect(await page.textContent('#live')).toBe(
      'Not connected to sora-build review: the page shows the state when it was last connected.',
    );
    expect(await page.locator('#sheet > .shot').count()).toBe(6);
    await page.close();
  });

  it('exports a folder that opens from disk with every video playable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-export-'));
    try {
      const out = path.join(dir, 'review');
      const r = await p.run(['review', '--export', out]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^sora-build review: exported 6 shots \(\d+ videos, \d+ images\) to .*index\.html\n$/,
      );
      const media = await readdir(path.join(out, 'media'));
      // Moved elsewhere (an artifact download): it must not depend on the project or a server.
      const moved = path.join(dir, 'moved');
      await rm(path.join(p.dir, '.sora-build', 'review'), { recursive: true, force: true });
      await copyDir(out, moved);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await open(page, pathToFileURL(path.join(moved, 'index.html')).href);
      expect(await page.$$('button.pin')).toHaveLength(0);
      const buttons = await page.$$('button.play');
      for (const b of buttons) await b.click();
      const sources = (await inPage(
        page,
        `[...document.querySelectorAll('video')].map((v) => v.src.split('/').pop())`,
      )) as string[];
      expect(new Set(sources)).toEqual(new Set(media.filter((m) => m.endsWith('.mp4'))));
      const videos = (await inPage(
        page,
        `Promise.all([...document.querySelectorAll('video')].map((v) => new Promise((resolve) => {
          const done = () => resolve((v.error === null ? 'ok' : 'error') + ' ' + (v.duration > 0));
          if (v.readyState >= 2) done();
          else {
            v.addEventListener('loadeddata', done, { once: true });
            v.addEventListener('error', done, { once: true });
          }
        })))`,
      )) as string[];
      expect(videos.length).toBe(buttons.length);
      expect(new Set(videos)).toEqual(new Set(['ok true']));
      expect(errors).toEqual([]);
      await page.close();
      // Exporting again replaces the folder's media; a folder with other files is refused.
      expect((await p.run(['review', '--export', out])).code).toBe(0);
      const refused = await p.run(['review', '--export', p.dir]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('is not empty and holds no earlier export');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Evaluates a browser-side expression (a string: the tests type-check without the DOM library). */
function inPage(page: Page, expression: string): Promise<unknown> {
  return page.evaluate(expression);
}

/**
 * Waits until a browser-side expression is true. Not `page.waitForFunction`, which evaluates its string with
 * `new Function` inside the page, and the page's Content-Security-Policy forbids that (as it should).
 */
async function until(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await inPage(page, expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(from, to, { recursive: true });
  expect(existsSync(path.join(to, 'index.html'))).toBe(true);
}
