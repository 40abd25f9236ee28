/**
 * Small pieces shared by the everyday commands (init, gc, videos, status, why, reroll, watch): argument
 * parsing with a uniform error, project loading that prints diagnostics, the process clock, a yes/no
 * question, and plain text tables. Printing lives here because only `cli/` prints.
 */
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { CliContext } from './context.ts';
import { ExitCode } from './exit-codes.ts';
import type { Clock } from '../core/clock.ts';
import { clockFromSpec } from '../core/clock.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import { loadProject, lockfilePathFor } from '../manifest/load-project.ts';
import { loadConfig } from '../config/load-config.ts';
import type { ProjectConfig } from '../config/types.ts';
import type { Manifest } from '../manifest/types.ts';
import { computePlan } from '../plan/compute-plan.ts';
import type { ComputedPlan } from '../plan/compute-plan.ts';
import type { ShardSpec } from '../graph/shard-shots.ts';
import { describeReason } from '../plan/plan-types.ts';
import { priceOf } from '../plan/plan-build.ts';
import type { ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { BuildEvent } from '../core/events.ts';
import { eventLocation } from '../core/events.ts';
import type { BuildEngine } from '../engine/build-engine.ts';
import { ProviderError } from '../provider/types.ts';
import type { VideoProvider } from '../provider/types.ts';
import type { JobProvider } from '../provider/job-api.ts';
import { openEngine } from '../engine/open-engine.ts';
import type { BuildOutcome } from '../engine/build-engine.ts';
import { createReporter } from '../reporter/create-reporter.ts';
import { LiveLogReporter, teeReporter } from '../reporter/live-log.ts';
import { REPORTER_KINDS } from '../reporter/reporter.ts';
import type { Reporter, ReporterKind } from '../reporter/reporter.ts';

// Argument parsing lives in args.ts, which loads nothing heavy (validate and plan use it directly).
export {
  MANIFEST_OPTION,
  SHARD_OPTION,
  describeShard,
  parseCommandArgs,
  parseUsd,
  shardArg,
  splitManifest,
} from './args.ts';
import { writeDiagnostics } from './args.ts';

/** The process clock: `SORA_BUILD_CLOCK=scaled:<speed>[:<epoch>]` (tests, benchmarks), else the system clock. */
export function cliClock(ctx: CliContext): Clock {
  return clockFromSpec(ctx.env['SORA_BUILD_CLOCK']);
}

export function useColor(ctx: CliContext): boolean {
  return ctx.stderr.isTTY === true && ctx.env['NO_COLOR'] === undefined;
}

/** Diagnostics of command `name` (see `writeDiagnostics`). */
export function printDiagnostics(ctx: CliContext, name: string, diagnostics: readonly Diagnostic[]): void {
  writeDiagnostics(ctx, name, diagnostics);
}

export interface ProjectArgs {
  /** The command, for messages about the command line (`sora-build status: ...`). */
  readonly command: string;
  /** MANIFEST as given on the command line (relative to cwd). */
  readonly manifest?: string | undefined;
  readonly config?: string | undefined;
  readonly provider?: string | undefined;
}

export interface Project {
  readonly config: ProjectConfig;
  readonly manifest: Manifest;
}

/**
 * Loads config and manifest; on errors prints every diagnostic and returns exit code 2. Warnings are
 * printed only when `warnings` is set (commands that do not build keep quiet about them).
 */
export async function loadProjectOrReport(
  ctx: CliContext,
  args: ProjectArgs,
  options: { warnings?: boolean } = {},
): Promise<Project | number> {
  const loaded = await loadProject({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(args.manifest !== undefined ? { manifestPath: args.manifest } : {}),
    ...(args.config !== undefined ? { configPath: args.config } : {}),
    ...(args.provider !== undefined ? { provider: args.provider } : {}),
  });
  if (!loaded.ok) {
    printDiagnostics(ctx, args.command, loaded.diagnostics);
    return ExitCode.Usage;
  }
  if (options.warnings === true) printDiagnostics(ctx, args.command, loaded.warnings);
  return { config: loaded.config, manifest: loaded.manifest };
}

export interface PlannedProject extends Project, ComputedPlan {}

/**
 * The configured provider, created before anything is sent so that its credentials are checked once: a
 * missing API key (the message names both variables) or an Entra ID token that cannot be obtained stops
 * the command with exit 2, instead of failing every shot after the quota slots were spent. Returns the
 * factory to hand to the engine (which closes the provider), undefined for the embedded emulator (no
 * credentials; started on first use), or the exit code after printing the problem.
 */
export async function checkedProvider(
  ctx: CliContext,
  command: string,
  config: ProjectConfig,
  clock: Clock,
): Promise<(() => Promise<VideoProvider | JobProvider>) | undefined | number> {
  if (config.provider.type === 'emulator') return undefined;
  const { createJobProvider } = await import('../provider/create-provider.ts');
  try {
    const provider = await createJobProvider({
      config: config.provider,
      env: ctx.env,
      clock,
      cacheDir: config.cacheDir,
      checkAuth: true,
    });
    return () => Promise.resolve(provider);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    ctx.stderr.write(
      `sora-build ${command}: ${ctx.redact(error.message).replace(/\.$/, '')}; nothing was sent.\n`,
    );
    return ExitCode.Usage;
  }
}

/**
 * Loads the project and plans it (no network; the plan `build` would follow). On errors prints them and
 * returns exit code 2.
 */
export async function loadPlanOrReport(
  ctx: CliContext,
  args: ProjectArgs & { readonly shotIds?: readonly string[]; readonly shard?: ShardSpec | undefined },
): Promise<PlannedProject | number> {
  const project = await loadProjectOrReport(ctx, args);
  if (typeof project === 'number') return project;
  const planned = await computePlan({
    config: project.config,
    manifest: project.manifest,
    shotIds: args.shotIds ?? [],
    shard: args.shard,
  });
  if (!planned.ok) {
    if (planned.error.reason === 'unknown-shot')
      ctx.stderr.write(`sora-build ${args.command}: ${planned.error.message}\n`);
    else printDiagnostics(ctx, args.command, planned.error.diagnostics);
    return ExitCode.Usage;
  }
  return { ...project, ...planned.value };
}

/**
 * Loads only the config, for commands that work project-wide (gc, videos) and must keep working while the
 * manifest is broken mid-edit. Also returns the default manifest's lockfile path.
 */
export async function loadConfigOrReport(
  ctx: CliContext,
  args: Omit<ProjectArgs, 'manifest'>,
): Promise<{ config: ProjectConfig; defaultLockfile: string } | number> {
  const loaded = await loadConfig({
    cwd: ctx.cwd,
    startDir: ctx.cwd,
    configPath: args.config,
    provider: args.provider,
  });
  if (loaded.config === undefined || loaded.diagnostics.some((d) => d.severity === 'error')) {
    printDiagnostics(ctx, args.command, loaded.diagnostics);
    return ExitCode.Usage;
  }
  return { config: loaded.config, defaultLockfile: lockfilePathFor(loaded.config.manifest) };
}

/**
 * Asks a yes/no question on the terminal; anything but `y`/`yes` is no. Callers check `ctx.stdin.isTTY`
 * first: without a terminal the answer must come from `--yes`, never from piped input by accident.
 */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(`${question} [y/N] `);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      let done = false;
      rl.once('line', (line) => {
        done = true;
        resolve(line);
      });
      rl.once('close', () => {
        if (!done) resolve('');
      });
      ctx.signal.addEventListener('abort', () => resolve(''), { once: true });
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

/** Left-aligned columns separated by two spaces; `right` marks columns aligned right (numbers). */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A path as the user should see it: relative to cwd when inside it, POSIX separators. */
export function shownPath(ctx: CliContext, abs: string): string {
  const rel = path.relative(ctx.cwd, abs);
  const shown = rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  return shown.split(path.sep).join('/');
}

/** `2026-11-25 12:04` in UTC, for tables (the `Z` is in the header). */
export function formatTimestamp(ms: number | null): string {
  if (ms === null) return '-';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

export interface EngineHostOptions {
  /** `--reporter` value. @default 'auto' */
  readonly reporter?: string | undefined;
  /** From `checkedProvider`: the provider whose credentials were checked. @default created on first use */
  readonly provider?: (() => Promise<VideoProvider | JobProvider>) | undefined;
}

export interface HostedBuild {
  readonly manifest: Manifest;
  readonly computed: ComputedPlan;
  readonly signal: AbortSignal;
  readonly resumeCommand: string;
  readonly force?: ReadonlySet<ShotId>;
  /** @default true */
  readonly retryFailedKeys?: boolean;
  /**
   * Asked when the engine reports an interruption: false drops the "run again to resume" message (watch
   * supersedes builds on purpose; the jobs continue in the same process).
   * @default () => true
   */
  readonly reportInterruption?: () => boolean;
}

/**
 * One long-lived BuildEngine (interfaces.md item 6, wired by `openEngine` as `build` does) on the process's
 * clock, and a fresh reporter per build: each build's events (plan first, then
 * the engine's) go to the reporter made for it, so watch mode prints one complete report per iteration.
 * Events from jobs that outlive an aborted build go to whichever build is current, or nowhere in between.
 */
export class EngineHost {
  readonly engine: BuildEngine;
  readonly #ctx: CliContext;
  readonly #clock: Clock;
  readonly #kind: ReporterKind;
  readonly #cacheDir: string;
  #reporter: Reporter | undefined;
  /** The current build's live log (also inside `#reporter`). */
  #live: Reporter | undefined;
  #reportInterruption: (() => boolean) | undefined;
  /** Each remote job's key: the current build's key of its shot when the job was created or resumed. */
  readonly #jobKeys = new Map<VideoId, ShotKey | null>();
  /** The current build's key per shot (null while blocked: its parent's new output is not known yet). */
  #keys: ReadonlyMap<ShotId, ShotKey | null> = new Map();
  /** Remote jobs created or resumed and not yet downloaded or failed: what the journal keeps on Ctrl-C. */
  readonly #inFlight = new Set<VideoId>();

  private constructor(
    ctx: CliContext,
    config: ProjectConfig,
    kind: ReporterKind,
    provider: (() => Promise<VideoProvider | JobProvider>) | undefined,
  ) {
    this.#ctx = ctx;
    this.#clock = cliClock(ctx);
    this.#kind = kind;
    this.#cacheDir = config.cacheDir;
    const clock = this.#clock;
    this.engine = openEngine({
      config,
      env: ctx.env,
      clock,
      emit: (event) => {
        if (event.type === 'interrupted' && this.#reportInterruption?.() === false) return;
        // A superseded job's events still go to the live log (review follows every job), not to the view.
        if (this.#superseded(event)) this.#live?.handle(event);
        else this.#reporter?.handle(event);
      },
      ...(provider === undefined ? {} : { provider }),
    });
  }

  /** Returns an exit code instead when `--reporter` names no reporter. */
  static open(ctx: CliContext, config: ProjectConfig, options: EngineHostOptions = {}): EngineHost | number {
    const kind = (options.reporter ?? 'auto') as ReporterKind;
    if (!REPORTER_KINDS.includes(kind)) {
      ctx.stderr.write(
        `sora-build: expected --reporter to be one of ${REPORTER_KINDS.join(', ')}, got ${kind}\n`,
      );
      return ExitCode.Usage;
    }
    return new EngineHost(ctx, config, kind, options.provider);
  }

  /**
   * Whether `event` belongs to a job the current build does not wait for: a job started for an earlier key
   * of the shot by a superseded build goes on into the cache, but its progress must not take the place of
   * the shot's row (its old id at 73 % while the new job waits). Also keeps the in-flight count.
   */
  #superseded(event: BuildEvent): boolean {
    if (event.type === 'job-submitted' || event.type === 'resumed') {
      this.#jobKeys.set(event.videoId, this.#keys.get(event.shot) ?? null);
      this.#inFlight.add(event.videoId);
      return false;
    }
    if (event.type === 'shot-failed') {
      if (event.videoId !== null) this.#inFlight.delete(event.videoId);
      return false;
    }
    if (
      event.type !== 'job-progress' &&
      event.type !== 'job-completed' &&
      event.type !== 'download-started' &&
      event.type !== 'download-finished'
    )
      return false;
    if (event.type === 'download-finished' && event.variant === 'video') this.#inFlight.delete(event.videoId);
    const jobKey = this.#jobKeys.get(event.videoId) ?? null;
    const current = this.#keys.get(event.shot) ?? null;
    return jobKey !== null && current !== null && jobKey !== current;
  }

  /** Jobs created on the service and not finished: they stay in the journal when the process stops. */
  inFlight(): number {
    return this.#inFlight.size;
  }

  /** A line of the caller's, printed through the current build's reporter (above its live table). */
  note(text: string): void {
    if (this.#reporter !== undefined) this.#reporter.note(text);
    else if (this.#kind === 'json') this.#ctx.stderr.write(`${text}\n`);
    else this.#ctx.stdout.write(`${text}\n`);
  }

  async build(input: HostedBuild): Promise<BuildOutcome> {
    const ctx = this.#ctx;
    this.#keys = new Map(input.computed.plan.shots.map((s) => [s.id, s.key]));
    // Besides the user's reporter, the live log that `sora-build review` follows from another process.
    const live = LiveLogReporter.open({
      cacheDir: this.#cacheDir,
      manifest: input.manifest.path,
      pid: process.pid,
    });
    const reporter = teeReporter(
      createReporter({
        kind: this.#kind,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        env: ctx.env,
        isTTY: ctx.stdout.isTTY === true,
        columns: ctx.stdout.columns,
        clock: this.#clock,
        cwd: ctx.cwd,
      }),
      live,
    );
    this.#live = live;
    this.#reporter = reporter;
    this.#reportInterruption = input.reportInterruption;
    try {
      const { plan } = input.computed;
      const now = this.#clock.now();
      // A forced shot (reroll) is fresh in the plan but generated anyway: report it as such.
      const forced = (s: { id: ShotId; state: string }): boolean =>
        s.state === 'fresh' && input.force?.has(s.id) === true;
      const counts = { ...plan.totals.byState };
      let estimatedCostUsd = plan.totals.cost.totalUsd;
      for (const s of plan.shots)
        if (forced(s)) {
          counts.fresh--;
          counts.stale++;
          const shot = input.manifest.shots.get(s.id)!;
          const price = priceOf(shot.model, input.computed.provider.pricing, input.computed.family);
          estimatedCostUsd =
            estimatedCostUsd === null || price === null ? null : estimatedCostUsd + price * shot.seconds;
        }
      reporter.handle({
        type: 'build-started',
        time: now,
        manifest: input.manifest.path,
        provider: input.computed.provider.name,
        counts,
        estimatedCostUsd,
        estimatedWallMs: plan.totals.toGenerate > 0 ? plan.totals.wallTimeMs : null,
        targets: plan.shots.map((s) => s.id),
      });
      for (const s of plan.shots) {
        const shot = input.manifest.shots.get(s.id);
        reporter.handle({
          type: 'shot-planned',
          time: now,
          shot: s.id,
          state: forced(s) ? 'stale' : s.state,
          reasons: forced(s) ? ['a new take was asked for'] : s.reasons.map(describeReason),
          blockedBy: s.blockedBy,
          location: shot === undefined ? null : eventLocation(shot.location),
        });
      }
      return await this.engine.build({
        manifest: input.manifest,
        plan,
        lockfile: input.computed.lockfile,
        references: input.computed.references,
        media: input.computed.media,
        options: {
          ...(input.force !== undefined ? { force: input.force } : {}),
          ...(input.retryFailedKeys !== undefined ? { retryFailedKeys: input.retryFailedKeys } : {}),
        },
        signal: input.signal,
        resumeCommand: input.resumeCommand,
      });
    } finally {
      if (this.#reporter === reporter) {
        this.#reporter = undefined;
        this.#live = undefined;
      }
      await reporter.close();
    }
  }

  close(options: { abandon: boolean }): Promise<void> {
    return this.engine.close(options);
  }
}
