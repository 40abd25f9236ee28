/**
 * `sora-build plan` end to end on a copy of examples/launch: the real command line in-process (and once as a
 * real process), the real loader, lockfile, store and action cache; exact output asserted.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { runCli, withTempDir } from '../commands/cli-harness.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import { serializeLockfile, writeLockfile } from '../../src/cache/lockfile.ts';
import { Store } from '../../src/cache/store.ts';
import type { LockEntry } from '../../src/cache/types.ts';
import type { ShotId } from '../../src/core/brand.ts';
import { asVideoId } from '../../src/core/brand.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';
import { lockEntryFor } from '../../src/plan/lock-entry-for.ts';
import type { PlanJson } from '../../src/plan/plan-json.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const schema = JSON.parse(await readFile(path.join(repo, 'schemas/plan.schema.json'), 'utf8')) as object;
const validatePlan = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

async function launchProject(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'refs'));
  await copyFile(path.join(repo, 'examples/launch/storyboard.yaml'), path.join(dir, 'storyboard.yaml'));
  await copyFile(path.join(repo, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png'));
  await copyFile(path.join(repo, 'sora.config.yaml'), path.join(dir, 'sora.config.yaml'));
}

/** What a successful build leaves behind, without generating: fake videos in the store, samples, a lockfile. */
async function pinAll(dir: string): Promise<void> {
  const loaded = await loadProject({ cwd: dir, env: {} });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const { config, manifest } = loaded;
  const store = Store.open(config.cacheDir);
  for (let round = 0; round < 10; round++) {
    const computed = await computePlan({ config, manifest });
    if (!computed.ok) throw new Error(JSON.stringify(computed.error));
    const todo = computed.value.plan.shots.filter((s) => s.state !== 'fresh' && s.state !== 'blocked');
    if (todo.length === 0) return;
    const shots = new Map<ShotId, LockEntry>(computed.value.lockfile.shots);
    const actionCache = ActionCache.open(config.cacheDir);
    for (const s of todo) {
      let sample = s.cachedSample;
      if (sample === null) {
        const ingested = await store.ingest(Readable.from([Buffer.from(`video of ${s.id}, key ${s.key}`)]));
        if (!ingested.ok) throw new Error('ingest failed');
        sample = {
          output: ingested.value.digest,
          bytes: ingested.value.bytes,
          videoId: asVideoId(`video_${s.id}`),
          provider: config.provider.name,
          createdAt: 1_700_000_000_000,
          expiresAt: null,
          costUsd: 0,
          assets: {},
        };
        await actionCache.addSample(s.key!, sample);
      }
      shots.set(s.id, lockEntryFor(s.id, s.keyData!, sample));
    }
    await writeLockfile(manifest.lockfilePath, { version: 1, shots });
  }
  throw new Error('pinAll did not converge');
}

const TABLE_NEW = [
  'SHOT            STATE    EST. COST  WHY',
  'harbor          missing      $0.00  not built yet',
  'mug             missing      $0.00  not built yet',
  'mug-teal        blocked      $0.00  will be built after mug',
  'mug-teal-night  blocked      $0.00  will be built after mug-teal',
  'teaser          missing      $0.00  not built yet',
  '',
  '5 shots: 5 to generate (3 missing, 2 blocked), 0 fresh',
  'Estimated cost: $0.00 (the emulator is free)',
  // Emulator: 6 s of rendering per second of video, 2 creates a minute; the remix chain is the critical path.
  'Estimated wall time: 2m 24s for 28 s of video (emulator: 2 creates/min, 4 in flight)',
  '',
].join('\n');

