/**
 * The team cache end to end: the real CLI on two "machines" (two project folders, each with its own local
 * store) sharing one provider (the emulator) and one remote cache (Azurite, started by the test). Asserts on
 * exit codes, the emulator's request log (what was paid for), files, and that no secret is printed or
 * written anywhere.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRequests, makeProject } from './harness.ts';
import type { CliResult, Project } from './harness.ts';
import { AZURITE_ACCOUNT_KEY, startAzurite } from '../support/azurite.ts';
import type { Azurite } from '../support/azurite.ts';

const STORYBOARD = `version: 1
defaults:
  model: sora-2
  size: 1280x720
  seconds: 4
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn.
  mug:
    prompt: Slow dolly-in on a mug on a wooden table, steam rising.
  mug-teal:
    remix_of: mug
    prompt: Shift the palette to teal, sand and rust.
  teaser:
    size: 720x1280
    prompt: Vertical teaser, a mug spinning slowly on a turntable.
`;
const CACHE_KEY = 'sora-build-team-key-3f9a1c77e0b24d5e';

vi.setConfig({ testTimeout: 120_000 });

let azurite: Azurite;
let containers = 0;
const projects: Project[] = [];
beforeAll(async () => {
  azurite = await startAzurite();
}, 30_000);
afterAll(async () => {
  await azurite.close();
});
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.close()));
});

/**
 * Machine A, and machine B sharing A's provider (the same emulator, the same clock) and remote cache, with
 * its own empty local store.
 */
async function twoMachines(): Promise<{ a: Project; b: Project; container: string; run: Run }> {
  const container = `e2e${process.pid}n${containers++}`;
  await azurite.container(container).create();
  // A quota that never holds a create back: these tests are about who creates, not when.
  const options = { emulator: { createsPerMinute: 60 }, quota: { createsPerMinute: 60, maxInFlight: 8 } };
  const a = await makeProject(options);
  const b = await makeProject(options);
  projects.push(a, b);
  const config = `${(await a.read('sora.config.yaml')).trimEnd()}\ncache:\n  remote:\n    type: azure-blob\n    container: ${container}\n`;
  for (const p of [a, b]) {
    await p.write('sora.config.yaml', config);
    await p.write('storyboard.yaml', STORYBOARD);
  }
  const run: Run = (p, args) =>
    p.run(['build', '--reporter', 'plain', ...args], {
      env: {
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        SORA_BUILD_CACHE_KEY: CACHE_KEY,
        // B talks to A's emulator, so both run on its clock.
        SORA_BUILD_CLOCK: a.clockSpec,
      },
    });
  return { a, b, container, run };
}
type Run = (p: Project, args: readonly string[]) => Promise<CliResult>;

/** Paid requests (create, remix) the emulator answered. */
const paid = (p: Project) => createRequests(p.emulator).filter((r) => r.status === 200);

function lockField(lock: string, shot: string, field: string): string {
  const entry = lock.split(`\n  ${shot}:\n`)[1]!.split('\n\n')[0]!;
  return new RegExp(`${field}: "([0-9a-f]{64})"`).exec(entry)![1]!;
}

async function expectNoSecrets(results: readonly CliResult[], dirs: readonly Project[]): Promise<void> {
  const secrets = [CACHE_KEY, AZURITE_ACCOUNT_KEY, azurite.connectionString];
  for (const r of results) for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
  for (const p of dirs) {
    for (const file of await p.files()) {
      const bytes = await readFile(join(p.dir, file));
      for (const s of secrets) expect(bytes.includes(s), `${file} holds a secret`).toBe(false);
    }
  }
}

