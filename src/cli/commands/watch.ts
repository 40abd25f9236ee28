/**
 * `sora-build watch [MANIFEST] [--shot ID]... [--debounce MS]`: rebuilds on every save of the manifest,
 * `sora.config.yaml` or a referenced image, through ONE long-lived BuildEngine (so a job already running for
 * a key is awaited, never paid for twice). The loop itself is the state machine in src/watch/; this file
 * wires chokidar, the engine and the terminal.
 *
 * Per iteration: reload the project (an invalid manifest prints its diagnostics and keeps watching), plan,
 * build what changed. Keys that failed or were moderation-blocked in this session are not resubmitted until
 * they change (engine.failedKeys(), `retryFailedKeys: false`). A change to `sora.config.yaml` that changes the
 * provider, its quota or the folders restarts the engine (running jobs stay in the journal and are resumed).
 * Ctrl-C: stop waiting, keep the journal, exit 130.
 */
import path from 'node:path';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  EngineHost,
  MANIFEST_OPTION,
  checkedProvider,
  cliClock,
  parseCommandArgs,
  parseUsd,
  printDiagnostics,
  splitManifest,
} from '../everyday.ts';
import { REPORTER_KINDS } from '../../reporter/reporter.ts';
import type { ProjectConfig } from '../../config/types.ts';
import { loadProject } from '../../manifest/load-project.ts';
import { loadConfig } from '../../config/load-config.ts';
import { CONFIG_FILE_NAME } from '../../config/config-schema.ts';
import { computePlan } from '../../plan/compute-plan.ts';
import { ChokidarWatcher } from '../../watch/chokidar-watcher.ts';
import { WatchSession } from '../../watch/watch-session.ts';
import type { IterationRequest, IterationResult, WatchNotice } from '../../watch/watch-session.ts';
import { INITIAL_CHANGE } from '../../watch/transition-watch.ts';

