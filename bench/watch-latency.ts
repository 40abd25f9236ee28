/**
 * Benchmark 6, watch latency: `sora-build watch` (a real process) on a 3-shot storyboard against a
 * standalone emulator on the real clock (so its request log stamps are Date.now()), quota ample. After the
 * first build settles, each round edits one shot's prompt and measures from the moment the save returned to
 * the moment the create request reached the emulator; then waits for that job's download so rounds do not
 * overlap. Includes watch's debounce (150 ms by default), reload, replan and the engine's create path.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestLogEntry } from '../src/emulator/server.ts';
import { startEmulator } from '../src/emulator/server.ts';
import type { Row } from './lib.ts';
import { API_KEY, BIN, WORK, cliEnv, emulatorConfig, fmtSpread, log, spread, verdict } from './lib.ts';

const storyboard = (round: number): string =>
  [
    'version: 1',
    'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
    'shots:',
    '  a:',
    `    prompt: The mug on a table, take ${round}.`,
    '  b:',
    '    prompt: The mug in the rain.',
    '  c:',
    '    prompt: The mug at night.',
    '',
  ].join('\n');

const isCreate = (r: RequestLogEntry): boolean => r.method === 'POST' && r.path === '/v1/videos';
const isDownload = (r: RequestLogEntry): boolean => r.method === 'GET' && r.path.endsWith('/content');

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`watch latency: timed out waiting for ${what}`);
    await sleep(2);
  }
}

export async function watchLatency(options: { rounds: number }): Promise<Row[]> {
  const emulator = await startEmulator({
    apiKeys: [API_KEY],
    createsPerMinute: 1000,
    renderSecondsPerSecond: 0.25,
    renderOnCreate: true,
    renderFps: 1,
  });
  const dir = path.join(WORK, 'watch-latency');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'sora.config.yaml'),
    emulatorConfig(emulator.url, { createsPerMinute: 1000, maxInFlight: 20 }),
  );
  const manifest = path.join(dir, 'storyboard.yaml');
  await writeFile(manifest, storyboard(0));
  const child = spawn(process.execPath, [BIN, 'watch'], {
    cwd: dir,
    env: cliEnv({ OPENAI_API_KEY: API_KEY }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const latencies: number[] = [];
  try {
    const entries = (): readonly RequestLogEntry[] => emulator.requestLog();
    await until('the first build', () => entries().filter(isDownload).length >= 3);
    await sleep(1000);
    for (let round = 1; round <= options.rounds; round++) {
      const creates = entries().filter(isCreate).length;
      const downloads = entries().filter(isDownload).length;
      await writeFile(manifest, storyboard(round));
      const saved = Date.now();
      await until(`the create of round ${round}`, () => entries().filter(isCreate).length > creates);
      const create = entries().filter(isCreate)[creates]!;
      latencies.push(create.time - saved);
      await until(`the download of round ${round}`, () => entries().filter(isDownload).length > downloads);
      // Let the iteration finish and the watcher settle before the next save.
      await sleep(700);
    }
  } catch (error) {
    log(`watch output:\n${output.slice(-3000)}`);
    throw error;
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('close', resolve));
    await emulator.close();
  }
  const s = spread(latencies);
  return [
    {
      metric: '6. watch: prompt saved -> create at the emulator',
      value: fmtSpread(s, ' ms', 0),
      target: '< 300 ms median',
      verdict: verdict(s.median < 300),
      data: { latencyMs: s, all: latencies },
    },
  ];
}
