import type { ProviderFamily } from '../config/capabilities.ts';
import type { ProviderType } from '../config/types.ts';

/**
 * The provider interface every adapter implements (issue 13; spec/successor-apis.md section 5): submit → a
 * persistable handle, poll(handle) → a normalised state, fetch(outputRef) → bytes. The engine knows nothing
 * else about an API. `VideoProvider` in types.ts is the older, OpenAI-shaped interface; adapters move onto
 * this one and it goes away once nothing uses it.
 *
 * Money rules an adapter keeps:
 * - `submit` sends at most one billable request and never retries it (an SDK's own retries are off for it);
 * - the handle it returns is plain JSON, complete enough that any process can poll, fetch and cancel the job
 *   from it alone (the journal writes it before the first poll);
 * - only the service ends a job: a network failure, a 5xx or an unreadable answer is a thrown ProviderError
 *   (the engine retries the read), never a `failed` state.
 */

/** JSON the journal can write and read back unchanged. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One remote job, as written to the journal and the lockfile. Never holds a secret. */
export interface JobHandle {
  /** The adapter type that made it (`openai`, `azure-sora1`, `vertex-veo`, `runway`, `fal`, …). */
  readonly type: ProviderType;
  /** The provider's config name (`providers.<name>`); a pool records the member that took the job. */
  readonly provider: string;
  /**
   * The upstream id: an OpenAI video id, a Sora 1 job id, the full Vertex operation name
   * (`projects/…/locations/…/publishers/google/models/…/operations/…`), a Runway task id, a fal request id.
   */
  readonly id: string;
  /** The model string sent (after the deployment map). */
  readonly model: string;
  /** Unix ms, from the service when it says, else the local clock at submit. */
  readonly createdAt: number;
  /** Adapter-specific facts needed to resume (fal's endpoint id, Vertex's resource name, an API version). */
  readonly extra?: { readonly [key: string]: JsonValue };
}

export type OutputAsset = 'video' | 'thumbnail' | 'spritesheet';

/** Where one output's bytes are. `expiresAt` (Unix ms) when known: fetch before it, at once. */
export type OutputRef =
  /** Through the API's own authenticated content endpoint (OpenAI `/videos/{id}/content`, Sora 1 generations). */
  | {
      readonly kind: 'content';
      readonly handle: JobHandle;
      /** Variant index, 0-based (Sora 1 `generations[i]`). */
      readonly index: number;
      readonly asset: OutputAsset;
      /** Adapter-specific locator (a Sora 1 generation id). */
      readonly ref?: string;
      readonly expiresAt: number | null;
    }
  /** A signed URL fetched without credentials (Runway, fal). */
  | {
      readonly kind: 'url';
      readonly url: string;
      readonly asset: OutputAsset;
      readonly expiresAt: number | null;
    }
  /** Bytes that came in the poll answer (Vertex `bytesBase64Encoded`): not persisted, poll again to get them. */
  | {
      readonly kind: 'inline';
      readonly bytes: Uint8Array;
      readonly mime: string;
      readonly asset: OutputAsset;
    }
  /** A `gs://` URI: refused with a clear message unless the user configured a way to read it. */
  | { readonly kind: 'gcs'; readonly uri: string; readonly asset: OutputAsset };

/** One variant (sample) of a finished job: its video and whatever extra assets the API offers. */
export interface VariantOutput {
  /** 0-based. */
  readonly index: number;
  readonly video: OutputRef;
  readonly thumbnail?: OutputRef;
  readonly spritesheet?: OutputRef;
}

/** Why the service ended a job. Only these end a paid job; see the module comment. */
export type JobFailureKind =
  /** Moderation / RAI filtering (Veo's raiMediaFilteredCount, Runway SAFETY codes, a gateway's empty completion). */
  | 'safety'
  /** The service refused the request as written. */
  | 'invalid'
  /** Out of credits or quota for good (not a 429, which is retried). */
  | 'quota'
  /** The service failed it (an internal error, cancelled by someone). */
  | 'upstream'
  /** The job or its outputs no longer exist (expired, deleted). */
  | 'gone';

