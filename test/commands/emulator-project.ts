/**
 * A temp project whose provider is a standalone emulator on loopback (type: openai), so a test can see the
 * emulator's request log and share its state across several in-process CLI runs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../../src/core/clock.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { runCli } from './cli-harness.ts';
import type { CliRun, RunOptions } from './cli-harness.ts';

export const API_KEY = 'sk-test-videos-7d0c1f5e2a';

export interface EmulatorProject {
  readonly dir: string;
  readonly cacheDir: string;
  readonly emulator: EmulatorHandle;
  readonly env: Record<string, string>;
  run(args: string[], options?: Omit<RunOptions, 'cwd' | 'env'>): Promise<CliRun>;
  /** Creates a video straight through the API and waits until it is completed; returns its id. */
  createVideo(prompt: string): Promise<string>;
  /** Requests to `/v1/videos…` since the last `clearLog`, as `METHOD path[?query]`. */
  log(): string[];
  close(): Promise<void>;
}

export async function emulatorProject(options: { speed?: number } = {}): Promise<EmulatorProject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-videos-'));
  const speed = options.speed ?? 2000;
  const epoch = Date.now();
  const clock = new ScaledClock({ speed, epoch });
  const emulator = await startEmulator({ clock, apiKeys: [API_KEY], createsPerMinute: Infinity, seed: 7 });
  await writeFile(
    path.join(dir, 'sora.config.yaml'),
    [
      'version: 1',
      'provider: local',
      'providers:',
      '  local:',
      '    type: openai',
      `    base_url: ${emulator.url}/v1`,
      '',
    ].join('\n'),
  );
  const env = { OPENAI_API_KEY: API_KEY, SORA_BUILD_CLOCK: `scaled:${speed}:${epoch}` };
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  return {
    dir,
    cacheDir: path.join(dir, '.sora-build'),
    emulator,
    env,
    run: (args, runOptions = {}) => runCli(args, { ...runOptions, cwd: dir, env }),
    async createVideo(prompt) {
      const res = await fetch(`${emulator.url}/v1/videos`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ prompt, model: 'sora-2', size: '1280x720', seconds: '4' }),
      });
      if (!res.ok) throw new Error(`create failed: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      for (;;) {
        const r = await fetch(`${emulator.url}/v1/videos/${id}`, { headers });
        const v = (await r.json()) as { status: string };
        if (v.status === 'completed') return id;
        if (v.status === 'failed') throw new Error(`video ${id} failed`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    log: () =>
      emulator
        .requestLog()
        .filter((e) => e.path.startsWith('/v1/videos'))
        .map((e) => `${e.method} ${e.path}${e.query === '' ? '' : `?${e.query}`}`),
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
