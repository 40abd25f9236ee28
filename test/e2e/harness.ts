/**
 * End-to-end harness: a temp project, a real emulator on loopback sharing a scaled clock with the CLI, and
 * the real CLI run as a child process (`node bin/sora-build.js`), as a user would run it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledClock } from '../../src/core/clock.ts';
import type { Clock } from '../../src/core/clock.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/server.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'sora-build.js');

/** The test API key; tests assert it never appears in any output or file. */
export const API_KEY = 'sk-test-SECRET-4f1c2e9a7b';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Project {
  readonly dir: string;
  readonly emulator: EmulatorHandle;
  /** `SORA_BUILD_CLOCK` value shared by the CLI and the emulator. */
  readonly clockSpec: string;
  readonly clock: Clock;
  /**
   * Moves emulator time (and the time of every later CLI run) forward by `ms`, e.g. past the 24 h after
   * which remote videos expire.
   */
  jump(ms: number): void;
  write(path: string, text: string | Uint8Array): Promise<void>;
  read(path: string): Promise<string>;
  run(
    args: readonly string[],
    options?: { env?: Record<string, string>; timeoutMs?: number },
  ): Promise<CliResult>;
  /** Starts the CLI without waiting (for kill tests). */
  spawn(args: readonly string[], options?: { env?: Record<string, string> }): ReturnType<typeof spawn>;
  /** Every file under the project (relative paths), for secret scans. */
  files(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ProjectOptions {
  /**
   * Emulator speed: clock ms per real ms. At 60 a minute of quota passes in a real second, while our own
   * per-request work (fsyncs, file locks) still costs only a few emulator seconds.
   * @default 60
   */
  readonly speed?: number;
  readonly emulator?: Omit<EmulatorOptions, 'clock'>;
  /** Provider block written into sora.config.yaml (the emulator's URL is filled in). */
  readonly quota?: { readonly createsPerMinute: number; readonly maxInFlight: number };
  readonly pricing?: string;
  /**
   * Folder the temp project is made in; tests that make hundreds of fsyncs use /dev/shm where there is one.
   * @default os.tmpdir()
   */
  readonly parentDir?: string;
}

export async function makeProject(options: ProjectOptions = {}): Promise<Project> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'sora-build-e2e-'));
  const speed = options.speed ?? 60;
  const epoch = Date.now();
  const scaled = new ScaledClock({ speed, epoch });
  let offset = 0;
  const clock: Clock = { now: () => scaled.now() + offset, sleep: (ms, signal) => scaled.sleep(ms, signal) };
  // A ScaledClock shows epoch + (t - epoch) * speed; an offset O is the same clock with its epoch moved by
  // O / (1 - speed), which is how a CLI run is told about a jump.
  const clockSpec = (): string => `scaled:${speed}:${Math.round(epoch + offset / (1 - speed))}`;
  const emulator = await startEmulator({ ...options.emulator, clock, apiKeys: [API_KEY] });
  const quota = options.quota ?? {
    createsPerMinute: options.emulator?.createsPerMinute ?? 2,
    maxInFlight: 4,
  };
  const config = [
    'version: 1',
    'provider: local',
    'providers:',
    '  local:',
    '    type: openai',
    `    base_url: ${emulator.url}/v1`,
    `    quota: { creates_per_minute: ${quota.createsPerMinute}, max_in_flight: ${quota.maxInFlight} }`,
    `    pricing: ${options.pricing ?? '{ sora-2: { usd_per_second: 0.1 }, sora-2-pro: { usd_per_second: 0.3 } }'}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'sora.config.yaml'), config);

  const baseEnv = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(OPENAI_|AZURE_|GITHUB_|SORA_BUILD_)/.test(k)) env[k] = v;
    }
    env.OPENAI_API_KEY = API_KEY;
    env.SORA_BUILD_CLOCK = clockSpec();
    env.NO_COLOR = '1';
    env.CI = '1';
    return env;
  };

  const project: Project = {
    dir,
    emulator,
    clock,
    get clockSpec() {
      return clockSpec();
    },
    jump(ms) {
      offset += ms;
    },
    async write(path, text) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    },
    read: (path) => readFile(join(dir, path), 'utf8'),
    spawn(args, runOptions = {}) {
      return spawn(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...baseEnv(), ...runOptions.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    run(args, runOptions = {}) {
      return new Promise((resolve, reject) => {
        const child = project.spawn(args, runOptions);
        let stdout = '';
        let stderr = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), runOptions.timeoutMs ?? 60_000);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      });
    },
    async files() {
      const out: string[] = [];
      const walk = async (d: string): Promise<void> => {
        for (const entry of await readdir(d, { withFileTypes: true })) {
          const p = join(d, entry.name);
          if (entry.isDirectory()) await walk(p);
          else if ((await stat(p)).isFile()) out.push(relative(dir, p));
        }
      };
      await walk(dir);
      return out.sort();
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return project;
}

/** Requests in the emulator's log that cost money (create, remix, extend). */
export function createRequests(emulator: EmulatorHandle): { method: string; path: string; status: number }[] {
  return emulator
    .requestLog()
    .filter(
      (r) =>
        r.method === 'POST' &&
        (/\/videos$/.test(r.path) || /\/remix$/.test(r.path) || /\/videos\/extensions$/.test(r.path)),
    );
}
