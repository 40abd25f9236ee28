/**
 * Building a `JobSpec`: from a planned shot (everything the create sends), or from a journal entry (a job
 * an earlier run left, which is only polled and downloaded, never sent again).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Sha256, ShotKey } from '../core/brand.ts';
import type { ProviderConfig } from '../config/types.ts';
import { providerFamily } from '../config/capabilities.ts';
import type { Manifest, ShotConfig } from '../manifest/types.ts';
import type { LockEntry } from '../cache/types.ts';
import type { GenerationRequest, ImageInput, JobHandle } from '../provider/job-api.ts';
import type { ShotKeyData } from '../plan/shot-key.ts';
import { priceOf } from '../plan/plan-build.ts';
import type { PendingIntent } from '../scheduler/journal.ts';
import type { JobSpec } from './job-types.ts';
import type { ShotFailure } from './shot-failure.ts';

/** A reference image as it will be uploaded (after `fit`). */
export interface PreparedReference {
  readonly digest: Sha256;
  readonly path: string;
  readonly mime: 'image/jpeg' | 'image/png' | 'image/webp';
}

export async function jobSpecFor(options: {
  /** The provider that makes the shot. */
  readonly provider: ProviderConfig;
  readonly shot: ShotConfig;
  readonly key: ShotKey;
  readonly keyData: ShotKeyData;
  readonly reference: PreparedReference | null;
  /** The parent's pinned entry and its job, for remix/extend. */
  readonly parent: { readonly entry: LockEntry; readonly handle: JobHandle } | null;
  /** Larger starts first. */
  readonly priority: number;
}): Promise<JobSpec | ShotFailure> {
  const { provider, shot, key, keyData, reference } = options;
  const parent = options.parent?.entry ?? null;
  let firstFrame: ImageInput | undefined;
  if (reference !== null) {
    try {
      const bytes = await readFile(reference.path);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== reference.digest) throw new Error('the file changed after the build was planned');
      const ext = reference.mime.split('/')[1] === 'jpeg' ? 'jpg' : reference.mime.split('/')[1];
      // After `fit` the image has exactly the shot's size (the analyzer refuses any other without `fit`).
      const [width = 0, height = 0] = shot.size.split('x').map(Number);
      firstFrame = { bytes, mime: reference.mime, filename: `${shot.id}.${ext}`, width, height };
    } catch (error) {
      return {
        reason: 'reference-image',
        message: `could not read the reference image ${reference.path}: ${(error as Error).message}`,
        code: (error as { code?: string }).code ?? null,
        videoId: null,
        retryable: false,
        hint: null,
      };
    }
  }
  const operation = shot.remixOf !== undefined ? 'remix' : shot.extendOf !== undefined ? 'extend' : 'create';
  const price = priceOf(shot.model, provider.pricing, providerFamily(provider.type));
  const totalSeconds =
    operation === 'extend' && parent !== null ? parent.seconds + shot.seconds : shot.seconds;
  const parentHandle = options.parent?.handle ?? null;
  const variants = 1;
  const request: GenerationRequest = {
    model: shot.model,
    prompt: keyData.prompt,
    size: shot.size,
    seconds: shot.seconds,
    variants,
    frames: firstFrame === undefined ? [] : [{ image: firstFrame, at: 'first' }],
    referenceImages: [],
    ...(operation === 'create' || parentHandle === null
      ? {}
      : { parent: { relation: operation, handle: parentHandle, variant: 0 } }),
  };
  return {
    shot: shot.id,
    provider: provider.name,
    key,
    operation,
    request,
    parent: parentHandle,
    expected: { size: shot.size, seconds: totalSeconds },
    priority: options.priority,
    // Each variant is a video the service bills for.
    costUsd: price === null ? null : price * shot.seconds * variants,
    assets: shot.assets.filter((a): a is 'thumbnail' | 'spritesheet' => a !== 'video'),
  };
}

/** The spec of a job an earlier run left in the journal: enough to poll and download it. */
export function resumedSpec(
  pending: PendingIntent,
  manifest: Manifest,
  handleFor: (videoId: string, model: string, createdAt: number | null) => JobHandle,
): JobSpec {
  const { intent } = pending;
  const shot = manifest.shots.get(intent.shot);
  const parentId = intent.request.parentVideoId;
  return {
    shot: intent.shot,
    provider: intent.provider,
    key: intent.key,
    operation: intent.request.operation,
    // Never sent again: a resumed job is only polled and downloaded.
    request: {
      model: intent.request.model,
      prompt: '',
      size: intent.request.size,
      seconds: intent.request.seconds,
      variants: 1,
      frames: [],
      referenceImages: [],
    },
    parent: parentId === null ? null : handleFor(parentId, intent.request.model, null),
    expected: { size: intent.request.size, seconds: intent.request.seconds },
    priority: Number.MAX_SAFE_INTEGER,
    costUsd: null,
    assets: (shot?.assets ?? []).filter((a): a is 'thumbnail' | 'spritesheet' => a !== 'video'),
  };
}
