/**
 * A temp project driven through the engine in-process, against a real emulator on loopback (type: openai,
 * the official SDK over HTTP), with a scaled clock both share. Tests reach in where the CLI cannot: wrap the
 * provider to make one endpoint fail, wrap the journal or action cache to refuse a write, run two engines
 * (two processes' worth of state) on one project.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../../src/core/clock.ts';
import type { BuildEvent } from '../../src/core/events.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/server.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';
import { Store } from '../../src/cache/store.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import { Failures } from '../../src/cache/failures.ts';
import { Journal } from '../../src/scheduler/journal.ts';
import { CreateLedger } from '../../src/scheduler/create-ledger.ts';
import { BuildEngine } from '../../src/engine/build-engine.ts';
import type { BuildEngineOptions, BuildOptions, BuildOutcome } from '../../src/engine/build-engine.ts';
import type { VideoProvider } from '../../src/provider/types.ts';

export const API_KEY = 'sk-test-engine-5b7e0c2d91';

export interface EngineRun {
  readonly outcome: BuildOutcome;
  readonly events: readonly BuildEvent[];
}

export interface EngineOverrides {
  /** Wraps the real provider (e.g. to make List fail). */
  readonly wrapProvider?: (provider: VideoProvider) => VideoProvider;
  /** Replaces parts of the engine's wiring (a journal or action cache that refuses a write). */
  readonly wire?: (options: BuildEngineOptions) => BuildEngineOptions;
}

export interface EngineProject {
  readonly dir: string;
  readonly cacheDir: string;
  readonly emulator: EmulatorHandle;
  readonly clock: ScaledClock;
  write(file: string, text: string): Promise<void>;
  read(file: string): Promise<string>;
  /** An engine as one process would hold it (watch keeps one across builds). */
  engine(overrides?: EngineOverrides): Promise<{ engine: BuildEngine; events: BuildEvent[] }>;
  /** Plans the manifest as it is now and runs one build on `engine`. */
  build(
    engine: BuildEngine,
    events: BuildEvent[],
    options?: BuildOptions & { signal?: AbortSignal },
  ): Promise<EngineRun>;
  /** A fresh engine, one build, closed: one `sora-build build`. */
  buildOnce(overrides?: EngineOverrides, options?: BuildOptions): Promise<EngineRun>;
  /** Paid requests the emulator saw: create and remix (including ones whose answer was lost). */
  creates(): number;
  close(): Promise<void>;
}

export async function engineProject(
  options: { emulator?: Omit<EmulatorOptions, 'clock'>; maxInFlight?: number } = {},
): Promise<EngineProject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-engine-'));
  const clock = new ScaledClock({ speed: 2000, epoch: Date.now() });
  const emulator = await startEmulator({
    createsPerMinute: Infinity,
    seed: 11,
    ...options.emulator,
    clock,
    apiKeys: [API_KEY],
  });
  const env = { OPENAI_API_KEY: API_KEY };
  await writeFile(
    path.join(dir, 'sora.config.yaml'),
    [
      'version: 1',
      'provider: local',
      'providers:',
      '  local:',
      '    type: openai',
      `    base_url: ${emulator.url}/v1`,
      `    quota: { creates_per_minute: 100, max_in_flight: ${options.maxInFlight ?? 4} }`,
      '',
    ].join('\n'),
  );
  const load = async () => {
    const loaded = await loadProject({ cwd: dir, env });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    return loaded;
  };

  const project: EngineProject = {
    dir,
    cacheDir: path.join(dir, '.sora-build'),
    emulator,
    clock,
    async write(file, text) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    },
    read: (file) => readFile(path.join(dir, file), 'utf8'),
    async engine(overrides = {}) {
      const { config } = await load();
      const events: BuildEvent[] = [];
      const real = async (): Promise<VideoProvider> =>
        (await import('../../src/provider/create-provider.ts')).createProvider({
          config: config.provider,
          env,
          clock,
          cacheDir: config.cacheDir,
        });
      let wiring: BuildEngineOptions = {
        config,
        provider: async () => {
          const p = await real();
          return overrides.wrapProvider === undefined ? p : overrides.wrapProvider(p);
        },
        store: Store.open(config.cacheDir, { clock }),
        actionCache: ActionCache.open(config.cacheDir),
        journal: Journal.open({ cacheDir: config.cacheDir, clock }),
        ledger: CreateLedger.open({ cacheDir: config.cacheDir, provider: config.provider.name, clock }),
        failures: Failures.open(config.cacheDir),
        clock,
        emit: (event) => events.push(event),
        random: () => 0.5,
      };
      if (overrides.wire !== undefined) wiring = overrides.wire(wiring);
      return { engine: new BuildEngine(wiring), events };
    },
    async build(engine, events, buildOptions = {}) {
      const { config, manifest } = await load();
      const planned = await computePlan({ config, manifest, shotIds: [] });
      if (!planned.ok) throw new Error(JSON.stringify(planned.error));
      const from = events.length;
      const references = new Map(
        planned.value.plan.shots.map((s) => [s.id, planned.value.references.get(s.id) ?? null] as const),
      );
      const { signal, ...opts } = buildOptions;
      const outcome = await engine.build({
        manifest,
        plan: planned.value.plan,
        lockfile: planned.value.lockfile,
        references,
        options: opts,
        signal: signal ?? new AbortController().signal,
        resumeCommand: 'sora-build build',
      });
      return { outcome, events: events.slice(from) };
    },
    async buildOnce(overrides, buildOptions) {
      const { engine, events } = await project.engine(overrides);
      try {
        return await project.build(engine, events, buildOptions);
      } finally {
        await engine.close({ abandon: false });
      }
    },
    creates: () =>
      emulator
        .requestLog()
        .filter((r) => r.method === 'POST' && (/\/videos$/.test(r.path) || /\/remix$/.test(r.path))).length,
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return project;
}

/** A storyboard of independent 4-second shots. */
export function storyboard(ids: readonly string[]): string {
  return [
    'version: 1',
    'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
    'shots:',
    ...ids.flatMap((id) => [`  ${id}:`, `    prompt: A quiet shot of ${id}, 35mm film.`]),
    '',
  ].join('\n');
}

/** shot -> failure reason. */
export function failedShots(run: EngineRun): Record<string, string> {
  return Object.fromEntries(run.outcome.failed.map((f) => [f.shot, f.reason]));
}

/** An error as a full disk raises it. */
export function diskFull(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
    path: file,
  });
}

/** `target` with some members replaced; every other method still runs on `target` itself. */
export function override<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<string | symbol, unknown>)[prop];
      const value = Reflect.get(t, prop, t) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
