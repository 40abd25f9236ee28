/**
 * Placing a shot's outputs in `out/`: the video, and the extra assets it asks for (a thumbnail, a
 * spritesheet). An asset the sample lacks (the shot asked for a thumbnail later) is downloaded (a download,
 * never a generation) and added to the sample. A write that fails (a full disk, an unwritable `out/`) fails
 * the shot with the path and the error code.
 */
import type { ShotKey } from '../core/brand.ts';
import type { Sha256 } from '../core/brand.ts';
import type { LockEntry, Sample } from '../cache/types.ts';
import { deriveAsset } from '../cache/derive-asset.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { JobContext } from './job-types.ts';
import { downloadVariant } from './download-job.ts';
import { guardLocalIo } from './shot-failure.ts';
import { assetPath } from '../cache/asset-path.ts';
import type { ShotFailure } from './shot-failure.ts';

// Defined beside the store (reroll --take and the review page place assets too, without the engine).
export { assetPath };

/** Returns a failure, or undefined once everything is in place. */
export async function placeOutputs(options: {
  readonly ctx: JobContext;
  readonly shot: ShotConfig;
  readonly key: ShotKey;
  readonly out: string;
  readonly digest: Sha256;
  readonly sample: Sample | null;
  readonly signal: AbortSignal;
}): Promise<ShotFailure | 'interrupted' | undefined> {
  const { ctx, shot, key, out, digest, signal } = options;
  const placed = await place(ctx, digest, out, 'video', options.sample?.videoId ?? null);
  if (placed !== undefined) return placed;
  let current = options.sample;
  for (const variant of shot.assets) {
    if (variant === 'video') continue;
    let assetDigest = current?.assets[variant];
    if ((assetDigest === undefined || !ctx.store.hasObject(assetDigest)) && current !== null) {
      const spec = { shot: shot.id, expected: { size: shot.size, seconds: shot.seconds } };
      let got = await downloadVariant(spec, ctx, current.videoId, variant, signal);
      if (!got.ok && got.gone) {
        // The service no longer has the video, but the store does: make the asset from it, and say so.
        const made = await deriveAsset({ store: ctx.store, video: digest, variant, signal });
        if (made.ok) {
          const { videoId } = current;
          ctx.emit({
            type: 'asset-derived',
            time: ctx.clock.now(),
            shot: shot.id,
            videoId,
            variant,
            ...made.value,
            because: got.failure.message,
          });
          got = { ok: true, ...made.value };
        }
      }
      if (!got.ok) return got.failure;
      assetDigest = got.digest;
      current = { ...current, assets: { ...current.assets, [variant]: got.digest } };
      const sample = current;
      // Best effort: without the record the asset is fetched again next time, which costs nothing.
      await guardLocalIo('recording the asset', sample.videoId, () => ctx.actionCache.addSample(key, sample));
    }
    if (assetDigest === undefined) continue;
    const failed = await place(ctx, assetDigest, assetPath(out, variant), variant, current?.videoId ?? null);
    if (failed !== undefined) return failed;
  }
  return undefined;
}

async function place(
  ctx: JobContext,
  digest: Sha256,
  path: string,
  what: string,
  videoId: Sample['videoId'] | null,
): Promise<ShotFailure | undefined> {
  const placed = await guardLocalIo(`placing the ${what} at ${path}`, videoId, () =>
    ctx.store.materialise(digest, path),
  );
  if (!placed.ok) return placed.failure;
  if (placed.value.ok) return undefined;
  return {
    reason: 'local-io',
    message: `the ${what} ${digest} left the store before it could be placed at ${path}`,
    code: null,
    videoId,
    retryable: true,
    hint: null,
  };
}

/**
 * Downloads a pinned video again by its remote id (a fresh clone, a pruned store): free while the service
 * keeps it. Only the exact pinned bytes are accepted. Returns its sample, or null when it cannot be had.
 */
export async function restorePinned(options: {
  readonly ctx: JobContext;
  readonly shot: ShotConfig;
  readonly key: ShotKey;
  readonly pinned: LockEntry;
  readonly providerName: string;
  readonly signal: AbortSignal;
}): Promise<Sample | null | 'interrupted'> {
  const { ctx, shot, key, pinned, signal } = options;
  const spec = { shot: shot.id, expected: { size: shot.size, seconds: pinned.seconds } };
  const restored = await downloadVariant(spec, ctx, pinned.videoId, 'video', signal, pinned.output);
  if (!restored.ok) return signal.aborted ? 'interrupted' : null;
  const sample: Sample = {
    output: pinned.output,
    bytes: restored.bytes,
    videoId: pinned.videoId,
    provider: options.providerName,
    createdAt: ctx.clock.now(),
    expiresAt: null,
    costUsd: null,
    assets: {},
  };
  // Best effort: the lockfile pins it either way.
  await guardLocalIo('recording the restored video', pinned.videoId, () =>
    ctx.actionCache.addSample(key, sample),
  );
  return sample;
}