describe('sora-build plan', () => {
  it('prints the table and summary for a never-built storyboard', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      const r = await runCli(['plan'], { cwd: dir });
      expect(r).toEqual({ code: 0, stdout: TABLE_NEW, stderr: '' });
      // The resized reference is cached for the next plan; no lockfile, store or action cache is written.
      const refs = await readdir(path.join(dir, '.sora-build/refs'));
      expect(refs).toEqual([expect.stringMatching(/^[0-9a-f]{64}-1280x720-cover\.png$/)]);
      const cacheDir = await readdir(path.join(dir, '.sora-build'));
      expect(cacheDir.filter((f) => ['cas', 'ac', 'journal'].includes(f))).toEqual([]);
      expect(await readdir(dir)).not.toContain('storyboard.lock');
    });
  });

  it('prints one JSON document valid against schemas/plan.schema.json, priced by the chosen provider', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      const r = await runCli(['plan', 'storyboard.yaml', '--json', '--provider', 'azure'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const doc = JSON.parse(r.stdout) as PlanJson;
      expect(validatePlan(doc), JSON.stringify(validatePlan.errors)).toBe(true);
      expect(doc.manifest).toBe('storyboard.yaml');
      expect(doc.lockfile).toBe('storyboard.lock');
      expect(doc.provider).toEqual({
        name: 'azure',
        type: 'openai',
        family: 'openai-videos',
        quota: { creates_per_minute: 2, max_in_flight: 4 },
      });
      expect(doc.shots.map((s) => [s.id, s.state, s.blocked_by, s.estimated_cost_usd])).toEqual([
        ['harbor', 'missing', null, 0.8],
        ['mug', 'missing', null, 0.4],
        ['mug-teal', 'blocked', 'mug', 0.4],
        ['mug-teal-night', 'blocked', 'mug-teal', 0.4],
        ['teaser', 'missing', null, 0.8],
      ]);
      expect(doc.shots[0]!.key).toMatch(/^[0-9a-f]{64}$/);
      expect(doc.shots[2]!.key).toBeNull();
      expect(doc.totals).toEqual({
        shots: 5,
        to_generate: 5,
        fresh: 0,
        cached: 0,
        missing: 3,
        stale: 0,
        blocked: 2,
        video_seconds: 28,
        estimated_cost_usd: 2.8,
        known_cost_usd: 2.8,
        unknown_price_shots: 0,
        unpriced_models: [],
        // 15 s/s + 20 s per shot; creates at 0, 0 (mug, harbor), 60 (teaser), 80 (mug-teal), 160 (night).
        estimated_wall_time_ms: 240_000,
      });
    });
  });

  it('shows an unknown price as unknown, never $0', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      const manifest = path.join(dir, 'storyboard.yaml');
      await writeFile(
        manifest,
        (await readFile(manifest, 'utf8')).replace('  teaser:\n', '  teaser:\n    model: sora-2-pro\n'),
      );
      const r = await runCli(['plan', '--provider', 'azure', '--shot', 'teaser', '--shot', 'harbor'], {
        cwd: dir,
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          'SHOT    STATE    EST. COST  WHY',
          'harbor  missing      $0.80  not built yet',
          'teaser  missing    unknown  not built yet',
          '',
          '2 shots: 2 to generate (2 missing), 0 fresh',
          'Estimated cost: unknown: $0.80 known, plus 1 shot at an unknown price (no pricing for sora-2-pro in provider azure)',
          'Estimated wall time: 2m 20s for 16 s of video (azure: 2 creates/min, 4 in flight)',
          '',
        ].join('\n'),
      );
      const j = await runCli(['plan', '--provider', 'azure', '--json'], { cwd: dir });
      const doc = JSON.parse(j.stdout) as PlanJson;
      expect(validatePlan(doc)).toBe(true);
      expect(doc.shots.find((s) => s.id === 'teaser')!.estimated_cost_usd).toBeNull();
      expect([doc.totals.estimated_cost_usd, doc.totals.known_cost_usd, doc.totals.unpriced_models]).toEqual([
        null,
        2,
        ['sora-2-pro'],
      ]);
    });
  });

  it('finds a built storyboard fresh, then names what an edit changed', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      await pinAll(dir);
      const lockBytes = await readFile(path.join(dir, 'storyboard.lock'), 'utf8');
      expect(lockBytes.startsWith('# Generated by sora-build.')).toBe(true);
      const fresh = await runCli(['plan'], { cwd: dir });
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toBe(
        [
          'SHOT            STATE  EST. COST  WHY',
          'harbor          fresh          -  up to date',
          'mug             fresh          -  up to date',
          'mug-teal        fresh          -  up to date',
          'mug-teal-night  fresh          -  up to date',
          'teaser          fresh          -  up to date',
          '',
          '5 shots: 0 to generate, 5 fresh',
          'Estimated cost: $0.00 (the emulator is free)',
          'Estimated wall time: nothing to generate',
          '',
        ].join('\n'),
      );
      // plan never writes the lockfile.
      expect(await readFile(path.join(dir, 'storyboard.lock'), 'utf8')).toBe(lockBytes);

      const manifest = path.join(dir, 'storyboard.yaml');
      const original = await readFile(manifest, 'utf8');
      await writeFile(
        manifest,
        original.replace('steam rising', 'steam curling').replace('seconds: 4\n', 'seconds: 8\n'),
      );
      const edited = await runCli(['plan'], { cwd: dir });
      expect(edited.stdout.split('\n').slice(1, 6)).toEqual([
        'harbor          fresh            -  up to date',
        'mug             stale        $0.00  prompt changed, seconds changed',
        'mug-teal        blocked      $0.00  will be built after mug (also: seconds changed)',
        'mug-teal-night  blocked      $0.00  will be built after mug-teal (also: seconds changed)',
        'teaser          fresh            -  up to date',
      ]);
      const json = JSON.parse((await runCli(['plan', '--json'], { cwd: dir })).stdout) as PlanJson;
      expect(json.shots[2]!.reasons).toEqual([
        { code: 'seconds-changed', message: 'seconds changed' },
        { code: 'parent-rebuilt', message: 'parent will be rebuilt' },
      ]);

      // A provider change invalidates every key (placeholder videos never satisfy a real build).
      await writeFile(manifest, original);
      const azure = await runCli(['plan', '--provider', 'azure'], { cwd: dir });
      expect(azure.stdout.split('\n')[1]).toBe('harbor          stale        $0.80  provider changed');
      expect((await runCli(['plan'], { cwd: dir })).stdout).toContain('5 shots: 0 to generate, 5 fresh');
    });
  });

  it('reports a cycle with every edge and exits 2', async () => {
    await withTempDir(async (dir) => {
      await writeFile(
        path.join(dir, 'storyboard.yaml'),
        'version: 1\nshots:\n  a:\n    remix_of: b\n    prompt: one\n  b:\n    remix_of: a\n    prompt: two\n',
      );
      const r = await runCli(['plan'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        [
          'storyboard.yaml:4:15: error: cycle: a -> b -> a',
          '    remix_of: b',
          '              ~',
          'storyboard.yaml:4:15: note: a remix_of b',
          '    remix_of: b',
          '              ~',
          'storyboard.yaml:7:15: note: b remix_of a',
          '    remix_of: a',
          '              ~',
          '',
        ].join('\n'),
      );
    });
  });

  it('exits 2 on an invalid manifest, a bad lockfile, an unknown --shot or a bad option', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      const manifest = path.join(dir, 'storyboard.yaml');
      const original = await readFile(manifest, 'utf8');
      await writeFile(manifest, original.replace('seconds: 4', 'seconds: 5'));
      const invalid = await runCli(['plan'], { cwd: dir });
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toMatch(/^storyboard\.yaml:\d+:\d+: error: /);
      await writeFile(manifest, original);

      await writeFile(path.join(dir, 'storyboard.lock'), 'version: 1\nshots:\n  harbor: 3\n');
      const lock = await runCli(['plan'], { cwd: dir });
      expect(lock.code).toBe(2);
      expect(lock.stderr).toContain(
        'storyboard.lock:3:11: error: Expected the entry of shot `harbor` to be a mapping.\n',
      );
      await writeFile(path.join(dir, 'storyboard.lock'), serializeLockfile({ version: 1, shots: new Map() }));

      const shot = await runCli(['plan', '--shot', 'mug-tael'], { cwd: dir });
      expect(shot).toEqual({
        code: 2,
        stdout: '',
        stderr:
          "sora-build plan: unknown shot 'mug-tael' (did you mean 'mug-teal'?)\n" +
          'valid shots: harbor, mug, mug-teal, mug-teal-night, teaser\n',
      });
      const option = await runCli(['plan', '--jsn'], { cwd: dir });
      expect(option.code).toBe(2);
      expect(option.stderr).toMatch(/^sora-build plan: Unknown option '--jsn'/);
    });
  });

  it('runs as a real process: no network, one JSON document on stdout', async () => {
    await withTempDir(async (dir) => {
      await launchProject(dir);
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [path.join(repo, 'bin/sora-build.js'), 'plan', 'storyboard.yaml', '--json'],
        { cwd: dir, env: { PATH: process.env['PATH'] ?? '' } },
      );
      expect(stderr).toBe('');
      const doc = JSON.parse(stdout) as PlanJson;
      expect(validatePlan(doc)).toBe(true);
      expect(doc.totals.to_generate).toBe(5);
    });
  });
});
