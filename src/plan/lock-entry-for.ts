import type { ShotId, ShotKey } from '../core/brand.ts';
import type { LockEntry, Sample } from '../cache/types.ts';
import { idAloneFindsJob } from '../provider/job-handle.ts';
import type { ShotKeyData } from './shot-key.ts';
import { sha256Hex, shotKey } from './shot-key.ts';

/**
 * The lockfile entry that pins `sample` as the result of a shot whose key data is `keyData`. The build
 * engine writes exactly this after a generation (or a re-pin of a cached sample), so the next plan finds
 * the shot `fresh`, and can name the changed fields when it is not.
 */
export function lockEntryFor(
  shot: ShotId,
  keyData: ShotKeyData,
  sample: Pick<Sample, 'output' | 'bytes' | 'videoId' | 'handle' | 'variants'>,
): LockEntry {
  const key: ShotKey = shotKey(keyData);
  return {
    shot,
    key,
    output: sample.output,
    bytes: sample.bytes,
    videoId: sample.videoId,
    model: keyData.model,
    size: keyData.size,
    seconds: keyData.seconds,
    keyFormat: keyData.v,
    family: keyData.family,
    promptSha256: sha256Hex(keyData.prompt),
    referenceSha256: keyData.reference,
    parentRelation: keyData.parent?.relation ?? null,
    parentOutput: keyData.parent?.output ?? null,
    // Only what `video_id` cannot say: a lockfile of single-variant shots from the OpenAI/Sora 1 APIs keeps
    // the bytes it had before variants and handles existed.
    ...(sample.variants === undefined
      ? {}
      : { variants: sample.variants.map((v) => ({ output: v.output, bytes: v.bytes })) }),
    ...(sample.handle === undefined || idAloneFindsJob(sample.handle) ? {} : { handle: sample.handle }),
  };
}
