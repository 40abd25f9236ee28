/**
 * One paid generation, from the create request to a verified video in the store:
 *
 *   turn (critical-path order) -> permit (max_in_flight) -> slot (per-minute ledger) -> journal intent
 *   -> create/remix/extend -> journal id -> poll -> download + verify + ingest -> action cache -> journal done
 *
 * The ordering is what makes "never pay twice" hold: the intent is on disk before the request leaves, and
 * the remote id is on disk before anything else happens once the response arrives, so a crash at any
 * point leaves either nothing on the service, or an id the next run polls, or an intent the next run
 * reconciles through List before creating anything.
 */
import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { BuildEvent, ShotFailureReason } from '../core/events.ts';
import type { Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import { checkMp4, compareMp4ToRequest } from '../cache/mp4-check.ts';
import type { CreateLedger } from '../scheduler/create-ledger.ts';
import { createRecovery, isRetryable, retryDelay } from '../scheduler/retry-policy.ts';
import { nextPollDelay } from '../scheduler/poll-policy.ts';
import type { PollObservation } from '../scheduler/poll-policy.ts';
import type { ContentVariant, CreateRequest, RemoteVideo, VideoProvider } from '../provider/types.ts';
import { ProviderError } from '../provider/types.ts';
import { isModerationCode } from '../provider/moderation-codes.ts';
import type { DispatchGate } from './dispatch-gate.ts';
import type { Intent, Journal } from '../scheduler/journal.ts';
import { promptSha256, reconcile as reconcileIntent } from '../scheduler/journal.ts';
import type { Semaphore } from './semaphore.ts';

/** What to generate, fully resolved. */
export interface JobSpec {
  readonly shot: ShotId;
  readonly key: ShotKey;
  readonly operation: 'create' | 'remix' | 'extend';
  /** For create: the request (model, prompt, size, seconds, reference image bytes). */
  readonly request: CreateRequest;
  /** For remix/extend: the parent's remote video. */
  readonly parentVideoId: VideoId | null;
  /** What the downloaded video must be: its size and total duration (parent + added, for extend). */
  readonly expected: { readonly size: string; readonly seconds: number };
  /** Critical-path priority: larger starts first. */
  readonly priority: number;
  /** Seconds billed times the model's price; null when the price is unknown. */
  readonly costUsd: number | null;
  /** Extra content variants to fetch besides the video. */
  readonly assets: readonly ('thumbnail' | 'spritesheet')[];
}

export type JobResult =
  | { readonly ok: true; readonly sample: Sample }
  | {
      readonly ok: false;
      /** `cancelled`: stopped before anything was created (Ctrl-C, or watch moved on); nothing was paid. */
      readonly reason: ShotFailureReason | 'cancelled' | 'interrupted';
      readonly message: string;
      readonly code: string | null;
      readonly videoId: VideoId | null;
      readonly retryable: boolean;
      readonly hint: string | null;
    };

export interface JobContext {
  readonly provider: () => Promise<VideoProvider>;
  /** Provider config name, recorded in samples. */
  readonly providerName: string;
  readonly store: Store;
  readonly journal: Journal;
  readonly ledger: CreateLedger;
  readonly gate: DispatchGate;
  readonly downloads: Semaphore;
  readonly clock: Clock;
  readonly emit: (event: BuildEvent) => void;
  readonly createsPerMinute: number;
  /** Model name -> the deployment name the service reports back (Azure), for reconciliation. */
  readonly remoteModel: (model: string) => string;
  /** Remote ids already known to belong to other jobs; reconciliation never claims them. */
  readonly claimedVideoIds: () => ReadonlySet<string>;
  /** Learned render durations, for the poll schedule. */
  readonly estimateRenderMs: (spec: JobSpec) => number | null;
  readonly recordRenderMs: (spec: JobSpec, ms: number) => void;
  /** Random numbers for jitter (injected for deterministic tests). @default Math.random */
  readonly random?: () => number;
}

/** Attempts per create before giving up (429s, refused connections, failed reconciliations). */
const MAX_CREATE_ATTEMPTS = 8;
/** Attempts per poll/download before giving up on transient errors. */
const MAX_READ_ATTEMPTS = 6;

/**
 * Runs a new job. `dispatchSignal` cancels it only until the create is sent (nothing paid yet); from then on
 * only `jobSignal` (the engine closing with `abandon`) stops it, leaving the id in the journal.
 */
export async function runNewJob(
  spec: JobSpec,
  ctx: JobContext,
  dispatchSignal: AbortSignal,
  jobSignal: AbortSignal,
): Promise<JobResult> {
  const both = AbortSignal.any([dispatchSignal, jobSignal]);
  // Load the provider (the SDK's import, the embedded emulator's start) while this job waits for its turn
  // and slot: otherwise the first create of a build pays for it after taking its slot. Errors surface below.
  ctx.provider().catch(() => {});
  let attempt = 0;
  for (;;) {
    attempt++;
    let endTurn: (() => void) | undefined;
    let permitHeld = false;
    let slot: { readonly at: number } | undefined;
    try {
      endTurn = await ctx.gate.turn(spec.priority, both);
      if (ctx.gate.inFlight >= ctx.gate.maxInFlight) {
        ctx.emit({
          type: 'quota-wait',
          time: ctx.clock.now(),
          shot: spec.shot,
          until: null,
          reason: 'max-in-flight',
          retryAfterMs: null,
        });
      }
      await ctx.gate.acquirePermit(both);
      permitHeld = true;
      const freeAt = await ctx.ledger.nextFreeAt({ limit: ctx.createsPerMinute });
      if (freeAt > ctx.clock.now()) {
        ctx.emit({
          type: 'quota-wait',
          time: ctx.clock.now(),
          shot: spec.shot,
          until: freeAt,
          reason: 'per-minute-window',
          retryAfterMs: null,
        });
      }
      slot = await ctx.ledger.acquireCreateSlot({ limit: ctx.createsPerMinute, signal: both });
    } catch (error) {
      endTurn?.();
      if (permitHeld) ctx.gate.releasePermit();
      if (both.aborted) return cancelled(spec);
      throw error;
    }

    let provider: VideoProvider;
    try {
      provider = await ctx.provider();
    } catch (error) {
      endTurn();
      ctx.gate.releasePermit();
      if (error instanceof ProviderError) return failed(spec, error, null);
      throw error;
    }
    // From here on a request may reach the service: it is no longer cancellable by the dispatch signal.
    const intent = await ctx.journal.recordIntent({
      shot: spec.shot,
      key: spec.key,
      provider: ctx.providerName,
      request: {
        operation: spec.operation,
        model: spec.request.model,
        remoteModel: ctx.remoteModel(spec.request.model),
        size: spec.expected.size,
        // For an extension the service reports the stitched total, which is what reconciliation compares.
        seconds: spec.expected.seconds,
        promptSha256: promptSha256(spec.request.prompt),
        parentVideoId: spec.parentVideoId,
      },
      at: ctx.clock.now(),
    });
    ctx.emit({
      type: 'create-sent',
      time: ctx.clock.now(),
      shot: spec.shot,
      operation: spec.operation,
      parentVideoId: spec.parentVideoId,
    });
    let remote: RemoteVideo | undefined;
    let failure: ProviderError | undefined;
    try {
      remote = await sendCreate(spec, provider, jobSignal);
    } catch (error) {
      if (!(error instanceof ProviderError)) {
        endTurn();
        ctx.gate.releasePermit();
        if (jobSignal.aborted) return interrupted(spec, null);
        throw error;
      }
      failure = error;
    }
    endTurn();
    if (slot !== undefined) await ctx.ledger.settle(slot.at, ctx.clock.now());

    if (remote === undefined && failure !== undefined) {
      const recovery = createRecovery(failure);
      if (recovery === 'reconcile') {
        remote = await reconcile(spec, intent, ctx, jobSignal);
        ctx.emit({
          type: 'reconciled',
          time: ctx.clock.now(),
          shot: spec.shot,
          matched: remote !== undefined,
          videoId: remote?.id ?? null,
        });
      }
      if (remote === undefined) {
        await ctx.journal.recordAbandoned(intent.id, ctx.clock.now(), failure.code ?? failure.kind);
        ctx.gate.releasePermit();
        if (failure.kind === 'not-found' && spec.parentVideoId !== null) {
          // The service no longer has the parent video a remix/extend is made from.
          return {
            ok: false,
            reason: 'parent-expired',
            message: `the parent video ${spec.parentVideoId} is no longer on the service (expired or deleted): ${failure.message}`,
            code: failure.code ?? null,
            videoId: null,
            retryable: false,
            hint: 'run again with --regenerate-expired to regenerate the parent (and so every shot made from it)',
          };
        }
        if (recovery === 'give-up' || attempt >= MAX_CREATE_ATTEMPTS) {
          return failed(spec, failure, null);
        }
        let delayMs: number;
        if (failure.kind === 'rate-limited') {
          const { blockedUntil } = await ctx.ledger.penalise({ retryAfterMs: failure.retryAfterMs });
          delayMs = 0;
          ctx.emit({
            type: 'quota-wait',
            time: ctx.clock.now(),
            shot: spec.shot,
            until: blockedUntil,
            reason: 'rate-limited',
            retryAfterMs: failure.retryAfterMs ?? null,
          });
        } else {
          delayMs = retryDelay({
            attempt,
            retryAfterMs: failure.retryAfterMs,
            jitter: ctx.random ?? Math.random,
          });
        }
        ctx.emit({
          type: 'retry',
          time: ctx.clock.now(),
          shot: spec.shot,
          operation: spec.operation,
          attempt: attempt + 1,
          delayMs,
          reason:
            failure.kind === 'rate-limited'
              ? 'rate-limited'
              : failure.kind === 'server'
                ? 'server'
                : 'connection',
          message: failure.message,
        });
        try {
          await ctx.clock.sleep(delayMs, both);
        } catch {
          return cancelled(spec);
        }
        continue;
      }
    }
    if (remote === undefined) throw new Error('internal error: create produced neither a video nor an error');
    await ctx.journal.recordSubmitted(intent.id, remote.id, remote.createdAt);
    ctx.emit({ type: 'job-submitted', time: ctx.clock.now(), shot: spec.shot, videoId: remote.id });
    return finishJob(spec, ctx, intent.id, remote, jobSignal, true);
  }
}

/** Resumes a job whose id an earlier process recorded: polls it, never creates. */
export async function resumeJob(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  videoId: VideoId,
  jobSignal: AbortSignal,
): Promise<JobResult> {
  ctx.gate.takePermit();
  ctx.emit({ type: 'resumed', time: ctx.clock.now(), shot: spec.shot, videoId });
  let remote: RemoteVideo;
  try {
    remote = await withReadRetries(spec, ctx, 'retrieve', jobSignal, async () =>
      (await ctx.provider()).retrieve(videoId, jobSignal),
    );
  } catch (error) {
    ctx.gate.releasePermit();
    if (jobSignal.aborted) return interrupted(spec, videoId);
    if (error instanceof ProviderError) {
      await ctx.journal.recordFailed(
        intentId,
        ctx.clock.now(),
        error.kind === 'not-found' ? 'lost-job' : error.kind,
      );
      if (error.kind === 'not-found') {
        return {
          ok: false,
          reason: 'lost-job',
          message: `the job ${videoId} recorded by an earlier run is unknown to the service (expired or deleted); it was not created again`,
          code: error.code ?? null,
          videoId,
          retryable: true,
          hint: 'run the build again to generate it anew',
        };
      }
      return failed(spec, error, videoId);
    }
    throw error;
  }
  return finishJob(spec, ctx, intentId, remote, jobSignal, true);
}

async function finishJob(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  submitted: RemoteVideo,
  signal: AbortSignal,
  holdsPermit: boolean,
): Promise<JobResult> {
  let video = submitted;
  let permit = holdsPermit;
  const release = (): void => {
    if (permit) ctx.gate.releasePermit();
    permit = false;
  };
  try {
    video = await pollUntilDone(spec, ctx, video, signal);
  } catch (error) {
    release();
    if (signal.aborted) return interrupted(spec, video.id);
    if (error instanceof ProviderError) {
      await ctx.journal.recordFailed(intentId, ctx.clock.now(), error.kind);
      return failed(spec, error, video.id);
    }
    throw error;
  }
  release();
  if (video.status === 'failed') {
    const code = video.error?.code ?? null;
    const moderation = code !== null && isModerationCode(code);
    await ctx.journal.recordFailed(
      intentId,
      ctx.clock.now(),
      code ?? (moderation ? 'moderation-blocked' : 'job-failed'),
    );
    return {
      ok: false,
      reason: moderation ? 'moderation-blocked' : 'job-failed',
      message: video.error?.message ?? 'the job failed without a message',
      code,
      videoId: video.id,
      retryable: !moderation,
      hint: moderation
        ? 'change the prompt or reference image; the same request will be refused again'
        : null,
    };
  }
  ctx.emit({ type: 'job-completed', time: ctx.clock.now(), shot: spec.shot, videoId: video.id });
  ctx.recordRenderMs(spec, (video.completedAt ?? ctx.clock.now()) - video.createdAt);

  // An extension's length is the stitched total, which the service reports; everything else must be
  // exactly what was asked for.
  const checked =
    spec.operation === 'extend' ? { ...spec, expected: { ...spec.expected, seconds: video.seconds } } : spec;
  const downloaded = await downloadAll(checked, ctx, video, signal);
  if (!downloaded.ok) {
    if (downloaded.reason !== 'interrupted')
      await ctx.journal.recordFailed(intentId, ctx.clock.now(), downloaded.reason);
    return downloaded;
  }
  await ctx.journal.recordCompleted(intentId, ctx.clock.now(), downloaded.sample.output);
  return downloaded;
}

async function pollUntilDone(
  spec: JobSpec,
  ctx: JobContext,
  first: RemoteVideo,
  signal: AbortSignal,
): Promise<RemoteVideo> {
  let video = first;
  const observations: PollObservation[] = [];
  const estimateMs = ctx.estimateRenderMs(spec);
  while (video.status === 'queued' || video.status === 'in_progress') {
    const elapsedMs = Math.max(0, ctx.clock.now() - video.createdAt);
    const delay = nextPollDelay({
      elapsedMs,
      observations,
      estimateMs,
      pollAfterMs: video.pollAfterMs,
      jitter: ctx.random ?? Math.random,
    });
    await ctx.clock.sleep(delay, signal);
    const id = video.id;
    video = await withReadRetries(spec, ctx, 'retrieve', signal, async () =>
      (await ctx.provider()).retrieve(id, signal),
    );
    observations.push({
      elapsedMs: Math.max(0, ctx.clock.now() - video.createdAt),
      progress: video.status === 'in_progress' ? video.progress : null,
    });
    if (video.status === 'queued' || video.status === 'in_progress') {
      ctx.emit({
        type: 'job-progress',
        time: ctx.clock.now(),
        shot: spec.shot,
        videoId: video.id,
        status: video.status,
        progress: video.progress,
      });
    }
  }
  return video;
}

async function downloadAll(
  spec: JobSpec,
  ctx: JobContext,
  video: RemoteVideo,
  signal: AbortSignal,
): Promise<JobResult> {
  const main = await downloadVariant(spec, ctx, video.id, 'video', signal);
  if (!main.ok) return main.failure;
  const assets: Partial<Record<'thumbnail' | 'spritesheet', Sha256>> = {};
  for (const variant of spec.assets) {
    const got = await downloadVariant(spec, ctx, video.id, variant, signal);
    if (!got.ok) return got.failure;
    assets[variant] = got.digest;
  }
  const sample: Sample = {
    output: main.digest,
    bytes: main.bytes,
    videoId: video.id,
    provider: ctx.providerName,
    createdAt: video.createdAt,
    expiresAt: video.expiresAt,
    costUsd: spec.costUsd,
    assets,
  };
  return { ok: true, sample };
}

/**
 * Downloads a pinned video again by its remote id (a fresh clone, a pruned store): free while the service
 * keeps it (24 h). Only the exact bytes the lockfile pins are accepted.
 */
export async function restorePinned(
  spec: JobSpec,
  ctx: JobContext,
  videoId: VideoId,
  digest: Sha256,
  signal: AbortSignal,
): Promise<{ ok: true; bytes: number } | { ok: false; failure: Extract<JobResult, { ok: false }> }> {
  const got = await downloadVariant(spec, ctx, videoId, 'video', signal, digest);
  return got.ok ? { ok: true, bytes: got.bytes } : got;
}

/** Downloads and stores one more asset of an existing sample (a shot asked for a thumbnail later). */
export async function downloadAsset(
  spec: JobSpec,
  ctx: JobContext,
  videoId: VideoId,
  variant: 'thumbnail' | 'spritesheet',
  signal: AbortSignal,
): Promise<{ ok: true; digest: Sha256 } | { ok: false; failure: Extract<JobResult, { ok: false }> }> {
  const got = await downloadVariant(spec, ctx, videoId, variant, signal);
  return got.ok ? { ok: true, digest: got.digest } : got;
}

type VariantResult =
  | { readonly ok: true; readonly digest: Sha256; readonly bytes: number }
  | { readonly ok: false; readonly failure: Extract<JobResult, { ok: false }> };

/** Streams one content variant into the store, verified; retries truncated or corrupt downloads. */
async function downloadVariant(
  spec: JobSpec,
  ctx: JobContext,
  videoId: VideoId,
  variant: ContentVariant,
  signal: AbortSignal,
  expectedDigest?: Sha256,
): Promise<VariantResult> {
  let lastProblem = '';
  for (let attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
    const release = await ctx.downloads.acquire(signal).catch(() => undefined);
    if (release === undefined) return { ok: false, failure: interrupted(spec, videoId) };
    let problem: {
      message: string;
      reason: 'download-corrupt' | 'server' | 'connection' | 'rate-limited';
      retryAfterMs?: number | undefined;
    };
    try {
      ctx.emit({ type: 'download-started', time: ctx.clock.now(), shot: spec.shot, videoId, variant });
      const download = await (await ctx.provider()).download(videoId, variant, signal);
      const ingested = await ctx.store.ingest(download.body, {
        expected: {
          ...(download.contentLength === null ? {} : { bytes: download.contentLength }),
          ...(expectedDigest === undefined ? {} : { sha256: expectedDigest }),
        },
        // With a pinned digest the bytes are known exactly; otherwise they must parse as what was asked for.
        ...(expectedDigest === undefined
          ? { verify: (path: string) => verifyVariant(path, variant, spec.expected) }
          : {}),
        signal,
      });
      if (ingested.ok) {
        ctx.emit({
          type: 'download-finished',
          time: ctx.clock.now(),
          shot: spec.shot,
          videoId,
          variant,
          bytes: ingested.value.bytes,
          digest: ingested.value.digest,
        });
        return { ok: true, digest: ingested.value.digest, bytes: ingested.value.bytes };
      }
      const f = ingested.error;
      problem = {
        reason: 'download-corrupt',
        message:
          f.reason === 'truncated'
            ? `the ${variant} download was cut short (${f.receivedBytes} of ${f.expectedBytes} bytes)`
            : f.reason === 'too-long'
              ? `the ${variant} download was longer than announced`
              : f.reason === 'stream-error'
                ? `the ${variant} download failed: ${f.message}`
                : f.reason === 'verify-failed'
                  ? f.error
                  : `the ${variant} download did not match its digest`,
      };
    } catch (error) {
      if (signal.aborted) return { ok: false, failure: interrupted(spec, videoId) };
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === 'not-found') {
        return {
          ok: false,
          failure: {
            ok: false,
            reason: 'video-expired',
            message: `the finished video ${videoId} is no longer on the service (expired or deleted) and was not downloaded`,
            code: error.code ?? null,
            videoId,
            retryable: true,
            hint: 'run the build again to generate it anew',
          },
        };
      }
      if (!isRetryable(error, 'download')) return { ok: false, failure: failed(spec, error, videoId) };
      problem = {
        reason:
          error.kind === 'rate-limited' ? 'rate-limited' : error.kind === 'server' ? 'server' : 'connection',
        message: error.message,
        retryAfterMs: error.retryAfterMs,
      };
    } finally {
      release();
    }
    lastProblem = problem.message;
    if (attempt === MAX_READ_ATTEMPTS) break;
    const delayMs = retryDelay({
      attempt,
      retryAfterMs: problem.retryAfterMs,
      baseMs: 500,
      maxMs: 10_000,
      jitter: ctx.random ?? Math.random,
    });
    ctx.emit({
      type: 'retry',
      time: ctx.clock.now(),
      shot: spec.shot,
      operation: 'download',
      attempt: attempt + 1,
      delayMs,
      reason: problem.reason,
      message: problem.message,
    });
    try {
      await ctx.clock.sleep(delayMs, signal);
    } catch {
      return { ok: false, failure: interrupted(spec, videoId) };
    }
  }
  return {
    ok: false,
    failure: {
      ok: false,
      reason: 'download-corrupt',
      message: `every download of ${videoId} (${variant}) failed; nothing was stored. Last problem: ${lastProblem}`,
      code: null,
      videoId,
      retryable: true,
      hint: 'run the build again: the finished job is resumed from the journal and downloaded, not generated again',
    },
  };
}

