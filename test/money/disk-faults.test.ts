/**
 * Disk faults: ENOSPC and EIO injected (the test-only switch, src/core/test-faults.ts) in the store, the
 * journal and the lockfile writer, and an out/ that cannot be written. Each run ends (no wedge) with a clear
 * error naming the path and the code, and a later run completes without a new create.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { moneyProject, storyboard } from '../support/money-project.ts';
import type { MoneyProject } from '../support/money-project.ts';

vi.setConfig({ testTimeout: 120_000 });

const STORYBOARD = storyboard({ shots: 2 });
const ONE_EACH = { 'Shot s1.': 1, 'Shot s2.': 1 };

let project: MoneyProject | undefined;
let watch: ChildProcess | undefined;
afterEach(async () => {
  if (watch !== undefined && watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
  watch = undefined;
  await project?.close();
  project = undefined;
});

/** After a faulty run: a clean run builds what is left without creating anything new, then nothing more. */
async function recovers(p: MoneyProject): Promise<void> {
  const paid = await p.videosPerPrompt();
  const healed = await p.build();
  expect(healed.code, healed.stdout + healed.stderr).toBe(0);
  // Whatever the faulty run managed to pay for, it paid for once (nothing at all when no intent could be
  // journaled: no create is sent without one).
  expect(Object.values(paid).every((n) => n === 1)).toBe(true);
  expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
  expect(await p.integrityProblems()).toEqual([]);
  expect((await p.build()).stdout).toMatch(/built 0 · fresh 2 · cached 0 · failed 0/);
  expect(await p.secretLeaks()).toEqual([]);
}

const WHERE = { store: '.sora-build', journal: 'journal', lockfile: 'storyboard.lock' } as const;

describe('a failing disk', () => {
  for (const kind of ['store', 'journal', 'lockfile'] as const) {
    for (const code of ['ENOSPC', 'EIO'] as const) {
      it(`${code} on every ${kind} write: the run ends saying where and why; the next completes`, async () => {
        project = await moneyProject({ storyboard: STORYBOARD });
        const p = project;
        const faulty = await p.build([], {
          env: { SORA_BUILD_TEST_FAULTS: `${code.toLowerCase()}:${kind}` },
        });
        const text = faulty.stdout + faulty.stderr;
        expect(faulty.signal, text).toBeNull();
        expect(faulty.code, text).toBe(1);
        expect(text).toContain(code);
        expect(text).toContain(WHERE[kind]);
        expect(text).not.toMatch(/internal error/);
        await recovers(p);
      });
    }
  }

  it('one failed journal write fails one shot; the other is still built in the same run (no wedge)', async () => {
    project = await moneyProject({ storyboard: STORYBOARD, maxInFlight: 1 });
    const p = project;
    const faulty = await p.build([], { env: { SORA_BUILD_TEST_FAULTS: 'enospc:journal:1' } });
    const text = faulty.stdout + faulty.stderr;
    expect(faulty.code, text).toBe(1);
    expect(text).toMatch(/built 1 · fresh 0 · cached 0 · failed 1/);
    expect(text).toContain('ENOSPC');
    expect(text).not.toContain('ENOSPC: ENOSPC'); // the code is said once
    const healed = await p.build();
    expect(healed.code, healed.stdout + healed.stderr).toBe(0);
    expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
  });

  it('one failed lockfile write does not stop later lockfile writes of the same run', async () => {
    project = await moneyProject({ storyboard: STORYBOARD, maxInFlight: 1 });
    const p = project;
    const faulty = await p.build([], { env: { SORA_BUILD_TEST_FAULTS: 'eio:lockfile:1' } });
    expect(faulty.code, faulty.stdout + faulty.stderr).toBe(1);
    expect(faulty.stdout + faulty.stderr).toContain('EIO');
    const lock = await p.read('storyboard.lock');
    expect(lock).toContain('  s1:');
    expect(lock).toContain('  s2:');
    await recovers(p);
  });

  it('an out/ that is a file is refused before any API call, naming it; once fixed, each shot is made once', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    await writeFile(join(p.dir, 'out'), 'not a folder\n');
    const faulty = await p.build();
    const text = faulty.stdout + faulty.stderr;
    expect(faulty.code, text).toBe(2);
    expect(text).toMatch(/"out" is not: it is a file/);
    expect(await p.videosPerPrompt()).toEqual({});
    await rm(join(p.dir, 'out'));
    await recovers(p);
  });

  it('EACCES placing files in out/: the error names the path and the code; once fixed, nothing is generated again', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    const faulty = await p.build([], { env: { SORA_BUILD_TEST_FAULTS: 'eacces:out' } });
    const text = faulty.stdout + faulty.stderr;
    expect(faulty.code, text).toBe(1);
    expect(text).toMatch(/out\/s[12]\.mp4/);
    expect(text).toContain('EACCES');
    await recovers(p);
  });

  it('a watch session survives a full disk and builds the failed shot on the next save', async () => {
    project = await moneyProject({ storyboard: STORYBOARD, maxInFlight: 1 });
    const p = project;
    watch = p.spawn(['watch', '--reporter', 'plain', '--debounce', '200'], {
      env: { SORA_BUILD_TEST_FAULTS: 'enospc:journal:1' },
    });
    let out = '';
    watch.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    watch.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const idleAfter = async (n: number): Promise<void> => {
      const start = Date.now();
      while (out.split('\nwatching ').length - 1 < n) {
        if (Date.now() - start > 60_000) throw new Error(`watch never idle after ${n}:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await idleAfter(1);
    expect(out).toContain('ENOSPC');
    await p.write('storyboard.yaml', `${STORYBOARD}# saved again\n`);
    await idleAfter(2);
    expect(out).toContain('failed 0');
    expect(watch.exitCode).toBeNull();
    watch.kill('SIGINT');
    p.results.push({ code: 0, signal: null, stdout: out, stderr: '' });
    expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
    expect(await p.integrityProblems()).toEqual([]);
    expect((await p.build()).stdout).toMatch(/built 0 · fresh 2 · cached 0 · failed 0/);
  });
});
