/**
 * `sora-build videos list | delete | download | prune`: housekeeping of the provider's remote videos.
 *
 * `prune` is a subcommand rather than `delete --prune`: it takes no ids, asks its own question and has its
 * own safety rules, so mixing it into `delete` would make `delete`'s meaning depend on a flag.
 * Prune deletes finished (completed or failed) remote videos that no lockfile of the project pins. By default
 * it only considers videos this project generated (recorded in its action cache), because one API key is
 * often shared by several projects and another project's pinned videos must not vanish; `--all` widens it to
 * every finished video the key can see. Jobs still queued or rendering are never touched (a build may be
 * waiting for them).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  cliClock,
  confirm,
  formatTable,
  formatTimestamp,
  loadConfigOrReport,
  parseCommandArgs,
  printDiagnostics,
  shownPath,
} from '../everyday.ts';
import type { ProjectConfig } from '../../config/types.ts';
import type { LockReference } from '../../cache/gc.ts';
import { readProjectReferences } from '../../cache/gc.ts';
import type { VideoId } from '../../core/brand.ts';
import { asVideoId } from '../../core/brand.ts';
import { createProvider } from '../../provider/create-provider.ts';
import type { ContentVariant, RemoteVideo, VideoProvider } from '../../provider/types.ts';
import { ProviderError } from '../../provider/types.ts';

const HELP = `Usage:
  sora-build videos list [--json] [--page-size N]
  sora-build videos delete ID...
  sora-build videos download ID [--variant video|thumbnail|spritesheet] [-o FILE]
  sora-build videos prune [--yes] [--all] [--dry-run]

The provider's remote videos. "used by" names the lockfile entries that pin a video.
prune deletes finished videos no lockfile pins; by default only those this project
generated (--all: every video the credentials can see). It asks first on a terminal
and refuses (exit 3) without --yes when stdin is not a terminal.

Options:
  --config PATH      sora.config.yaml to use (default: found from the current folder)
  --provider NAME    provider from the config (default: the config's provider)

Example (in a project made by \`sora-build init\`):
  npx sora-build videos list
`;

const VARIANT_EXTENSION: Readonly<Record<ContentVariant, string>> = {
  video: '.mp4',
  thumbnail: '.webp',
  spritesheet: '.jpg',
};

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'videos',
    args,
    {
      json: { type: 'boolean' },
      'page-size': { type: 'string' },
      variant: { type: 'string' },
      output: { type: 'string', short: 'o' },
      yes: { type: 'boolean', short: 'y' },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, ...ids] = positionals;
  const usage = (problem: string): number => {
    ctx.stderr.write(`sora-build videos: ${problem}\n\n${HELP}`);
    return ExitCode.Usage;
  };
  if (sub === undefined) return usage('expected a subcommand: list, delete, download or prune');
  if (!['list', 'delete', 'download', 'prune'].includes(sub))
    return usage(`unknown subcommand '${sub}'; expected list, delete, download or prune`);
  if ((sub === 'list' || sub === 'prune') && ids.length > 0)
    return usage(`'${sub}' takes no ids, got ${ids.join(' ')}`);
  if (sub === 'delete' && ids.length === 0) return usage('delete needs at least one video id');
  if (sub === 'download' && ids.length !== 1) return usage('download needs exactly one video id');
  let pageSize = 100;
  if (values['page-size'] !== undefined) {
    pageSize = Number(values['page-size']);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
      return usage(`expected --page-size to be an integer from 1 to 100, got ${values['page-size']}`);
  }
  let variant: ContentVariant = 'video';
  if (values.variant !== undefined) {
    if (!(values.variant in VARIANT_EXTENSION))
      return usage(`expected --variant to be video, thumbnail or spritesheet, got ${values.variant}`);
    variant = values.variant as ContentVariant;
  }

  const project = await loadConfigOrReport(ctx, {
    command: 'videos',
    config: values.config,
    provider: values.provider,
  });
  if (typeof project === 'number') return project;
  const refs = await readProjectReferences({
    root: project.config.root,
    exclude: [project.config.outDir, project.config.cacheDir],
    extraLockfiles: [project.defaultLockfile],
  });
  if (!refs.ok) {
    printDiagnostics(ctx, 'videos', refs.error);
    return ExitCode.Usage;
  }

  let provider: VideoProvider;
  try {
    provider = await createProvider({
      config: project.config.provider,
      env: ctx.env,
      clock: cliClock(ctx),
      cacheDir: project.config.cacheDir,
    });
  } catch (error) {
    ctx.stderr.write(`sora-build videos: ${ctx.redact((error as Error).message)}\n`);
    return ExitCode.Usage;
  }
  try {
    const pinned = refs.value.pinnedVideos;
    switch (sub) {
      case 'list':
        return await list(ctx, provider, project, pinned, { json: values.json === true, pageSize });
      case 'delete':
        return await deleteVideos(ctx, provider, ids.map(asVideoId), pinned);
      case 'download':
        return await download(ctx, provider, asVideoId(ids[0]!), variant, values.output);
      default:
        return await prune(ctx, provider, project, pinned, {
          yes: values.yes === true,
          all: values.all === true,
          dryRun: values['dry-run'] === true,
        });
    }
  } catch (error) {
    if (error instanceof ProviderError) {
      ctx.stderr.write(`sora-build videos: ${ctx.redact(error.message)}\n`);
      return ExitCode.Failed;
    }
    throw error;
  } finally {
    await provider.close();
  }
}

function usedBy(ctx: CliContext, refs: readonly LockReference[] | undefined): string {
  if (refs === undefined) return '-';
  return refs.map((r) => `${r.shot} (${shownPath(ctx, r.lockfile)})`).join(', ');
}

async function list(
  ctx: CliContext,
  provider: VideoProvider,
  project: { config: ProjectConfig },
  pinned: ReadonlyMap<VideoId, readonly LockReference[]>,
  options: { json: boolean; pageSize: number },
): Promise<number> {
  const videos: RemoteVideo[] = [];
  for await (const v of provider.list({ order: 'desc', limit: options.pageSize }, ctx.signal)) videos.push(v);
  const generated = await generatedVideoIds(project.config.cacheDir);
  if (options.json) {
    const rows = videos.map((v) => ({
      id: v.id,
      status: v.status,
      progress: v.progress,
      model: v.model,
      size: v.size,
      seconds: v.seconds,
      createdAt: new Date(v.createdAt).toISOString(),
      expiresAt: v.expiresAt === null ? null : new Date(v.expiresAt).toISOString(),
      usedBy: (pinned.get(v.id) ?? []).map((r) => ({ lockfile: shownPath(ctx, r.lockfile), shot: r.shot })),
      generatedHere: generated.has(v.id),
    }));
    ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.Ok;
  }
  if (videos.length === 0) {
    ctx.stdout.write(`No remote videos on provider '${provider.name}'.\n`);
    return ExitCode.Ok;
  }
  const rows = videos.map((v) => [
    v.id,
    v.status === 'in_progress' && v.progress !== null ? `in_progress ${v.progress}%` : v.status,
    v.model,
    v.size,
    String(v.seconds),
    formatTimestamp(v.createdAt),
    formatTimestamp(v.expiresAt),
    usedBy(ctx, pinned.get(v.id)),
  ]);
  ctx.stdout.write(
    formatTable(
      ['id', 'status', 'model', 'size', 'secs', 'created (UTC)', 'expires (UTC)', 'used by'],
      rows,
      [4],
    ),
  );
  const used = videos.filter((v) => pinned.has(v.id)).length;
  ctx.stdout.write(
    `\n${videos.length} remote video${videos.length === 1 ? '' : 's'} on provider '${provider.name}', ${used} pinned by a lockfile\n`,
  );
  return ExitCode.Ok;
}

async function deleteVideos(
  ctx: CliContext,
  provider: VideoProvider,
  ids: readonly VideoId[],
  pinned: ReadonlyMap<VideoId, readonly LockReference[]>,
): Promise<number> {
  const notFound: VideoId[] = [];
  const failed: string[] = [];
  for (const id of [...new Set(ids)]) {
    try {
      await provider.delete(id, ctx.signal);
      ctx.stdout.write(`deleted ${id}\n`);
      const refs = pinned.get(id);
      if (refs !== undefined)
        ctx.stderr.write(
          `warning: ${id} was pinned by ${usedBy(ctx, refs)}; the local copy stays, but remix_of/extend_of children of that shot need a new remote parent (reroll it)\n`,
        );
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'not-found') notFound.push(id);
      else if (error instanceof ProviderError) failed.push(`${id}: ${ctx.redact(error.message)}`);
      else throw error;
    }
  }
  if (notFound.length > 0)
    ctx.stderr.write(
      `sora-build videos: not found (already deleted, expired or unknown): ${notFound.join(', ')}\n`,
    );
  for (const f of failed) ctx.stderr.write(`sora-build videos: could not delete ${f}\n`);
  return notFound.length + failed.length > 0 ? ExitCode.Failed : ExitCode.Ok;
}

async function download(
  ctx: CliContext,
  provider: VideoProvider,
  id: VideoId,
  variant: ContentVariant,
  output: string | undefined,
): Promise<number> {
  const dest = path.resolve(
    ctx.cwd,
    output ?? `${id}${variant === 'video' ? '' : `.${variant}`}${VARIANT_EXTENSION[variant]}`,
  );
  let body;
  try {
    body = await provider.download(id, variant, ctx.signal);
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'not-found') {
      ctx.stderr.write(`sora-build videos: ${id} not found (already deleted, expired or unknown)\n`);
      return ExitCode.Failed;
    }
    throw error;
  }
  // Atomic: the bytes go to a temp file beside the destination and are renamed only when complete, so an
  // interrupted download never leaves a truncated file under the requested name.
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.part`);
  let bytes = 0;
  try {
    const source = Readable.fromWeb(body.body);
    source.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
    await pipeline(source, createWriteStream(tmp, { flags: 'wx' }), { signal: ctx.signal });
    if (body.contentLength !== null && bytes !== body.contentLength) {
      ctx.stderr.write(
        `sora-build videos: download of ${id} was cut short: ${bytes} of ${body.contentLength} bytes; nothing written\n`,
      );
      return ExitCode.Failed;
    }
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
  ctx.stdout.write(`downloaded ${id} (${variant}, ${bytes} bytes) to ${shownPath(ctx, dest)}\n`);
  return ExitCode.Ok;
}

async function prune(
  ctx: CliContext,
  provider: VideoProvider,
  project: { config: ProjectConfig },
  pinned: ReadonlyMap<VideoId, readonly LockReference[]>,
  options: { yes: boolean; all: boolean; dryRun: boolean },
): Promise<number> {
  if (!options.yes && !options.dryRun && ctx.stdin.isTTY !== true) {
    ctx.stderr.write(
      'sora-build videos: prune deletes remote videos; stdin is not a terminal, so pass --yes to confirm (or --dry-run to see what it would delete)\n',
    );
    return ExitCode.Policy;
  }
  const generated = await generatedVideoIds(project.config.cacheDir);
  const candidates: RemoteVideo[] = [];
  let running = 0;
  let keptForeign = 0;
  for await (const v of provider.list({ order: 'asc' }, ctx.signal)) {
    if (pinned.has(v.id)) continue;
    if (v.status === 'queued' || v.status === 'in_progress') running++;
    else if (!options.all && !generated.has(v.id)) keptForeign++;
    else candidates.push(v);
  }
  const notes: string[] = [];
  if (running > 0) notes.push(`${running} still rendering`);
  if (keptForeign > 0) notes.push(`${keptForeign} not generated by this project (--all includes them)`);
  const kept = notes.length > 0 ? ` (kept: ${notes.join(', ')})` : '';
  if (candidates.length === 0) {
    ctx.stdout.write(`Nothing to prune: every finished remote video is pinned by a lockfile${kept}.\n`);
    return ExitCode.Ok;
  }
  ctx.stdout.write(
    formatTable(
      ['id', 'status', 'model', 'size', 'created (UTC)'],
      candidates.map((v) => [v.id, v.status, v.model, v.size, formatTimestamp(v.createdAt)]),
    ),
  );
  const what = `${candidates.length} remote video${candidates.length === 1 ? '' : 's'} no lockfile pins${kept}`;
  if (options.dryRun) {
    ctx.stdout.write(`\nWould delete ${what}.\n`);
    return ExitCode.Ok;
  }
  if (!options.yes && !(await confirm(ctx, `\nDelete ${what}?`))) {
    ctx.stdout.write('Nothing deleted.\n');
    return ExitCode.Ok;
  }
  let deleted = 0;
  const problems: string[] = [];
  for (const v of candidates) {
    try {
      await provider.delete(v.id, ctx.signal);
      deleted++;
    } catch (error) {
      // Gone meanwhile (expired, or deleted by another process) is what we wanted.
      if (error instanceof ProviderError && error.kind === 'not-found') deleted++;
      else if (error instanceof ProviderError) problems.push(`${v.id}: ${ctx.redact(error.message)}`);
      else throw error;
    }
  }
  ctx.stdout.write(`Deleted ${deleted} remote video${deleted === 1 ? '' : 's'}.\n`);
  for (const p of problems) ctx.stderr.write(`sora-build videos: could not delete ${p}\n`);
  return problems.length > 0 ? ExitCode.Failed : ExitCode.Ok;
}

/** Remote ids this project generated: every sample recorded in its action cache (`ac/<2 hex>/<key>.json`). */
async function generatedVideoIds(cacheDir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const acDir = path.join(cacheDir, 'ac');
  const shards = await readdir(acDir).catch(() => [] as string[]);
  for (const shard of shards) {
    const files = await readdir(path.join(acDir, shard)).catch(() => [] as string[]);
    for (const f of files) {
      if (!f.endsWith('.json')) continue;
      try {
        const entry = JSON.parse(await readFile(path.join(acDir, shard, f), 'utf8')) as {
          samples?: { videoId?: unknown }[];
        };
        for (const s of entry.samples ?? []) if (typeof s.videoId === 'string') ids.add(s.videoId);
      } catch {
        // An unreadable entry only narrows what a default prune considers ours: the safe direction.
      }
    }
  }
  return ids;
}
