/**
 * Memory check of watch mode: 200 watch iterations on a 100-shot manifest, in one process, with the embedded
 * emulator on a scaled clock. Does the long-lived state (the engine, its job and failure maps, the watch
 * session, chokidar) grow with the number of iterations?
 *
 * Each iteration is a real save of storyboard.yaml seen by chokidar, then the real `sora-build watch` code
 * path (reload, plan 100 shots, build, lockfile, out/). Most saves flip one shot between two prompts whose
 * samples are already in the action cache (a re-pin: the common "undo" case, and no rendering); every 20th
 * save gives a shot a brand-new prompt, which the embedded emulator generates (a real job, poll, download).
 *
 * Run: npx node --expose-gc bench/watch-memory.ts [--iterations 200] [--bound-mb 12]
 * Prints the heap after warm-up and at the end (after forced GCs) and exits 1 when the growth is above the
 * bound.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/main.ts';
import { makeRedactor } from '../src/cli/context.ts';
import type { CliContext } from '../src/cli/context.ts';
import { loadProject } from '../src/manifest/load-project.ts';
import { computePlan } from '../src/plan/compute-plan.ts';
import { lockEntryFor } from '../src/plan/lock-entry-for.ts';
import { Store } from '../src/cache/store.ts';
import { ActionCache } from '../src/cache/action-cache.ts';
import { writeLockfile } from '../src/cache/lockfile.ts';
import type { LockEntry } from '../src/cache/types.ts';
import type { ShotId } from '../src/core/brand.ts';
import { asVideoId } from '../src/core/brand.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string' }, 'bound-mb': { type: 'string' }, shots: { type: 'string' } },
});
const ITERATIONS = Number(values.iterations ?? 200);
const SHOTS = Number(values.shots ?? 100);
const BOUND_MB = Number(values['bound-mb'] ?? 12);
const WARMUP = 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with --expose-gc: npx node --expose-gc bench/watch-memory.ts');
  process.exit(2);
}

const id = (i: number): string => `shot-${String(i).padStart(3, '0')}`;
/** Per shot: which prompt it has now ('A', 'B' or a fresh one). */
const prompts: string[] = Array.from({ length: SHOTS }, (_, i) => `Shot ${i}, variant A: a harbor at dawn.`);
const manifestText = (): string =>
  [
    'version: 1',
    'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
    'shots:',
    ...prompts.map((p, i) => `  ${id(i)}:\n    prompt: ${JSON.stringify(p)}`),
    '',
  ].join('\n');

const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-watch-memory-'));
const manifestPath = path.join(dir, 'storyboard.yaml');
const env = { SORA_BUILD_CLOCK: 'scaled:5000', NO_COLOR: '1' };
await writeFile(
  path.join(dir, 'sora.config.yaml'),
  'version: 1\nprovider: emulator\nproviders:\n  emulator:\n    type: emulator\n    quota: { creates_per_minute: 1000, max_in_flight: 8 }\n',
);

// Seed: samples for variant A (pinned) and B of every shot, as earlier builds would have left them.
async function seed(): Promise<void> {
  const store = Store.open(path.join(dir, '.sora-build'));
  const ac = ActionCache.open(path.join(dir, '.sora-build'));
  const lock = new Map<ShotId, LockEntry>();
  for (const variant of ['B', 'A']) {
    for (let i = 0; i < SHOTS; i++) prompts[i] = `Shot ${i}, variant ${variant}: a harbor at dawn.`;
    await writeFile(manifestPath, manifestText());
    const loaded = await loadProject({ cwd: dir, env });
    if (!loaded.ok) throw new Error('seed manifest invalid');
    const planned = await computePlan({ config: loaded.config, manifest: loaded.manifest });
    if (!planned.ok) throw new Error('seed plan failed');
    for (const s of planned.value.plan.shots) {
      const got = await store.ingest(Readable.from([Buffer.from(`placeholder ${s.id} ${variant}`)]));
      if (!got.ok) throw new Error('seed ingest failed');
      const sample = {
        output: got.value.digest,
        bytes: got.value.bytes,
        videoId: asVideoId(`video_seed_${s.id}_${variant}`),
        provider: 'emulator',
        createdAt: Date.now(),
        expiresAt: null,
        costUsd: 0,
        assets: {},
      };
      await ac.addSample(s.key!, sample);
      lock.set(s.id, lockEntryFor(s.id, s.keyData!, sample));
    }
  }
  await writeLockfile(path.join(dir, 'storyboard.lock'), { version: 1, shots: lock });
}
await seed();

// The watch command in-process, its output counted rather than kept (keeping it would be the leak).
const stdout = new PassThrough();
const stderr = new PassThrough();
let idle = 0;
let generated = 0;
let errors = '';
let started = 0;
let tail = '';
stdout.on('data', (c: Buffer) => {
  const text = c.toString('utf8');
  tail = (tail + text).slice(-3000);
  started += text.split('── iteration ').length - 1;
  idle += text.split('\nwatching ').length - 1 + (text.startsWith('watching ') ? 1 : 0);
  generated += text.split('] built out/').length - 1;
});
stderr.on('data', (c: Buffer) => (errors += c.toString('utf8')));
const controller = new AbortController();
const stdin = new PassThrough();
const ctx: CliContext = {
  cwd: dir,
  env,
  stdout,
  stderr,
  stdin,
  signal: controller.signal,
  redact: makeRedactor([]),
};
const exit = main(['watch', '--debounce', '20', '--reporter', 'plain'], ctx);

async function untilIdle(n: number): Promise<void> {
  const start = Date.now();
  while (idle < n) {
    if (Date.now() - start > 120_000)
      throw new Error(
        `iteration ${n} did not finish (${started} started); stdout ends with:\n${tail}\nstderr:\n${errors}`,
      );
    await new Promise((r) => setTimeout(r, 2));
  }
}

const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
};

await untilIdle(1);
let baseline = 0;
const startedAt = Date.now();
for (let i = 1; i < ITERATIONS; i++) {
  const shot = i % SHOTS;
  if (i % 20 === 0)
    prompts[shot] = `Shot ${shot}, take ${i}: a harbor in the rain.`; // a real generation
  else
    prompts[shot] = prompts[shot]!.includes('variant A')
      ? `Shot ${shot}, variant B: a harbor at dawn.`
      : `Shot ${shot}, variant A: a harbor at dawn.`;
  await writeFile(manifestPath, manifestText());
  await untilIdle(i + 1);
  if (i === WARMUP) baseline = heapMb();
}
const elapsed = Date.now() - startedAt;
const final = heapMb();
controller.abort(new Error('bench done'));
const code = await exit;
await rm(dir, { recursive: true, force: true });

const growth = final - baseline;
console.log(
  `watch-memory: ${ITERATIONS} iterations on ${SHOTS} shots (${generated} generated by the emulator, the rest re-pinned), ` +
    `${(elapsed / (ITERATIONS - 1)).toFixed(0)} ms per iteration`,
);
console.log(
  `heap after ${WARMUP} iterations ${baseline.toFixed(1)} MB, after ${ITERATIONS} ${final.toFixed(1)} MB: ` +
    `growth ${growth.toFixed(1)} MB (bound ${BOUND_MB} MB); watch exited ${code}`,
);
if (errors !== '') console.log(`stderr:\n${errors}`);
process.exitCode = growth > BOUND_MB || code !== 130 ? 1 : 0;