export type JobState =
  | {
      readonly state: 'queued' | 'running';
      /** 0-100, null when the API has no figure. */
      readonly progress: number | null;
      /** The service's hint for the next poll, ms. */
      readonly pollAfterMs: number | null;
    }
  | {
      readonly state: 'succeeded';
      /** One entry per variant, in index order; never empty (an empty success is `failed`/`safety`). */
      readonly outputs: readonly VariantOutput[];
      readonly completedAt: number | null;
      /** When the outputs stop being downloadable, Unix ms. */
      readonly expiresAt: number | null;
      /** Facts the service reported about what it made (duration snapped to its set, a seed it chose). */
      readonly seconds?: number;
    }
  | {
      readonly state: 'failed';
      readonly kind: JobFailureKind;
      /** The service's own code (`moderation_blocked`, `SAFETY.INPUT.TEXT`, …). */
      readonly code: string;
      /** Plain words for the user, with the service's reasons (Veo's raiMediaFilteredReasons). */
      readonly message: string;
    }
  /** A status string the adapter does not know (a gateway's `processing`): keep polling, show it. */
  | { readonly state: 'unknown'; readonly raw: string };

/** An image sent with a request, after crop/fit: these exact bytes are hashed into the shot key. */
export interface ImageInput {
  readonly bytes: Uint8Array;
  readonly mime: 'image/jpeg' | 'image/png' | 'image/webp';
  readonly filename: string;
  readonly width: number;
  readonly height: number;
}

/** Where a frame goes: the first or last frame of the video, or a 0-based frame index. */
export type FramePosition = 'first' | 'last' | number;

/** A crop as fractions of the source (0-1), as Sora 1's `crop_bounds` takes it. */
export interface CropBounds {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** Everything one generation asks for, fully resolved. Optional fields are absent when the shot does not set them. */
export interface GenerationRequest {
  /** The manifest's model name; the adapter maps it (deployments) and translates sizes/durations. */
  readonly model: string;
  readonly prompt: string;
  /** Pixels, `WxH`, as in the manifest; an adapter that thinks in aspect ratio + tier translates. */
  readonly size: string;
  readonly seconds: number;
  /** Samples from this one request. @default 1 */
  readonly variants: number;
  /** Images at positions (`input_reference` is a first frame). */
  readonly frames: readonly {
    readonly image: ImageInput;
    readonly at: FramePosition;
    readonly crop?: CropBounds;
  }[];
  /** Sora 1: one video of at most 5 s. */
  readonly inputVideo?: {
    readonly bytes: Uint8Array;
    readonly mime: string;
    readonly filename: string;
    readonly at: number;
    readonly crop?: CropBounds;
  };
  /** Style/asset anchors (Veo: up to three). */
  readonly referenceImages: readonly ImageInput[];
  readonly negativePrompt?: string;
  readonly seed?: number;
  /** Generate sound; absent = the model's default. */
  readonly audio?: boolean;
  /** For remix/extend: the parent job and which of its variants. */
  readonly parent?: {
    readonly relation: 'remix' | 'extend';
    readonly handle: JobHandle;
    readonly variant: number;
  };
}

export interface SubmitOptions {
  /**
   * Stable per intent (the journal's intent id): sent as an idempotency key where the API takes one, so a
   * resend after a lost response cannot pay twice there.
   */
  readonly idempotencyKey: string;
  readonly signal?: AbortSignal;
}

/** A job found by `list`, for reconciling a create whose response was lost. */
export interface ListedJob {
  readonly handle: JobHandle;
  readonly model: string;
  readonly size: string | null;
  readonly seconds: number | null;
  readonly prompt: string | null;
  /** The parent job's upstream id, for a remix/extension. */
  readonly parentId: string | null;
}

export interface FetchedOutput {
  readonly body: ReadableStream<Uint8Array>;
  readonly contentLength: number | null;
  readonly contentType: string | null;
}

export interface JobProvider {
  readonly name: string;
  readonly type: ProviderType;
  /** Enters the shot key (see capabilities.ts). */
  readonly family: ProviderFamily;
  /** Sends the one billable request. Returns the handle and the state the service answered with. */
  submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }>;
  poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState>;
  fetch(output: OutputRef, signal?: AbortSignal): Promise<FetchedOutput>;
  /** Stops a job (Runway's task delete, fal's cancel). Absent where the API has none (Veo). */
  cancel?(handle: JobHandle, signal?: AbortSignal): Promise<void>;
  /**
   * Recent jobs, newest first, for reconciliation. Absent where the API cannot list (Veo, Runway, fal): a
   * create whose response was lost there is reported as `unreconciled`, never resent blindly.
   */
  list?(signal?: AbortSignal): AsyncIterable<ListedJob>;
  /** Deletes a remote job and its outputs where the API allows it. */
  delete?(handle: JobHandle, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