const IMAGE_MAGIC: Readonly<
  Record<'thumbnail' | 'spritesheet', { test: (b: Buffer) => boolean; name: string }>
> = {
  thumbnail: {
    name: 'WebP or JPEG image',
    test: (b) =>
      (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') ||
      (b[0] === 0xff && b[1] === 0xd8) ||
      b.toString('latin1', 1, 4) === 'PNG',
  },
  spritesheet: {
    name: 'JPEG, WebP or PNG image',
    test: (b) =>
      (b[0] === 0xff && b[1] === 0xd8) ||
      b.toString('latin1', 8, 12) === 'WEBP' ||
      b.toString('latin1', 1, 4) === 'PNG',
  },
};

async function verifyVariant(
  path: string,
  variant: ContentVariant,
  expected: JobSpec['expected'],
): Promise<{ ok: true; value: undefined } | { ok: false; error: string }> {
  if (variant === 'video') {
    const checked = await checkMp4(path);
    if (!checked.ok)
      return { ok: false, error: `the downloaded video is not a valid MP4: ${checked.error.message}` };
    const mismatches = compareMp4ToRequest(checked.value, expected, { toleranceSeconds: 0.25 });
    if (mismatches.length > 0) {
      const text = mismatches
        .map((m) => `${m.field} is ${String(m.actual)}, expected ${String(m.expected)}`)
        .join('; ');
      return { ok: false, error: `the downloaded video does not match the request: ${text}` };
    }
    return { ok: true, value: undefined };
  }
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    await handle.read(head, 0, 16, 0);
    const magic = IMAGE_MAGIC[variant];
    return magic.test(head)
      ? { ok: true, value: undefined }
      : { ok: false, error: `the downloaded ${variant} is not a ${magic.name}` };
  } finally {
    await handle.close();
  }
}