const HELP = `Usage: sora-build watch [MANIFEST] [--shot ID]... [--debounce MS] [--max-cost USD]

Builds, then rebuilds what changed on every save of the manifest, sora.config.yaml
or a referenced image. Shots whose generation failed or was blocked are not
resubmitted until their inputs change. Ctrl-C stops (the journal keeps jobs in
flight for the next run).

Options:
  --shot ID          only these shots (and the shots they need); repeatable
  --debounce MS      quiet period after the last save before building (default 150)
  --max-cost USD     skip an iteration whose estimate is above USD (or unknown); never asks
  --reporter KIND    auto|pretty|plain|json|github (default auto)
  --config PATH, --provider NAME

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build watch --reporter plain
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'watch',
    args,
    {
      ...MANIFEST_OPTION,
      shot: { type: 'string', multiple: true },
      debounce: { type: 'string' },
      'max-cost': { type: 'string' },
      reporter: { type: 'string' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const split = splitManifest(ctx, 'watch', positionals, values.manifest, HELP, { operands: false });
  if (typeof split === 'number') return split;
  const debounceMs = values.debounce === undefined ? 150 : Number(values.debounce);
  if (!Number.isInteger(debounceMs) || debounceMs < 0) {
    ctx.stderr.write(
      `sora-build watch: expected --debounce to be whole milliseconds, got ${values.debounce}\n`,
    );
    return ExitCode.Usage;
  }
  if (values.reporter !== undefined && !(REPORTER_KINDS as readonly string[]).includes(values.reporter)) {
    ctx.stderr.write(
      `sora-build watch: expected --reporter to be one of ${REPORTER_KINDS.join(', ')}, got ${values.reporter}\n`,
    );
    return ExitCode.Usage;
  }
  let maxCost: number | undefined;
  if (values['max-cost'] !== undefined) {
    maxCost = parseUsd(values['max-cost']);
    if (maxCost === undefined) {
      ctx.stderr.write(
        `sora-build watch: expected --max-cost to be an amount in USD, got '${values['max-cost']}'\n`,
      );
      return ExitCode.Usage;
    }
  }
  const manifestArg = split.manifest === undefined ? undefined : path.resolve(ctx.cwd, split.manifest);
  const shotIds = values.shot ?? [];

  // The files to watch before the first build: the manifest and the config (even if not there yet).
  const configLoad = await loadConfig({
    cwd: ctx.cwd,
    startDir: manifestArg === undefined ? ctx.cwd : path.dirname(manifestArg),
    configPath: values.config,
    provider: values.provider,
  });
  const configPath =
    configLoad.config?.path ??
    (values.config !== undefined
      ? path.resolve(ctx.cwd, values.config)
      : path.join(configLoad.root, CONFIG_FILE_NAME));
  const manifestPath = manifestArg ?? configLoad.manifest ?? path.join(configLoad.root, 'storyboard.yaml');
  const root = configLoad.root;
  // Changes are named relative to the project root: `storyboard.yaml`, `refs/mug.png`.
  const display = (abs: string): string => path.relative(root, abs).split(path.sep).join('/') || abs;

  let host: EngineHost | undefined;
  let hostConfig: string | undefined;
  const watcher = new ChokidarWatcher();

  const runIteration = async (request: IterationRequest): Promise<IterationResult> => {
    const loaded = await loadProject({
      cwd: ctx.cwd,
      env: ctx.env,
      manifestPath: manifestArg,
      configPath: values.config,
      provider: values.provider,
    });
    if (!loaded.ok) {
      printDiagnostics(ctx, 'watch', loaded.diagnostics);
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
      ctx.stderr.write(
        `${errors} error${errors === 1 ? '' : 's'}: nothing built; fix and save to try again (still watching)\n`,
      );
      return { watchPaths: undefined };
    }
    printDiagnostics(ctx, 'watch', loaded.warnings);
    const { config, manifest } = loaded;
    const watchPaths = [
      manifest.path,
      config.path ?? path.join(config.root, CONFIG_FILE_NAME),
      // Every file a shot sends: editing one changes the shot's key.
      ...[...manifest.shots.values()].flatMap((s) => [
        ...(s.inputReference === undefined ? [] : [s.inputReference.path]),
        ...s.frames.map((f) => f.image.path),
        ...s.referenceImages.map((r) => r.path),
        ...(s.inputVideo === undefined ? [] : [s.inputVideo.path]),
      ]),
    ];
    const unique = [...new Set(watchPaths)].sort();
    const computed = await computePlan({ config, manifest, shotIds });
    if (!computed.ok) {
      if (computed.error.reason === 'unknown-shot') ctx.stderr.write(`${computed.error.message}\n`);
      else printDiagnostics(ctx, 'watch', computed.error.diagnostics);
      ctx.stderr.write('nothing built; fix and save to try again (still watching)\n');
      return { watchPaths: unique };
    }
    // Watch never asks (a question on every save would be unusable); --max-cost caps each iteration instead.
    const totals = computed.value.plan.totals;
    if (
      maxCost !== undefined &&
      totals.toGenerate > 0 &&
      (totals.cost.totalUsd === null || totals.cost.totalUsd > maxCost + 1e-9)
    ) {
      const estimate =
        totals.cost.totalUsd === null
          ? 'unknown (a model has no price)'
          : `$${totals.cost.totalUsd.toFixed(2)}`;
      ctx.stderr.write(
        `refused: this change would generate ${totals.toGenerate} shot(s) for ${estimate}, above --max-cost $${maxCost.toFixed(2)}; nothing was sent (still watching)\n`,
      );
      return { watchPaths: unique };
    }
    const fingerprint = engineFingerprint(config);
    if (host === undefined || fingerprint !== hostConfig) {
      if (host !== undefined) {
        ctx.stdout.write('sora.config.yaml changed the provider or folders: restarting the engine\n');
        await host.close({ abandon: true });
      }
      // Credentials once per engine, before anything is sent; a problem skips this iteration (still watching).
      const provider = await checkedProvider(ctx, 'watch', config, cliClock(ctx));
      if (typeof provider === 'number') {
        host = undefined;
        return { watchPaths: unique };
      }
      const opened = EngineHost.open(ctx, config, { reporter: values.reporter, provider });
      if (typeof opened === 'number') throw new Error('unreachable: --reporter was checked at start');
      host = opened;
      hostConfig = fingerprint;
    }
    // Keys refused earlier in this session stay refused until they change: say so instead of paying again.
    const failed = host.engine.failedKeys();
    for (const s of computed.value.plan.shots) {
      const f = s.key === null ? undefined : failed.get(s.key);
      if (f !== undefined)
        ctx.stdout.write(
          `${s.id}: not resubmitted: it failed in this session (${f.reason}); change its prompt or inputs to try again\n`,
        );
    }
    await host.build({
      manifest,
      computed: computed.value,
      signal: AbortSignal.any([request.signal, ctx.signal]),
      resumeCommand: 'sora-build watch',
      retryFailedKeys: false,
      // Superseded by a newer save: the jobs go on in this process, so no "run again to resume" message.
      reportInterruption: () => ctx.signal.aborted,
    });
    return { watchPaths: unique };
  };

  // Through the build's reporter while one is running: a line written under a live table would be redrawn
  // over, leaving a stale copy of the table's header behind.
  const say = (text: string): void => {
    if (host === undefined) ctx.stdout.write(`${text}\n`);
    else host.note(text);
  };
  const onNotice = (n: WatchNotice): void => {
    switch (n.type) {
      case 'iteration-started': {
        const what =
          n.changes.length === 1 && n.changes[0] === INITIAL_CHANGE
            ? 'initial build'
            : `${n.changes.join(', ')} changed`;
        say(`\n── iteration ${n.iteration} · ${what} ──`);
        return;
      }
      case 'iteration-finished':
        if (n.superseded && !ctx.signal.aborted)
          say(`(iteration ${n.iteration} superseded; its jobs continue into the cache)`);
        return;
      case 'watching':
        say(`watching ${n.files} file${n.files === 1 ? '' : 's'} · Ctrl-C to stop`);
        return;
      case 'change-queued':
        say(`${n.path} changed during the build: rebuilding once it settles`);
        return;
      case 'iteration-crashed':
        ctx.stderr.write(
          `sora-build: internal error in iteration, please report it (still watching): ${ctx.redact(n.error instanceof Error ? (n.error.stack ?? n.error.message) : String(n.error))}\n`,
        );
        return;
      case 'stopping':
        {
          // Only jobs created on the service are kept; say so only when there are some.
          const inFlight = host?.inFlight() ?? 0;
          say(
            inFlight === 0
              ? 'stopping'
              : `stopping: ${inFlight} job${inFlight === 1 ? '' : 's'} in flight stay${inFlight === 1 ? 's' : ''} in the journal for the next run`,
          );
        }
        return;
      default: {
        const never: never = n;
        throw new Error(`internal error: unexpected notice ${JSON.stringify(never)}`);
      }
    }
  };

  const session = new WatchSession({
    watcher,
    runIteration,
    displayPath: display,
    onNotice,
    debounceMs,
    initialPaths: [manifestPath, configPath],
  });
  const onAbort = (): void => session.stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await session.run();
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await host?.close({ abandon: true });
  }
  return ExitCode.Interrupted;
}

/** What, when it changes in sora.config.yaml, needs a new engine (provider, its quota and folders). */
function engineFingerprint(config: ProjectConfig): string {
  const { location: _location, ...provider } = config.provider;
  return JSON.stringify([provider, config.outDir, config.cacheDir]);
}
