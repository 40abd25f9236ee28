/**
 * Issue 15: a pool of two emulators against one, on a 40-shot storyboard (ratio of makespans, target "nearly
 * halves": at most 0.6).
 *
 * 40 independent 4 s shots; each emulator (member) allows 4 creates a minute and 4 jobs in flight, and renders
 * 15 emulator seconds per second of video (a minute per job). Alone, one member's quota paces the build (40
 * creates at 4 a minute: about 10 minutes); the pool `both` of two such members has twice the quota. The CLI
 * and the emulators share a ScaledClock (`SORA_BUILD_CLOCK`). Makespan is on the emulator clock, from the
 * first create request to the last download request over both emulators' logs (process start-up is not
 * scheduling). Each run uses fresh emulators and a fresh project.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScaledClock } from '../src/core/clock.ts';
import { startEmulator } from '../src/emulator/server.ts';
import type { EmulatorHandle, RequestLogEntry } from '../src/emulator/server.ts';
import type { Row } from './lib.ts';
import { API_KEY, BIN, WORK, cliEnv, fmtSpread, log, runNode, spread, verdict } from './lib.ts';

const SHOTS = 40;
const CREATES_PER_MINUTE = 4;
const MAX_IN_FLIGHT = 4;
const RENDER_SECONDS_PER_SECOND = 15;

function manifestText(): string {
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 1280x720, seconds: 4 }', 'shots:'];
  for (let i = 0; i < SHOTS; i++) {
    const id = `shot${String(i).padStart(2, '0')}`;
    lines.push(`  ${id}:`, `    prompt: Shot ${id}, the mug on a wooden table.`);
  }
  return `${lines.join('\n')}\n`;
}

function configText(urls: readonly string[], provider: string): string {
  const quota = `{ creates_per_minute: ${CREATES_PER_MINUTE}, max_in_flight: ${MAX_IN_FLIGHT} }`;
  const lines = ['version: 1', `provider: ${provider}`, 'providers:'];
  urls.forEach((url, i) => {
    lines.push(
      `  member${i + 1}:`,
      '    type: openai',
      `    base_url: ${url}/v1`,
      `    quota: ${quota}`,
      '    pricing: { sora-2: { usd_per_second: 0.1 } }',
    );
  });
  lines.push('  both:', '    type: pool', '    members: [member1, member2]', '');
  return lines.join('\n');
}

const isCreate = (r: RequestLogEntry): boolean =>
  r.method === 'POST' && /\/videos$/.test(r.path) && r.status < 300;
const isDownload = (r: RequestLogEntry): boolean =>
  r.method === 'GET' && /\/videos\/[^/]+\/content$/.test(r.path) && r.status < 300;

async function runOnce(
  name: string,
  speed: number,
  provider: 'member1' | 'both',
): Promise<{ makespanMs: number; perMember: number[] }> {
  const epoch = Date.now();
  const clock = new ScaledClock({ speed, epoch });
  const emulators: EmulatorHandle[] = await Promise.all(
    [1, 2].map((seed) =>
      startEmulator({
        clock,
        apiKeys: [API_KEY],
        createsPerMinute: CREATES_PER_MINUTE,
        renderSecondsPerSecond: RENDER_SECONDS_PER_SECOND,
        seed,
        renderOnCreate: true,
        renderFps: 1,
      }),
    ),
  );
  try {
    const dir = path.join(WORK, `pool-${name}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'sora.config.yaml'),
      configText(
        emulators.map((e) => e.url),
        provider,
      ),
    );
    await writeFile(path.join(dir, 'storyboard.yaml'), manifestText());
    const env = cliEnv({ OPENAI_API_KEY: API_KEY, SORA_BUILD_CLOCK: `scaled:${speed}:${epoch}` });
    const r = await runNode([BIN, 'build', '--yes'], { cwd: dir, env, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`pool build (${name}) failed (${r.code}): ${r.stderr.slice(-2000)}`);
    const logs = emulators.map((e) => e.requestLog());
    const all = logs.flat();
    const first = Math.min(...all.filter(isCreate).map((e) => e.time));
    const last = Math.max(...all.filter(isDownload).map((e) => e.time));
    return { makespanMs: last - first, perMember: logs.map((l) => l.filter(isCreate).length) };
  } finally {
    await Promise.all(emulators.map((e) => e.close()));
  }
}

export async function poolMakespan(options: { speed: number; runs: number }): Promise<Row[]> {
  const single: number[] = [];
  const pooled: number[] = [];
  const ratios: number[] = [];
  const spreadOver: number[][] = [];
  for (let i = 0; i < options.runs; i++) {
    const one = await runOnce(`single-${i}`, options.speed, 'member1');
    const two = await runOnce(`pool-${i}`, options.speed, 'both');
    single.push(one.makespanMs / 60_000);
    pooled.push(two.makespanMs / 60_000);
    ratios.push(two.makespanMs / one.makespanMs);
    spreadOver.push(two.perMember);
    log(
      `pool run ${i + 1}: one member ${(one.makespanMs / 60_000).toFixed(1)} min, pool of two ${(two.makespanMs / 60_000).toFixed(1)} min (creates per member ${two.perMember.join('/')})`,
    );
  }
  const ratio = spread(ratios);
  return [
    {
      metric: `pool: makespan of ${SHOTS} shots, one member (${CREATES_PER_MINUTE}/min, ${MAX_IN_FLIGHT} in flight)`,
      value: fmtSpread(spread(single), ' min', 1),
      target: '',
      verdict: 'info',
    },
    {
      metric: `pool: makespan of ${SHOTS} shots, pool of two such members`,
      value: fmtSpread(spread(pooled), ' min', 1),
      target: '',
      verdict: 'info',
      data: { createsPerMember: spreadOver },
    },
    {
      metric: 'pool: makespan ratio, pool of two / one member',
      value: fmtSpread(ratio, '', 2),
      target: '<= 0.6',
      verdict: verdict(ratio.median <= 0.6),
      data: { ratios },
    },
  ];
}
