/**
 * Placing a shot's outputs in `out/`: every variant's video, and the extra assets it asks for (a thumbnail,
 * a spritesheet). An asset the sample lacks (the shot asked for a thumbnail later) is downloaded (a
 * download, never a generation) and added to the sample; where the service no longer has it (or never
 * offered one), it is made from the stored video. A write that fails (a full disk, an unwritable `out/`)
 * fails the shot with the path and the error code.
 */
import type { ShotKey } from '../core/brand.ts';
import type { Sha256 } from '../core/brand.ts';
import type { LockEntry, Sample, VariantRecord } from '../cache/types.ts';
import { variantsOf } from '../cache/types.ts';
import { deriveAsset } from '../cache/derive-asset.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { JobHandle } from '../provider/job-api.ts';
import { ProviderError } from '../provider/types.ts';
import type { JobContext } from './job-types.ts';
import { downloadVariant } from './download-job.ts';
import type { VariantResult } from './download-job.ts';
import { outputRefAgain } from './output-refs.ts';
import { guardLocalIo, providerFailure } from './shot-failure.ts';
import { assetPath } from '../cache/asset-path.ts';
import type { ShotFailure } from './shot-failure.ts';

// Defined beside the store (reroll --take and the review page place assets too, without the engine).
export { assetPath };

/** Returns a failure, or undefined once everything is in place. */
export async function placeOutputs(options: {
  readonly ctx: JobContext;
  readonly shot: ShotConfig;
  readonly key: ShotKey;
  /** One path per variant, in index order (see `outputPaths`). */
  readonly outs: readonly string[];
  /** The pinned variants' videos, in index order. */
  readonly videos: readonly Pick<VariantRecord, 'output'>[];
  readonly sample: Sample | null;
  readonly signal: AbortSignal;
}): Promise<ShotFailure | 'interrupted' | undefined> {
  const { ctx, shot, key, outs, videos, signal } = options;
  let current = options.sample;
  for (const [index, video] of videos.entries()) {
    const out = outs[index];
    if (out === undefined)
      throw new Error(`internal error: no output path for variant ${index} of ${shot.id}`);
    const placed = await place(ctx, video.output, out, 'video', current?.videoId ?? null);
    if (placed !== undefined) return placed;
    for (const variant of shot.assets) {
      if (variant === 'video') continue;
      let assetDigest = current === null ? undefined : variantsOf(current)[index]?.assets?.[variant];
      if ((assetDigest === undefined || !ctx.store.hasObject(assetDigest)) && current !== null) {
        const got = await fetchAsset(ctx, shot, current, index, video.output, variant, signal);
        if (got === 'interrupted') return got;
        if (!got.ok) return got.failure;
        assetDigest = got.digest;
        current = withAsset(current, index, variant, got.digest);
        const sample = current;
        // Best effort: without the record the asset is fetched again next time, which costs nothing.
        await guardLocalIo('recording the asset', sample.videoId, () =>
          ctx.actionCache.addSample(key, sample),
        );
      }
      if (assetDigest === undefined) continue;
      const failed = await place(
        ctx,
        assetDigest,
        assetPath(out, variant),
        variant,
        current?.videoId ?? null,
      );
      if (failed !== undefined) return failed;
    }
  }
  return undefined;
}

