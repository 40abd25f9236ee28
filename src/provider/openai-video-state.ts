/**
 * What an OpenAI-shaped `/videos` answer means, whoever sent it: OpenAI, Azure, or a compatible gateway
 * (LiteLLM, new-api/one-api) in front of another model (spec/successor-apis.md section 2.3). Pure: no SDK, no
 * network; the `openai` adapter and the engine's `JobProvider` view both read answers through here.
 *
 * What a gateway does that OpenAI does not, and what we make of it:
 * - statuses beyond the four: `processing` (LiteLLM, Veo), `unknown` (new-api, for NOT_START), `cancelled`
 *   (LiteLLM after a delete), `expired`, and upper-case task states (`NOT_START`, `IN_PROGRESS`, `SUCCESS`,
 *   `FAILURE`) from one-api forks. Only `failed`, `cancelled` and `expired` (and their spellings) end a job; a
 *   status nobody knows keeps it polling (`unknown`), never ends it: only the service ends a paid job.
 * - "completed" with no video (Veo's safety filter seen through LiteLLM or new-api): the answer looks like a
 *   success and only the content request fails. `contentProbeFailure` turns that failure into `failed`/`safety`
 *   so it is not retried forever; a gateway provider probes the content once before calling a job done.
 * - ids of any shape (`video_<base64>` with `+/=`, `task_<32>`, base64url operation names): never parsed,
 *   persisted verbatim as the create answered them (the id a gateway echoes on a later read can differ).
 * - `progress` as a number, a `"50%"` string, or absent.
 */
import { unreachable } from '../core/unreachable.ts';
import type {
  JobFailureKind,
  JobHandle,
  JobState,
  OutputAsset,
  OutputRef,
  VariantOutput,
} from './job-api.ts';
import { isModerationCode } from './moderation-codes.ts';
import type { ProviderError } from './types.ts';

/** The fields of an OpenAI-shaped video answer this module reads; every one may be missing or oddly typed. */
export interface VideoAnswer {
  readonly status?: unknown;
  readonly progress?: unknown;
  readonly error?: unknown;
  readonly completed_at?: unknown;
  readonly expires_at?: unknown;
  readonly seconds?: unknown;
}

/** A status string, normalised (see STATUS_WORDS). */
export type VideoPhase = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'expired';

/**
 * Every spelling seen on an OpenAI-shaped route, lower-cased with `-`/space as `_`. new-api's `unknown` is
 * its word for NOT_START (a task not yet handed upstream), so it is queued, not a mystery.
 */
const STATUS_WORDS: Readonly<Record<string, VideoPhase>> = {
  queued: 'queued',
  submitted: 'queued',
  pending: 'queued',
  not_start: 'queued',
  not_started: 'queued',
  unknown: 'queued',
  throttled: 'queued',
  waiting: 'queued',
  in_progress: 'running',
  processing: 'running',
  running: 'running',
  generating: 'running',
  started: 'running',
  completed: 'completed',
  complete: 'completed',
  succeeded: 'completed',
  success: 'completed',
  succeed: 'completed',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  expired: 'expired',
};

/** The phase a status string names, or undefined for one nobody has seen (keep polling, show it). */
export function videoPhase(status: unknown): VideoPhase | undefined {
  if (typeof status !== 'string') return undefined;
  const word = status
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return Object.hasOwn(STATUS_WORDS, word) ? STATUS_WORDS[word] : undefined;
}

/** What one answer says about its job, before output references are attached. */
export type VideoReading =
  | { readonly phase: 'queued' | 'running'; readonly progress: number | null }
  | {
      readonly phase: 'completed';
      readonly completedAt: number | null;
      readonly expiresAt: number | null;
      readonly seconds: number | null;
    }
  | {
      readonly phase: 'failed';
      readonly kind: JobFailureKind;
      readonly code: string;
      readonly message: string;
    }
  | { readonly phase: 'unknown'; readonly raw: string };

/** Error codes that mean the account, not the request, ran out (not a 429, which is retried). */
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);

/** Reads an answer. Times are Unix ms (the wire has seconds). */
export function readVideoAnswer(answer: VideoAnswer): VideoReading {
  const phase = videoPhase(answer.status);
  const error = errorOf(answer.error);
  switch (phase) {
    case undefined:
      return {
        phase: 'unknown',
        raw: typeof answer.status === 'string' ? answer.status : String(answer.status),
      };
    case 'queued':
    case 'running':
      return { phase, progress: progressOf(answer.progress) };
    case 'completed':
      // A completion that carries an error is the gateway saying the job failed after all (LiteLLM reports a
      // done Veo operation with an error as `completed`).
      if (error !== null) return failure(error.code ?? 'failed', error.message);
      return {
        phase: 'completed',
        completedAt: unixMs(answer.completed_at),
        expiresAt: unixMs(answer.expires_at),
        seconds: secondsOf(answer.seconds),
      };
    case 'failed':
      return failure(error?.code ?? 'failed', error?.message ?? 'the job failed without a message');
    case 'cancelled':
      return {
        phase: 'failed',
        kind: 'upstream',
        code: error?.code ?? 'cancelled',
        message: error?.message ?? 'the service reports the job cancelled',
      };
    case 'expired':
      return {
        phase: 'failed',
        kind: 'gone',
        code: error?.code ?? 'expired',
        message: error?.message ?? 'the service reports the job expired before its video was fetched',
      };
    default:
      return unreachable(phase);
  }
}