function sendCreate(spec: JobSpec, provider: VideoProvider, signal: AbortSignal): Promise<RemoteVideo> {
  switch (spec.operation) {
    case 'create':
      return provider.create(spec.request, signal);
    case 'remix':
      return provider.remix(spec.parentVideoId!, spec.request.prompt, signal);
    case 'extend':
      return provider.extend(spec.parentVideoId!, spec.request.prompt, spec.request.seconds, signal);
  }
}

/** Looks for the job a lost create response may have made, through the List endpoint. */
async function reconcile(
  spec: JobSpec,
  intent: Intent,
  ctx: JobContext,
  signal: AbortSignal,
): Promise<RemoteVideo | undefined> {
  try {
    return await withReadRetries(spec, ctx, 'list', signal, async () => {
      const listed: RemoteVideo[] = [];
      for await (const video of (await ctx.provider()).list({ order: 'desc', limit: 100 }, signal)) {
        // Newest first: stop once well past the intent (a minute of allowance for clock skew).
        if (video.createdAt < intent.at - 60_000) break;
        listed.push(video);
      }
      const result = reconcileIntent(intent, listed, { claimed: ctx.claimedVideoIds() });
      return result.outcome === 'found' ? result.video : undefined;
    });
  } catch (error) {
    if (error instanceof ProviderError) return undefined;
    throw error;
  }
}