/** Downloads a missing asset of a recorded sample, or makes it from the stored video when the service cannot. */
async function fetchAsset(
  ctx: JobContext,
  shot: ShotConfig,
  sample: Sample,
  index: number,
  video: Sha256,
  variant: 'thumbnail' | 'spritesheet',
  signal: AbortSignal,
): Promise<Extract<VariantResult, { ok: true }> | Extract<VariantResult, { ok: false }> | 'interrupted'> {
  const spec = { shot: shot.id, expected: { size: shot.size, seconds: shot.seconds } };
  const handle = handleOf(ctx, sample, shot.model);
  let got: VariantResult;
  let because: string;
  try {
    const ref = await outputRefAgain({ ctx, shot: shot.id, handle, index, asset: variant, signal });
    if (ref === 'gone' || ref === null) {
      got = { ok: false, gone: true, failure: goneFailure(sample, variant) };
      because = ref === null ? `the service offers no ${variant} for ${sample.videoId}` : got.failure.message;
    } else {
      got = await downloadVariant(spec, ctx, sample.videoId, ref, signal);
      because = got.ok || got.failure === 'interrupted' ? '' : got.failure.message;
    }
  } catch (error) {
    if (signal.aborted) return 'interrupted';
    if (!(error instanceof ProviderError)) throw error;
    return { ok: false, gone: false, failure: providerFailure(error, sample.videoId) };
  }
  if (!got.ok && got.failure === 'interrupted') return 'interrupted';
  if (!got.ok && got.gone) {
    // The service no longer has the video, but the store does: make the asset from it, and say so.
    const made = await deriveAsset({ store: ctx.store, video, variant, signal });
    if (made.ok) {
      ctx.emit({
        type: 'asset-derived',
        time: ctx.clock.now(),
        shot: shot.id,
        videoId: sample.videoId,
        variant,
        ...made.value,
        because,
      });
      return { ok: true, ...made.value };
    }
  }
  return got;
}

function goneFailure(sample: Sample, variant: string): ShotFailure {
  return {
    reason: 'video-expired',
    message: `the ${variant} of ${sample.videoId} is no longer on the service (expired or deleted) and was not downloaded`,
    code: null,
    videoId: sample.videoId,
    retryable: true,
    hint: 'run the build again to generate it anew',
  };
}

/** `sample` with variant `index`'s `variant` asset set to `digest`. */
function withAsset(
  sample: Sample,
  index: number,
  variant: 'thumbnail' | 'spritesheet',
  digest: Sha256,
): Sample {
  const assets = index === 0 ? { ...sample.assets, [variant]: digest } : sample.assets;
  if (sample.variants === undefined) return { ...sample, assets };
  const variants = sample.variants.map((v, i) =>
    i === index ? { ...v, assets: { ...v.assets, [variant]: digest } } : v,
  );
  return { ...sample, assets, variants };
}

/** The job behind a recorded sample (rebuilt from its id for a record written before handles existed). */
export function handleOf(ctx: JobContext, sample: Sample, model: string): JobHandle {
  return sample.handle ?? ctx.handleFor(sample.videoId, model, sample.createdAt);
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
 * Downloads a pinned job's videos again by its handle (a fresh clone, a pruned store): free while the service
 * keeps them. Only the exact pinned bytes are accepted. Returns its sample, or null when it cannot be had.
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
  const handle = pinned.handle ?? ctx.handleFor(pinned.videoId, pinned.model, null);
  const variants: VariantRecord[] = [];
  for (const [index, variant] of variantsOf(pinned).entries()) {
    let ref;
    try {
      ref = await outputRefAgain({ ctx, shot: shot.id, handle, index, asset: 'video', signal });
    } catch {
      return signal.aborted ? 'interrupted' : null;
    }
    if (ref === 'gone' || ref === null) return null;
    const restored = await downloadVariant(spec, ctx, pinned.videoId, ref, signal, variant.output);
    if (!restored.ok) return signal.aborted ? 'interrupted' : null;
    variants.push({ output: variant.output, bytes: restored.bytes, assets: {} });
  }
  const sample: Sample = {
    output: pinned.output,
    bytes: variants[0]?.bytes ?? pinned.bytes,
    videoId: pinned.videoId,
    provider: options.providerName,
    createdAt: ctx.clock.now(),
    expiresAt: null,
    costUsd: null,
    assets: {},
    ...(pinned.handle === undefined ? {} : { handle: pinned.handle }),
    ...(variants.length > 1 ? { variants } : {}),
  };
  // Best effort: the lockfile pins it either way.
  await guardLocalIo('recording the restored video', pinned.videoId, () =>
    ctx.actionCache.addSample(key, sample),
  );
  return sample;
}
