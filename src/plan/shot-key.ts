import { createHash } from 'node:crypto';
import type { Sha256, ShotKey } from '../core/brand.ts';
import { asSha256, asShotKey } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { ParentRelation } from '../graph/shot-graph.ts';
import { canonicalJson } from './canonical-json.ts';

/**
 * Bumped whenever the meaning or shape of `ShotKeyData` changes, so every old key stops matching and the
 * plan says `key format changed` instead of silently reusing a video made under other rules.
 */
export const KEY_FORMAT_VERSION = 1;

/**
 * Everything that can change the pixels of a shot, and nothing else (design.md section 4). The shot key is
 * the sha256 of the canonical JSON of this object (sorted keys, no whitespace), so field order in the
 * manifest, map iteration order and YAML formatting can never change a key.
 *
 * Deliberately NOT in the key, because none of them changes what the provider generates:
 * - the shot id (renaming a shot must not pay for it again),
 * - the output path (moving a file is a copy from the store),
 * - the assets list (fetching a missing thumbnail is a download, not a generation),
 * - the endpoint URL, deployment names and credentials (the same model behind another resource or key
 *   renders the same thing; and secrets must never reach a file).
 */
export interface ShotKeyData {
  /** Key format version: a change of these rules invalidates every key at once. */
  readonly v: number;
  /**
   * Provider family (`openai-videos`, `azure-sora1`, `emulator`), not the provider's config name: the
   * emulator's placeholder videos must never satisfy a real build, and Sora 1 and Sora 2 are different
   * generators, but two Azure resources serving the same API are interchangeable.
   */
  readonly family: ProviderFamily;
  /** The model as written in the manifest (`sora-2`, `sora-2-pro`): different models, different pixels. */
  readonly model: string;
  /** The prompt after `${var}` / `${env:NAME}` interpolation: exactly what is sent, so a var edit rebuilds. */
  readonly prompt: string;
  /** `WxH`: resolution and orientation are part of the request. */
  readonly size: string;
  /** Duration in whole seconds (for `extend_of`, the seconds added). */
  readonly seconds: number;
  /**
   * sha256 of the reference image's bytes *as uploaded*, i.e. after `fit` (cover/contain) resized it, or
   * null without one. The uploaded bytes are what the model sees: a new crop is a new first frame, while
   * renaming or touching the file changes nothing.
   */
  readonly reference: Sha256 | null;
  /**
   * For `remix_of` / `extend_of`: which relation (a remix and an extension of the same video differ) and
   * the sha256 of the parent's chosen *output video*, not the parent's key, so rerolling the parent
   * (same key, new sample) rebuilds the child. null for a shot generated from scratch.
   */
  readonly parent: { readonly relation: ParentRelation; readonly output: Sha256 } | null;
}

export interface ShotKeyInputs {
  readonly shot: Pick<ShotConfig, 'model' | 'prompt' | 'size' | 'seconds'>;
  readonly family: ProviderFamily;
  /** Digest of the prepared (post-fit) reference image, null when the shot has none. */
  readonly referenceDigest: Sha256 | null;
  /** The parent edge and the parent's chosen output digest; null when the shot has no parent. */
  readonly parent: { readonly relation: ParentRelation; readonly output: Sha256 } | null;
}

/** Assembles the key data of a shot. Seconds are normalised to a number (`"8"` and `8` are one request). */
export function shotKeyData(inputs: ShotKeyInputs): ShotKeyData {
  return {
    v: KEY_FORMAT_VERSION,
    family: inputs.family,
    model: inputs.shot.model,
    prompt: inputs.shot.prompt,
    size: inputs.shot.size,
    seconds: Number(inputs.shot.seconds),
    reference: inputs.referenceDigest,
    parent:
      inputs.parent === null ? null : { relation: inputs.parent.relation, output: inputs.parent.output },
  };
}

/** The shot key: lowercase hex sha256 of the canonical JSON of the key data. */
export function shotKey(data: ShotKeyData): ShotKey {
  return asShotKey(sha256Hex(canonicalJson(data)));
}

/** sha256 of a string's UTF-8 bytes; the lockfile keeps prompts only as this digest. */
export function sha256Hex(text: string): Sha256 {
  return asSha256(createHash('sha256').update(text, 'utf8').digest('hex'));
}
