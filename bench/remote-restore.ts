/**
 * Benchmark 7, the team cache (issue 15): a 100-shot storyboard built once by "machine A" into a remote cache
 * (Azurite, started here from the `azurite` devDependency), then built again on "machine B", a fresh folder
 * with an empty local store on the same machine, two ways:
 *
 * - restore: `build --remote-cache=read`: every shot comes from the remote cache (checked: 100 cached, 0
 *   built), its videos streamed and verified into the local store. Real seconds: the whole process.
 * - local-only rebuild: `build --remote-cache=off` in another fresh folder: every shot is generated again
 *   through the emulator (standalone, on loopback, rendering at create time at 1 fps, a generous quota of
 *   10,000 creates a minute and 50 in flight, on a clock 60 times faster than real). Real seconds of the whole
 *   process, and the emulated service time its build-finished event reports. On this machine both are
 *   mostly the emulator's own ffmpeg renders of the placeholder videos (CPU on the same two cores), so the
 *   rebuild's figure is what regenerating costs *here*; against a real service it is the render time (about
 *   a minute per shot, in parallel up to the quota) and the money: 100 x 8 s of sora-2.
 *
 * The ratio is rebuild time / restore time, both real, both medians.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScaledClock } from '../src/core/clock.ts';
import { startEmulator } from '../src/emulator/server.ts';
import type { Row } from './lib.ts';
import { API_KEY, BIN, WORK, cliEnv, fmtSpread, log, runNode, spread, verdict } from './lib.ts';
import { startAzurite } from '../test/support/azurite.ts';

const SHOTS = 100;
const SPEED = 60;
const CACHE_KEY = 'bench-team-key-not-a-secret-0123456789';

function manifest(): string {
  const lines = ['version: 1', 'defaults:', '  model: sora-2', '  size: 1280x720', '  seconds: 8', 'shots:'];
  for (let i = 0; i < SHOTS; i++) {
    lines.push(`  s${String(i).padStart(3, '0')}:`);
    lines.push(`    prompt: Shot ${i} of the campaign, the product from angle ${i * 7}, 35mm film.`);
  }
  return `${lines.join('\n')}\n`;
}

const config = (container: string, url: string): string => `version: 1
provider: local
providers:
  local:
    type: openai
    base_url: ${url}/v1
    quota: { creates_per_minute: 10000, max_in_flight: 50 }
cache:
  remote:
    type: azure-blob
    container: ${container}
`;

interface Finished {
  built: number;
  cached: number;
  wallMs: number;
}

function finished(stdout: string): Finished {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.includes('"build-finished"')) continue;
    return JSON.parse(line) as Finished;
  }
  throw new Error(`no build-finished event in:\n${stdout.slice(-2000)}`);
}

export async function remoteRestore(options: { runs: number; rebuilds: number }): Promise<Row[]> {
  const azurite = await startAzurite();
  const epoch = Date.now();
  const emulator = await startEmulator({
    clock: new ScaledClock({ speed: SPEED, epoch }),
    apiKeys: [API_KEY],
    createsPerMinute: 10_000,
    renderOnCreate: true,
    renderFps: 1,
  });
  try {
    const container = 'bench';
    await azurite.container(container).create();
    const env = cliEnv({
      OPENAI_API_KEY: API_KEY,
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      SORA_BUILD_CACHE_KEY: CACHE_KEY,
      SORA_BUILD_CLOCK: `scaled:${SPEED}:${epoch}`,
    });
    const folder = async (name: string): Promise<string> => {
      const dir = path.join(WORK, name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'sora.config.yaml'), config(container, emulator.url));
      await writeFile(path.join(dir, 'storyboard.yaml'), manifest());
      return dir;
    };
    const build = async (dir: string, mode: string): Promise<{ ms: number; finished: Finished }> => {
      const r = await runNode([BIN, 'build', `--remote-cache=${mode}`, '--reporter', 'json'], {
        cwd: dir,
        env,
      });
      if (r.code !== 0) throw new Error(`build --remote-cache=${mode} failed (${r.code}): ${r.stderr}`);
      return { ms: r.ms, finished: finished(r.stdout) };
    };

    const a = await folder('remote-a');
    log(`remote: machine A builds ${SHOTS} shots into the remote cache`);
    const filled = await build(a, 'readwrite');
    if (filled.finished.built !== SHOTS) throw new Error(`machine A built ${filled.finished.built} shots`);

    const restore: number[] = [];
    const rebuild: number[] = [];
    const emulated: number[] = [];
    for (let i = 0; i < Math.max(options.runs, options.rebuilds); i++) {
      if (i < options.runs) {
        const b = await folder('remote-b');
        const restored = await build(b, 'read');
        if (restored.finished.cached !== SHOTS || restored.finished.built !== 0) {
          throw new Error(`the restore was not one: ${JSON.stringify(restored.finished)}`);
        }
        restore.push(restored.ms / 1000);
        log(`remote: restore ${i + 1}: ${restore.at(-1)!.toFixed(2)} s`);
      }
      if (i < options.rebuilds) {
        const c = await folder('remote-c');
        const rebuilt = await build(c, 'off');
        if (rebuilt.finished.built !== SHOTS) throw new Error(`the rebuild built ${rebuilt.finished.built}`);
        rebuild.push(rebuilt.ms / 1000);
        emulated.push(rebuilt.finished.wallMs / 1000);
        log(
          `remote: rebuild ${i + 1}: ${rebuild.at(-1)!.toFixed(1)} s (${emulated.at(-1)!.toFixed(0)} s emulated)`,
        );
      }
    }
    const r = spread(restore);
    const g = spread(rebuild);
    const e = spread(emulated);
    return [
      {
        metric: `7. remote-cache restore of ${SHOTS} shots into an empty local store (whole process)`,
        value: fmtSpread(r, ' s'),
        target: 'info',
        verdict: 'info',
        data: { seconds: r },
      },
      {
        metric: `7. local-only rebuild of the same ${SHOTS} shots, emulator on this machine (whole process)`,
        value: `${fmtSpread(g, ' s', 1)}; ${e.median.toFixed(0)} s of emulated service time`,
        target: 'info',
        verdict: 'info',
        data: { seconds: g, emulatedSeconds: e },
      },
      {
        metric: '7. rebuild / restore (medians)',
        value: `${(g.median / r.median).toFixed(1)}x`,
        target: 'restore faster: > 1x',
        verdict: verdict(g.median > r.median),
      },
    ];
  } finally {
    await emulator.close();
    await azurite.close();
  }
}
