/**
 * `sora-build review [MANIFEST] [--export DIR] [--host HOST] [--port N] [--open]`: the storyboard as a
 * contact sheet in the browser (src/review/). Serves on loopback until Ctrl-C, or writes a static folder
 * with `--export` and exits.
 */
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  MANIFEST_OPTION,
  loadProjectOrReport,
  parseCommandArgs,
  shownPath,
  splitManifest,
} from '../everyday.ts';
import { loadReview } from '../../review/review-model.ts';
import { exportReview } from '../../review/export-review.ts';
import { isLoopback, startReviewServer } from '../../review/review-server.ts';
import { unreachable } from '../../core/unreachable.ts';

const HELP = `Usage: sora-build review [MANIFEST] [--export DIR] [--host HOST] [--port N] [--open]

Serves the storyboard as a page: every shot's video, prompt, state, cost, lineage
and takes, with a button that pins a take (as \`reroll --take\` does), updated live
while a build or watch runs on the project. Until Ctrl-C.

Options:
  --export DIR       write the page as a self-contained folder (index.html, media/) and exit
  --host HOST        interface to bind (default 127.0.0.1; anything else is reachable from the network)
  --port N           port (default: a free one)
  --open             open the page in the default browser
  --config PATH, --provider NAME

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build review --export review
`;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'review',
    args,
    {
      ...MANIFEST_OPTION,
      export: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      open: { type: 'boolean' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string): number => {
    ctx.stderr.write(`sora-build review: ${problem}\n\n${HELP}`);
    return ExitCode.Usage;
  };
  const manifestArg = splitManifest(ctx, 'review', positionals, values.manifest, HELP, { operands: false });
  if (typeof manifestArg === 'number') return manifestArg;
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return usage(`expected --port to be a port number (0-65535), got ${values.port}`);
  }
  const projectArgs = {
    command: 'review',
    manifest: manifestArg.manifest,
    config: values.config,
    provider: values.provider,
  };
  // Problems in the manifest are reported like every command does; later edits are shown on the page.
  const project = await loadProjectOrReport(ctx, projectArgs);
  if (typeof project === 'number') return project;
  const review = {
    cwd: ctx.cwd,
    env: ctx.env,
    manifestPath: project.manifest.path,
    configPath: values.config === undefined ? undefined : path.resolve(ctx.cwd, values.config),
    provider: values.provider,
  };

  if (values.export !== undefined) {
    const loaded = await loadReview(review);
    if (loaded.project === undefined) {
      ctx.stderr.write(loaded.model.errors.join(''));
      return ExitCode.Usage;
    }
    const dir = path.resolve(ctx.cwd, values.export);
    const exported = await exportReview({ loaded, dir });
    if (!exported.ok) {
      const failure = exported.error;
      switch (failure.reason) {
        case 'not-empty':
          ctx.stderr.write(
            `sora-build review: ${shownPath(ctx, failure.dir)} is not empty and holds no earlier export; choose an empty folder\n`,
          );
          return ExitCode.Usage;
        case 'no-project':
          return ExitCode.Usage;
        default:
          return unreachable(failure);
      }
    }
    const { videos, images, index } = exported.value;
    ctx.stdout.write(
      `sora-build review: exported ${loaded.model.shots.length} shots (${videos} videos, ${images} images) to ${shownPath(ctx, index)}\n`,
    );
    return ExitCode.Ok;
  }

  const host = values.host ?? '127.0.0.1';
  let server;
  try {
    server = await startReviewServer({ review, host, ...(port !== undefined ? { port } : {}) });
  } catch (error) {
    ctx.stderr.write(
      `sora-build review: cannot listen on ${host}:${port ?? 0}: ${(error as Error).message}\n`,
    );
    return ExitCode.Usage;
  }
  try {
    ctx.stdout.write(
      `sora-build review: ${shownPath(ctx, project.manifest.path)} at ${server.url}\n` +
        (isLoopback(host)
          ? ''
          : `warning: ${host} is not a loopback address: anyone who can reach it can open the page and pin takes\n`) +
        'Press Ctrl-C to stop.\n',
    );
    if (values.open === true) openBrowser(server.url);
    if (!ctx.signal.aborted)
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
  } finally {
    await server.close();
  }
  ctx.stdout.write('sora-build review stopped\n');
  return ExitCode.Ok;
}

/** The platform's "open this URL" command, detached; a failure only means the user opens the URL by hand. */
function openBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url]
        : ['xdg-open', url];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener on this machine.
  }
}
