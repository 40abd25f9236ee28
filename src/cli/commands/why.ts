/**
 * `sora-build why SHOT [MANIFEST] [--remote]`: which key fields differ between the manifest as it is now and
 * what the lockfile recorded when the shot was last built, as a small diff.
 *
 * The lockfile keeps the prompt only as a digest (it is committed, and prompts may hold `${env:…}` values).
 * To show the OLD prompt text, `why` looks for it, in order: in the local store (the text is stored as a CAS
 * object whose digest is exactly the lockfile's `prompt_sha256`, when the build that made the shot recorded
 * it), then, with `--remote`, in the provider's record of the pinned video (`retrieve`, while the video
 * lives). Otherwise it says the old text was not recorded.
 */
import { readFile } from 'node:fs/promises';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Sha256, ShotId } from '../../core/brand.ts';
import type { LockEntry } from '../../cache/types.ts';
import { variantsOf } from '../../cache/types.ts';
import { Store } from '../../cache/store.ts';
import type { PlannedShot } from '../../plan/plan-types.ts';
import { describeReason } from '../../plan/plan-types.ts';
import { sha256Hex } from '../../plan/shot-key.ts';
import type { ShotConfig } from '../../manifest/types.ts';
import { didYouMean } from '../../manifest/did-you-mean.ts';
import { createProvider } from '../../provider/create-provider.ts';
import {
  MANIFEST_OPTION,
  cliClock,
  loadPlanOrReport,
  parseCommandArgs,
  shownPath,
  splitManifest,
} from '../everyday.ts';

const HELP = `Usage: sora-build why SHOT [MANIFEST] [--remote] [--config PATH] [--provider NAME]

Shows which key fields of SHOT changed since the lockfile pinned its video:
old and new prompt, model, size, seconds, variants, reference image digest, parent output.

Options:
  --remote   ask the provider for the old prompt when it was not recorded locally

MANIFEST (or -m, --manifest PATH) defaults to the config's \`manifest:\`, else storyboard.yaml in the
current folder.

Example (in a project made by \`sora-build init\`):
  npx sora-build why harbor
`;

/** One changed key field. Values are display strings; `undefined` old text means "not recorded". */
export interface FieldChange {
  readonly field:
    | 'key format'
    | 'provider family'
    | 'model'
    | 'prompt'
    | 'size'
    | 'seconds'
    | 'variants'
    | 'reference image'
    | 'parent';
  readonly old: string | undefined;
  readonly new: string;
}

const short = (digest: Sha256 | null): string => (digest === null ? 'none' : `sha256:${digest.slice(0, 12)}`);

/**
 * The key fields of `shot` (as planned now) that differ from `entry` (as locked). Pure. `oldPrompt` is the
 * locked prompt's text when it could be found. For a `blocked` shot the planner cannot know the key data yet
 * (the parent's new video decides it), so the manifest's own fields are compared and the parent is reported
 * as about to change.
 */
export function keyChanges(
  entry: LockEntry,
  planned: PlannedShot,
  shot: ShotConfig,
  oldPrompt: string | undefined,
): FieldChange[] {
  const changes: FieldChange[] = [];
  const data = planned.keyData;
  const now = {
    v: data?.v,
    family: data?.family,
    model: data?.model ?? shot.model,
    prompt: data?.prompt ?? shot.prompt,
    size: data?.size ?? shot.size,
    seconds: data?.seconds ?? shot.seconds,
  };
  if (now.v !== undefined && now.v !== entry.keyFormat)
    changes.push({ field: 'key format', old: String(entry.keyFormat), new: String(now.v) });
  if (now.family !== undefined && now.family !== entry.family)
    changes.push({ field: 'provider family', old: entry.family, new: now.family });
  if (now.model !== entry.model) changes.push({ field: 'model', old: entry.model, new: now.model });
  if (sha256Hex(now.prompt) !== entry.promptSha256)
    changes.push({ field: 'prompt', old: oldPrompt, new: now.prompt });
  if (now.size !== entry.size) changes.push({ field: 'size', old: entry.size, new: now.size });
  if (now.seconds !== entry.seconds)
    changes.push({ field: 'seconds', old: String(entry.seconds), new: String(now.seconds) });
  // The lockfile pins every variant the job made, so their count is what the entry was built with.
  const variantsNow = data?.variants ?? shot.variants;
  const variantsThen = variantsOf(entry).length;
  if (variantsNow !== variantsThen)
    changes.push({ field: 'variants', old: String(variantsThen), new: String(variantsNow) });
  if (data !== null && data.reference !== entry.referenceSha256) {
    const where = shot.inputReference === undefined ? '' : ` (${shot.inputReference.displayPath})`;
    changes.push({
      field: 'reference image',
      old: short(entry.referenceSha256),
      new: `${short(data.reference)}${where}`,
    });
  } else if (data === null && planned.reasons.some((r) => r.startsWith('reference-'))) {
    changes.push({
      field: 'reference image',
      old: short(entry.referenceSha256),
      new: 'changed (digest known after the parent is rebuilt)',
    });
  }
  const oldParent =
    entry.parentRelation === null ? 'none' : `${entry.parentRelation} output ${short(entry.parentOutput)}`;
  if (data === null && planned.blockedBy !== null) {
    changes.push({ field: 'parent', old: oldParent, new: `${planned.blockedBy} will be rebuilt first` });
  } else if (data !== null) {
    const newParent =
      data.parent === null ? 'none' : `${data.parent.relation} output ${short(data.parent.output)}`;
    if (newParent !== oldParent) changes.push({ field: 'parent', old: oldParent, new: newParent });
  }
  return changes;
}