function failure(code: string, message: string): VideoReading {
  const kind: JobFailureKind = isModerationCode(code)
    ? 'safety'
    : QUOTA_CODES.has(code.toLowerCase())
      ? 'quota'
      : 'upstream';
  return { phase: 'failed', kind, code, message };
}

/**
 * The normalised JobState of an answer. A completed OpenAI-shaped job has one variant whose video, thumbnail
 * and spritesheet come from the authenticated content endpoint of `handle`.
 */
export function videoJobState(
  answer: VideoAnswer,
  options: { readonly handle: JobHandle; readonly pollAfterMs: number | null },
): JobState {
  const reading = readVideoAnswer(answer);
  switch (reading.phase) {
    case 'queued':
      return { state: 'queued', progress: reading.progress, pollAfterMs: options.pollAfterMs };
    case 'running':
      return { state: 'running', progress: reading.progress, pollAfterMs: options.pollAfterMs };
    case 'completed': {
      const content = (asset: OutputAsset): OutputRef => ({
        kind: 'content',
        handle: options.handle,
        index: 0,
        asset,
        expiresAt: reading.expiresAt,
      });
      const output: VariantOutput = {
        index: 0,
        video: content('video'),
        thumbnail: content('thumbnail'),
        spritesheet: content('spritesheet'),
      };
      return {
        state: 'succeeded',
        outputs: [output],
        completedAt: reading.completedAt,
        expiresAt: reading.expiresAt,
        ...(reading.seconds !== null ? { seconds: reading.seconds } : {}),
      };
    }
    case 'failed':
      return { state: 'failed', kind: reading.kind, code: reading.code, message: reading.message };
    case 'unknown':
      return { state: 'unknown', raw: reading.raw };
    default:
      return unreachable(reading);
  }
}

/** The error code a gateway's empty completion is recorded under (a moderation code: see moderation-codes.ts). */
export const EMPTY_COMPLETION_CODE = 'completed_without_video';

/**
 * A gateway said `completed`, and the one content request made to confirm it failed. An HTTP answer that is
 * not about us (not 401/403/429) means there is no video to fetch: `gone` for a 404, otherwise `safety` (the
 * usual cause is the upstream model's filter), so the job ends instead of being polled and fetched forever.
 * A failure without an answer (`connection`), or one about our credentials or rate, proves nothing: undefined,
 * and the caller rethrows it for the engine's read retries.
 */
export function contentProbeFailure(
  error: ProviderError,
): Extract<JobState, { state: 'failed' }> | undefined {
  switch (error.kind) {
    case 'not-found':
      return {
        state: 'failed',
        kind: 'gone',
        code: error.code ?? 'not_found',
        message: `the service reported the job completed, but its video is not there (${error.message})`,
      };
    case 'invalid-request':
    case 'moderation-blocked':
    case 'server':
      return {
        state: 'failed',
        kind: 'safety',
        code: EMPTY_COMPLETION_CODE,
        message:
          `the gateway reported the job completed but served no video (HTTP ${error.status ?? '?'}: ${error.message}); ` +
          'its upstream model usually filters such a video for safety',
      };
    case 'rate-limited':
    case 'auth':
    case 'connection':
      return undefined;
    default:
      return unreachable(error.kind);
  }
}

function errorOf(value: unknown): { code: string | null; message: string } | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'object') return { code: null, message: text(value) };
  const { code, message } = value as { code?: unknown; message?: unknown };
  const codeText = code === null || code === undefined || code === '' ? null : text(code);
  const messageText = message === null || message === undefined || message === '' ? null : text(message);
  if (codeText === null && messageText === null) return null;
  return { code: codeText, message: messageText ?? 'the job failed without a message' };
}

/** A wire value as text: primitives as they are, anything else as JSON. */
function text(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
      ? String(value)
      : (JSON.stringify(value) ?? String(value));
}

/** 0-100 from a number or a `"50%"` / `"50"` string; null when absent or unreadable. */
export function progressOf(value: unknown): number | null {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%?\s*$/.test(value)
        ? Number.parseFloat(value)
        : NaN;
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : null;
}

/** Unix seconds (number or numeric string) as Unix ms, or null. */
export function unixMs(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n * 1000 : null;
}

/** `"8"`, `8`, `"8s"` as 8; null when absent or unreadable. */
export function secondsOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number.parseFloat(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}
