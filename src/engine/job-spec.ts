/**
 * Building a `JobSpec`: from a planned shot (everything the create sends), or from a journal entry (a job
 * an earlier run left, which is only polled and downloaded, never sent again).
 */
import type { Sha256, ShotKey } from '../core/brand.ts';
import type { ProviderConfig } from '../config/types.ts';
import { providerFamily } from '../config/capabilities.ts';
import type { Manifest, ShotConfig } from '../manifest/types.ts';
import type { LockEntry } from '../cache/types.ts';
import type { JobHandle } from '../provider/job-api.ts';
import type { ShotKeyData } from '../plan/shot-key.ts';
import type { PreparedMedia } from '../plan/prepare-media.ts';
import { generationRequestFor } from './generation-request.ts';
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
  /** The shot's prepared frames, input video and reference images (`computePlan`'s `media`). @default none */
  readonly media?: PreparedMedia | null;
}): Promise<JobSpec | ShotFailure> {
  const { provider, shot, key, keyData, reference } = options;
  const parent = options.parent?.entry ?? null;
  const operation = shot.remixOf !== undefined ? 'remix' : shot.extendOf !== undefined ? 'extend' : 'create';
  const price = priceOf(shot.model, provider.pricing, providerFamily(provider.type));
  const totalSeconds =
    operation === 'extend' && parent !== null ? parent.seconds + shot.seconds : shot.seconds;
  const parentHandle = options.parent?.handle ?? null;
  // Frames, input video, reference images and sampling fields, each file checked against its keyed digest.
  const built = await generationRequestFor({
    shot,
    prompt: keyData.prompt,
    reference,
    media: options.media ?? null,
    ...(operation === 'create' || parentHandle === null
      ? {}
      : { parent: { relation: operation, handle: parentHandle, variant: 0 } }),
  });
  if (!built.ok) {
    return {
      reason: 'reference-image',
      message: built.error.message,
      code: built.error.code,
      videoId: null,
      retryable: false,
      hint: null,
    };
  }
  const request = built.value;
  const variants = request.variants;
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
