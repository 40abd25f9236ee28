/**
 * The config memo (src/config/config-memo.ts): an unchanged config is read from the memo, exactly as the
 * parser read it; any input that changed is a miss; a config with problems, or with its cache elsewhere, is
 * never memoised; and an unchanged project does not load the YAML parser at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ConfigLoad } from '../../src/config/load-config.ts';

const CONFIG = `version: 1
provider: cloud
out_dir: renders
providers:
  cloud:
    type: openai
    base_url: https://example.invalid/v1
    deployments: { sora-2: my-sora }
    quota: { creates_per_minute: 4, max_in_flight: 3 }
    pricing:
      sora-2: { usd_per_second: 0.1 }
  local:
    type: emulator
    render_seconds_per_second: 2
  veo:
    type: vertex-veo
    project: demo-project
    location: europe-west4
    base_url: http://127.0.0.1:9/
`;

let dir: string;
let memo: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-config-memo-'));
  memo = path.join(dir, '.sora-build', 'config-memo.json');
  await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (provider?: string): Promise<ConfigLoad> => loadConfig({ cwd: dir, startDir: dir, provider });

/** Everything a caller sees, with locations as (file, offset, length) so the two readings compare. */
function view(l: ConfigLoad): unknown {
  const c = l.config;
  return {
    root: l.root,
    rootDescription: l.rootDescription,
    providerType: l.providerType,
    manifest: l.manifest,
    diagnostics: l.diagnostics,
    config: c && {
      ...c,
      provider: c.provider.name,
      providers: [...c.providers.values()].map((p) => ({
        ...p,
        location: [p.location.file.path, p.location.range.offset, p.location.range.length],
      })),
    },
  };
}

it('gives back from the memo exactly what the parser read', async () => {
  const first = await load();
  expect(first.diagnostics).toEqual([]);
  const written = await stat(memo);
  const second = await load();
  expect(view(second)).toEqual(view(first));
  expect(second.config?.provider.location.file.contents).toBe(CONFIG);
  expect(second.config?.provider.baseUrl).toBe('https://example.invalid/v1');
  expect(second.config?.providers.get('local')?.renderSecondsPerSecond).toBe(2);
  expect(second.config?.providers.get('veo')).toMatchObject({
    type: 'vertex-veo',
    baseUrl: 'http://127.0.0.1:9/',
    vertex: { project: 'demo-project', location: 'europe-west4' },
    // The type's own default quota (config-schema.ts defaultQuota).
    quota: { createsPerMinute: 10, maxInFlight: 4 },
  });
  expect(second.config?.providers.get('emulator')?.location.file.path).toBe('<built-in defaults>');
  // A hit does not rewrite the memo.
  expect((await stat(memo)).mtimeMs).toBe(written.mtimeMs);
  // The memo holds what it says: no secret can be in it, because the config has none, but no text of the
  // file either beyond its digest.
  expect(await readFile(memo, 'utf8')).not.toContain('version: 1');
});

it('misses when the config, --provider or the current folder changes', async () => {
  expect((await load()).config?.provider.name).toBe('cloud');
  expect((await load('local')).config?.provider.name).toBe('local');
  expect((await load()).config?.provider.name).toBe('cloud');
  await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG.replace('out_dir: renders', 'out_dir: clips'));
  expect((await load()).config?.outDir).toBe(path.join(dir, 'clips'));
  const sub = path.join(dir, 'sub');
  const fromSub = await loadConfig({ cwd: sub, startDir: dir });
  expect(fromSub.config?.manifest).toBe(path.join(sub, 'storyboard.yaml'));
  expect((await load()).config?.manifest).toBe(path.join(dir, 'storyboard.yaml'));
});

it('never memoises a config with problems, and reports them again', async () => {
  await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG.replace('provider: cloud', 'provider: clod'));
  for (let i = 0; i < 2; i++) {
    const l = await load();
    expect(l.config).toBeUndefined();
    expect(l.diagnostics.map((d) => d.message).join('\n')).toContain('did you mean cloud?');
  }
  await expect(stat(memo)).rejects.toThrow();
});

it('does not memoise a config whose cache folder is elsewhere', async () => {
  await writeFile(path.join(dir, 'sora.config.yaml'), `${CONFIG}cache_dir: elsewhere\n`);
  expect((await load()).config?.cacheDir).toBe(path.join(dir, 'elsewhere'));
  expect((await load()).config?.cacheDir).toBe(path.join(dir, 'elsewhere'));
  await expect(stat(memo)).rejects.toThrow();
});

it('treats an unreadable or foreign memo as a miss', async () => {
  await load();
  await writeFile(memo, '{ not json');
  expect(view(await load())).toEqual(view(await load()));
  await writeFile(memo, JSON.stringify({ format: 1, key: 'x', providers: 7 }));
  expect((await load()).config?.provider.name).toBe('cloud');
});

it('an unchanged project does not load the YAML parser (a no-op `plan` in a real process)', async () => {
  await writeFile(path.join(dir, 'sora.config.yaml'), 'version: 1\nprovider: emulator\n');
  await writeFile(
    path.join(dir, 'storyboard.yaml'),
    'version: 1\nshots:\n  a:\n    prompt: A harbor at dawn.\n',
  );
  const bin = fileURLToPath(new URL('../../bin/sora-build.js', import.meta.url));
  const run = () =>
    spawnSync(process.execPath, [bin, 'plan'], {
      cwd: dir,
      env: { ...process.env, NODE_DEBUG: 'module' },
      encoding: 'utf8',
    });
  const first = run();
  expect(first.status).toBe(0);
  expect(first.stderr).toMatch(/node_modules\/yaml\//);
  const second = run();
  expect(second.status).toBe(0);
  expect(second.stdout).toContain('a');
  expect(second.stderr).not.toMatch(/node_modules\/yaml\//);
});
