import type { VideoId } from '../core/brand.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import type { ImageMime } from '../manifest/types.ts';

/** The four states of the OpenAI Videos API; other APIs' states are mapped onto these by their adapter. */
export type RemoteStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

/** A provider's view of one generation job, normalised. Times are Unix milliseconds. */
export interface RemoteVideo {
  readonly id: VideoId;
  readonly status: RemoteStatus;
  /** 0-100, or null when the API has no progress figure (Sora 1). */
  readonly progress: number | null;
  readonly createdAt: number;
  readonly completedAt: number | null;
  readonly expiresAt: number | null;
  /** As the service reports it (a deployment name on Azure). */
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  readonly prompt: string | null;
  readonly remixedFrom: VideoId | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** The server's `openai-poll-after-ms` hint, if it sent one. */
  readonly pollAfterMs: number | null;
}

export interface CreateRequest {
  /** The manifest's model name; the provider maps it to a deployment name. */
  readonly model: string;
  readonly prompt: string;
  readonly size: string;
  readonly seconds: number;
  readonly inputReference?: {
    readonly bytes: Uint8Array;
    readonly mime: ImageMime;
    readonly filename: string;
  };
}

export type ContentVariant = 'video' | 'thumbnail' | 'spritesheet';

export interface Download {
  readonly body: ReadableStream<Uint8Array>;
  /** From Content-Length, when the server sent one. */
  readonly contentLength: number | null;
  readonly contentType: string | null;
}

export interface ListOptions {
  readonly order?: 'asc' | 'desc';
  /** Page size. */
  readonly limit?: number;
}

/**
 * One adapter per API shape (design.md section 5). Methods throw `ProviderError` for anything the service or
 * the network did; every method takes an AbortSignal.
 */
export interface VideoProvider {
  /** The config name (`providers.<name>`). */
  readonly name: string;
  readonly family: ProviderFamily;
  /** Starts a generation. Never retried automatically: a retry could pay twice. */
  create(request: CreateRequest, signal?: AbortSignal): Promise<RemoteVideo>;
  remix(parent: VideoId, prompt: string, signal?: AbortSignal): Promise<RemoteVideo>;
  extend(parent: VideoId, prompt: string, seconds: number, signal?: AbortSignal): Promise<RemoteVideo>;
  retrieve(id: VideoId, signal?: AbortSignal): Promise<RemoteVideo>;
  /** All remote videos, following the cursor. */
  list(options?: ListOptions, signal?: AbortSignal): AsyncIterable<RemoteVideo>;
  delete(id: VideoId, signal?: AbortSignal): Promise<void>;
  download(id: VideoId, variant: ContentVariant, signal?: AbortSignal): Promise<Download>;
  /** Releases sockets and, for the embedded emulator, stops the server. */
  close(): Promise<void>;
}

/** Why a provider call failed, as data the scheduler decides on. */
export type ProviderErrorKind =
  /** 429: wait `retryAfterMs` (from retry-after-ms / retry-after) and lower the rate. */
  | 'rate-limited'
  /** 401/403: credentials missing or wrong; not retried. */
  | 'auth'
  /** 404: the id is unknown or the remote video has expired/been deleted. */
  | 'not-found'
  /** 400/409/422: the service refused the request as written; not retried. */
  | 'invalid-request'
  /** The prompt or image was refused by moderation. */
  | 'moderation-blocked'
  /** 5xx. */
  | 'server'
  /** No HTTP response (refused, reset, timeout). See `delivered`. */
  | 'connection';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** The provider's own error code (`moderation_blocked`, `invalid_type`, …). */
  readonly code: string | undefined;
  /** The request parameter the service blamed. */
  readonly param: string | undefined;
  /** For `rate-limited`: how long the server asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /**
   * Whether the request reached the server: `no` only when it provably did not (connection refused before
   * any byte was sent), so a create may be retried; `maybe` means a create must be reconciled through List.
   */
  readonly delivered: 'no' | 'maybe' | 'yes';

  constructor(options: {
    kind: ProviderErrorKind;
    message: string;
    status?: number;
    code?: string;
    param?: string;
    retryAfterMs?: number;
    delivered: 'no' | 'maybe' | 'yes';
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = options.kind;
    this.status = options.status;
    this.code = options.code;
    this.param = options.param;
    this.retryAfterMs = options.retryAfterMs;
    this.delivered = options.delivered;
  }
}