/** The diff as printed: one block per field, `-` old and `+` new. */
export function formatChanges(changes: readonly FieldChange[]): string {
  return changes
    .map((c) => {
      const old = c.old === undefined ? '  (old text not recorded)' : `- ${c.old}`;
      return `  ${c.field}\n    ${old}\n    + ${c.new}\n`;
    })
    .join('');
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommandArgs(
    ctx,
    'why',
    args,
    {
      ...MANIFEST_OPTION,
      remote: { type: 'boolean' },
      config: { type: 'string' },
      provider: { type: 'string' },
    },
    HELP,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const split = splitManifest(ctx, 'why', positionals, values.manifest, HELP, { operands: true });
  if (typeof split === 'number') return split;
  if (split.operands.length !== 1) {
    ctx.stderr.write(
      `sora-build why: expected one SHOT, got ${split.operands.length === 0 ? 'none' : split.operands.map((s) => `'${s}'`).join(', ')}\n\n${HELP}`,
    );
    return ExitCode.Usage;
  }
  const shotArg = split.operands[0]!;
  const loaded = await loadPlanOrReport(ctx, {
    command: 'why',
    manifest: split.manifest,
    config: values.config,
    provider: values.provider,
  });
  if (typeof loaded === 'number') return loaded;
  const { config, manifest, plan } = loaded;
  const id = shotArg as ShotId;
  const shot = manifest.shots.get(id);
  if (shot === undefined) {
    const guess = didYouMean(shotArg, manifest.shots.keys());
    ctx.stderr.write(
      `sora-build why: there is no shot '${shotArg}' in ${shownPath(ctx, manifest.path)}${guess === undefined ? '' : `; did you mean '${guess}'?`}\n`,
    );
    return ExitCode.Usage;
  }
  const planned = plan.byId.get(id)!;
  const lockName = shownPath(ctx, manifest.lockfilePath);
  const entry = planned.lockEntry;
  if (entry === null) {
    ctx.stdout.write(`${id} was never built: ${lockName} has no entry for it.\n`);
    return ExitCode.Ok;
  }
  if (planned.state === 'fresh') {
    ctx.stdout.write(`${id} is fresh: its key matches ${lockName} (${entry.key.slice(0, 12)}).\n`);
    return ExitCode.Ok;
  }
  let oldPrompt: string | undefined;
  const promptNow = planned.keyData?.prompt ?? shot.prompt;
  if (sha256Hex(promptNow) !== entry.promptSha256) {
    oldPrompt = await recordedPrompt(config.cacheDir, entry.promptSha256);
    if (oldPrompt === undefined && values.remote === true) oldPrompt = await remotePrompt(ctx, loaded, entry);
  }
  const changes = keyChanges(entry, planned, shot, oldPrompt);
  const state =
    planned.state === 'cached'
      ? 'changed, but a sample for its new key is cached (the next build re-pins it, no cost)'
      : planned.state === 'blocked'
        ? `blocked until ${planned.blockedBy} is rebuilt`
        : planned.reasons.map(describeReason).join(', ');
  ctx.stdout.write(`${id}: ${state}\n`);
  if (changes.length === 0) {
    const missing = planned.reasons.includes('output-missing');
    ctx.stdout.write(
      missing
        ? `  no key field changed; the pinned video ${entry.output.slice(0, 12)} is not in the local store\n`
        : '  no recorded key field differs (the lockfile entry may have been edited by hand)\n',
    );
  } else {
    ctx.stdout.write(
      `${changes.length} key ${changes.length === 1 ? 'field differs' : 'fields differ'} from ${lockName}:\n`,
    );
    ctx.stdout.write(formatChanges(changes));
  }
  return ExitCode.Ok;
}

/** The prompt text stored in the CAS under its own digest, if a build recorded it. */
async function recordedPrompt(cacheDir: string, digest: Sha256): Promise<string | undefined> {
  const store = Store.open(cacheDir);
  if (!store.hasObject(digest)) return undefined;
  const text = await readFile(store.objectPath(digest), 'utf8').catch(() => undefined);
  return text !== undefined && sha256Hex(text) === digest ? text : undefined;
}

async function remotePrompt(
  ctx: CliContext,
  loaded: { config: { provider: Parameters<typeof createProvider>[0]['config']; cacheDir: string } },
  entry: LockEntry,
): Promise<string | undefined> {
  try {
    const provider = await createProvider({
      config: loaded.config.provider,
      env: ctx.env,
      clock: cliClock(ctx),
      cacheDir: loaded.config.cacheDir,
    });
    try {
      const video = await provider.retrieve(entry.videoId, ctx.signal);
      return video.prompt !== null && sha256Hex(video.prompt) === entry.promptSha256
        ? video.prompt
        : undefined;
    } finally {
      await provider.close();
    }
  } catch {
    return undefined; // gone, offline or unauthorised: the old text simply stays unknown
  }
}