describe('the remote cache', () => {
  it('lets machine B build what A built with zero creates, a fresh CI runner restore the lockfile without touching the provider, and ignores poisoned entries and objects with a warning each', async () => {
    const { a, b, container, run } = await twoMachines();
    const first = await run(a, ['--remote-cache=readwrite']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(paid(a)).toHaveLength(4);

    a.emulator.clearLog();
    const second = await run(b, ['--remote-cache=read']);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/built 0 · fresh 0 · cached 4 · failed 0 · blocked 0/);
    expect(createRequests(a.emulator)).toEqual([]);
    for (const file of ['out/harbor.mp4', 'out/mug-teal.mp4', 'out/teaser.mp4']) {
      expect((await readFile(join(b.dir, file))).equals(await readFile(join(a.dir, file)))).toBe(true);
    }
    expect(await b.read('storyboard.lock')).toBe(await a.read('storyboard.lock'));

    // A CI runner: the committed lockfile, nothing local. Restored by digest from the remote cache: not a
    // single request to the provider, not even a download.
    await rm(join(b.dir, '.sora-build'), { recursive: true });
    await rm(join(b.dir, 'out'), { recursive: true });
    a.emulator.clearLog();
    const ci = await run(b, ['--frozen']);
    expect(ci.stderr).toBe('');
    expect(ci.code).toBe(0);
    expect(a.emulator.requestLog()).toEqual([]);
    expect(
      (await readFile(join(b.dir, 'out/teaser.mp4'))).equals(await readFile(join(a.dir, 'out/teaser.mp4'))),
    ).toBe(true);

    // Poisoned: harbor's entry rewritten by someone without the key, teaser's video replaced under its
    // digest. Each is ignored with a warning, and B generates those two shots itself.
    const lock = await a.read('storyboard.lock');
    const blobs = azurite.container(container);
    const entryBlob = blobs.getBlockBlobClient(`keys/${lockField(lock, 'harbor', 'key')}.json`);
    const entry = JSON.parse((await entryBlob.downloadToBuffer()).toString()) as { signature: string };
    const forged = JSON.stringify({ ...entry, signature: '0'.repeat(64) });
    await entryBlob.upload(forged, forged.length);
    const teaser = await readFile(join(a.dir, 'out/harbor.mp4'));
    await blobs
      .getBlockBlobClient(`objects/sha256/${lockField(lock, 'teaser', 'output')}`)
      .upload(teaser, teaser.length);

    await rm(join(b.dir, '.sora-build'), { recursive: true });
    await rm(join(b.dir, 'out'), { recursive: true });
    await rm(join(b.dir, 'storyboard.lock'));
    a.emulator.clearLog();
    const poisoned = await run(b, ['--remote-cache=read']);
    expect(poisoned.code).toBe(0);
    expect(poisoned.stdout).toMatch(/built 2 · fresh 0 · cached 2 · failed 0 · blocked 0/);
    expect(paid(a)).toHaveLength(2);
    // (in either order: the two shots are looked up concurrently; sorted, "entry" comes before "object")
    const warnings = poisoned.stderr.split('\n').filter((l) => l.includes('warning:'));
    expect(warnings.sort()).toEqual([
      expect.stringMatching(
        /^sora\.config\.yaml:\d+:\d+: warning: remote cache entry for harbor ignored: its signature does not match SORA_BUILD_CACHE_KEY/,
      ),
      expect.stringMatching(
        /^sora\.config\.yaml:\d+:\d+: warning: remote cache object sha256:[0-9a-f]{12}… for teaser ignored: its bytes do not match its digest/,
      ),
    ]);
    expect(lockField(await b.read('storyboard.lock'), 'teaser', 'output')).not.toBe(
      lockField(lock, 'teaser', 'output'),
    );
    await expectNoSecrets([first, second, ci, poisoned], [a, b]);
  });

  it('makes two machines building one storyboard at the same time create each shot once in total', async () => {
    const { a, b, run } = await twoMachines();
    const [ra, rb] = await Promise.all([run(a, []), run(b, [])]);
    expect([ra.code, rb.code, ra.stderr, rb.stderr]).toEqual([0, 0, '', '']);
    const creates = paid(a);
    expect(creates.filter((r) => r.path === '/v1/videos')).toHaveLength(3);
    expect(creates.filter((r) => r.path.endsWith('/remix'))).toHaveLength(1);
    expect(await b.read('storyboard.lock')).toBe(await a.read('storyboard.lock'));
  });

  it('going down in the middle of a build leaves the build green, with one warning', async () => {
    const { a, run } = await twoMachines();
    const building = run(a, ['--remote-cache=readwrite']);
    // Stopped once the first create has gone out: every publish and lookup after that fails.
    while (paid(a).length === 0) await new Promise((r) => setTimeout(r, 20));
    await azurite.stop();
    const result = await building;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/built 4 · fresh 0 · cached 0 · failed 0 · blocked 0/);
    const warnings = result.stderr.split('\n').filter((l) => l !== '');
    expect(warnings).toEqual([
      expect.stringMatching(
        /^sora\.config\.yaml:\d+:\d+: warning: the remote cache failed while [a-z ]+ \(ECONNREFUSED\); building with the local store only$/,
      ),
    ]);
    await expectNoSecrets([result], [a]);
  });
});
