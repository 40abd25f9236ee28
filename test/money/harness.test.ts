/**
 * The money-path harness checks itself: the fault proxy spoils exactly what its rules say, and the end-of-
 * scenario checks (videos per shot, file integrity, secret scan) do find what they look for. Without
 * these, a scenario could pass because its check was blind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_KEY, moneyProject, storyboard } from '../support/money-project.ts';
import type { MoneyProject } from '../support/money-project.ts';
import { ROUTES } from '../support/fault-proxy.ts';

let project: MoneyProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const body = JSON.stringify({ prompt: 'Shot s1.', model: 'sora-2', size: '1280x720', seconds: '4' });

describe('the money-path harness', () => {
  it('the proxy drops a create’s answer after the service made the video, answers 500 without forwarding, and heals', async () => {
    project = await moneyProject({ storyboard: storyboard({ shots: 1 }) });
    const p = project;
    p.proxy.setRules([
      { ...ROUTES.create, fault: 'drop-response', times: 1 },
      { ...ROUTES.list, fault: 'status-500', times: 1 },
    ]);
    await expect(fetch(`${p.proxy.url}/v1/videos`, { method: 'POST', headers, body })).rejects.toThrow();
    expect(await p.videosPerPrompt()).toEqual({ 'Shot s1.': 1 });
    expect((await fetch(`${p.proxy.url}/v1/videos`, { headers })).status).toBe(500);
    expect((await fetch(`${p.proxy.url}/v1/videos`, { headers })).status).toBe(200);
    expect(p.proxy.log().map((e) => e.fault)).toEqual(['drop-response', 'status-500', null]);
  });

  it('the checks find a corrupted store object, a bad lockfile and a planted key', async () => {
    project = await moneyProject({ storyboard: storyboard({ shots: 1 }) });
    const p = project;
    expect(await p.integrityProblems()).toEqual([]);
    expect(await p.secretLeaks()).toEqual([]);
    const digest = 'ab'.repeat(32);
    await mkdir(join(p.dir, '.sora-build', 'cas', 'sha256', 'ab'), { recursive: true });
    await writeFile(join(p.dir, '.sora-build', 'cas', 'sha256', 'ab', digest.slice(2)), 'not these bytes');
    await writeFile(join(p.dir, '.sora-build', 'notes.txt'), `key=${API_KEY}\n`);
    await writeFile(join(p.dir, 'storyboard.lock'), 'version: [\n');
    expect((await p.integrityProblems()).join('\n')).toMatch(/store object ab{1}.*hashes to[\s\S]*lockfile/);
    expect(await p.secretLeaks()).toEqual(['.sora-build/notes.txt']);
  });
});
