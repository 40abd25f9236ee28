/**
 * Two processes on one project: two `sora-build build` started at once, and a watch session plus a build.
 * Each shot key is generated once (single-flight claims under the cache folder); both end green.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { moneyProject, storyboard } from '../support/money-project.ts';
import type { MoneyProject } from '../support/money-project.ts';

vi.setConfig({ testTimeout: 120_000 });

const STORYBOARD = storyboard({ shots: 6 });
const ONE_EACH = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`Shot s${i}.`, 1]));

let project: MoneyProject | undefined;
let watch: ChildProcess | undefined;
afterEach(async () => {
  if (watch !== undefined && watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
  watch = undefined;
  await project?.close();
  project = undefined;
});

describe('two processes on one project', () => {
  it('two builds at once make each of 6 shots once, and both end green', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    const [a, b] = await Promise.all([p.build(), p.build()]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
    expect(await p.integrityProblems()).toEqual([]);
    expect(await p.secretLeaks()).toEqual([]);
  });

  it('watch plus a build make each of 6 shots once, and both end green', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    watch = p.spawn(['watch', '--reporter', 'plain']);
    let out = '';
    watch.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    watch.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const build = await p.build();
    const start = Date.now();
    while (!out.includes('\nwatching ') && Date.now() - start < 60_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(out).toContain('\nwatching ');
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(out).toMatch(/failed 0/);
    p.results.push({ code: 0, signal: null, stdout: out, stderr: '' });
    expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
    expect(await p.integrityProblems()).toEqual([]);
    expect(await p.secretLeaks()).toEqual([]);
  });
});