async function withReadRetries<T>(
  spec: JobSpec,
  ctx: JobContext,
  operation: 'retrieve' | 'list',
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (
        !(error instanceof ProviderError) ||
        !isRetryable(error, 'read') ||
        attempt >= MAX_READ_ATTEMPTS ||
        signal.aborted
      )
        throw error;
      const delayMs = retryDelay({
        attempt,
        retryAfterMs: error.retryAfterMs,
        baseMs: 1000,
        maxMs: 30_000,
        jitter: ctx.random ?? Math.random,
      });
      ctx.emit({
        type: 'retry',
        time: ctx.clock.now(),
        shot: spec.shot,
        operation,
        attempt: attempt + 1,
        delayMs,
        reason:
          error.kind === 'rate-limited' ? 'rate-limited' : error.kind === 'server' ? 'server' : 'connection',
        message: error.message,
      });
      await ctx.clock.sleep(delayMs, signal);
    }
  }
}

function failureReason(error: ProviderError): ShotFailureReason {
  switch (error.kind) {
    case 'rate-limited':
      return 'rate-limited';
    case 'auth':
      return 'auth';
    case 'not-found':
      return 'lost-job';
    case 'invalid-request':
      return 'invalid-request';
    case 'moderation-blocked':
      return 'moderation-blocked';
    case 'server':
      return 'server';
    case 'connection':
      return 'connection';
  }
}

function failed(
  spec: JobSpec,
  error: ProviderError,
  videoId: VideoId | null,
): Extract<JobResult, { ok: false }> {
  const reason = failureReason(error);
  return {
    ok: false,
    reason,
    message: error.message,
    code: error.code ?? null,
    videoId,
    retryable: reason === 'rate-limited' || reason === 'server' || reason === 'connection',
    hint:
      reason === 'auth'
        ? 'check the provider credentials (OPENAI_API_KEY, AZURE_OPENAI_API_KEY, or Entra ID sign-in)'
        : reason === 'moderation-blocked'
          ? 'change the prompt or reference image; the same request will be refused again'
          : null,
  };
}

function cancelled(spec: JobSpec): Extract<JobResult, { ok: false }> {
  return {
    ok: false,
    reason: 'cancelled',
    message: `${spec.shot} was not started`,
    code: null,
    videoId: null,
    retryable: true,
    hint: null,
  };
}

function interrupted(spec: JobSpec, videoId: VideoId | null): Extract<JobResult, { ok: false }> {
  return {
    ok: false,
    reason: 'interrupted',
    message: `${spec.shot} was interrupted`,
    code: null,
    videoId,
    retryable: true,
    hint: null,
  };
}
