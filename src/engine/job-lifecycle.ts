/**
 * One paid generation, from its journal intent to a sample recorded in the action cache. One owner (the job
 * registry starts every job; nothing else writes a job's journal records), each step durable before the
 * side effect that depends on it:
 *
 *   intent ──create──▶ submitted ──poll──▶ finished ──download──▶ stored ──▶ recorded ──▶ retired
 *   (journal,          (remote id in       (the service           (verified   (action      (journal
 *    fsynced)           the journal)        says completed)        bytes in    cache)       `completed`)
 *      │                    │                    │                  the store)                 │
 *      │ answer lost        │ failed / moderation / 404 / expired: the SERVICE ended it         ▼
 *      ▼                    └──────────────────────────────▶ retired (`failed`)      the build pins it
 *   reconcile through List:                                                          in the lockfile
 *     found ─────────────▶ submitted
 *     answered without it ▶ retired (`abandoned`): a new create may be sent
 *     unreadable ─────────▶ kept: nothing is created until a List answers
 *
 * Only the service ends a paid job. A transport failure after `submitted` (a poll or download that
 * outlasts its retries, a truncated body, a full disk) fails the shot for this run and keeps the journal
 * entry, so every later build resumes it (polls, downloads) until the service says it is gone. The entry
 * is retired only after the sample is in the action cache, where the next build looks before creating.
 */
import type { Sha256, VideoId } from '../core/brand.ts';
import type { Sample } from '../cache/types.ts';
import type { RemoteVideo } from '../provider/types.ts';
import { ProviderError } from '../provider/types.ts';
import { isModerationCode } from '../provider/moderation-codes.ts';
import type { JobContext, JobResult, JobSpec } from './job-types.ts';
import { NOT_STARTED, isFull, runInLane } from './lanes.ts';
import { submitJob } from './submit-job.ts';
import { pollUntilDone, retrieve } from './poll-job.ts';
import { downloadVariant } from './download-job.ts';
import { guardLocalIo, keptFailure, localIoCode, providerFailure } from './shot-failure.ts';

/** While a job holds its in-flight place: submitted and polled, or ended before that. */
type InFlightOutcome =
  JobResult | { readonly kind: 'finished'; readonly intentId: string; readonly video: RemoteVideo };

/**
 * Runs a new job. `dispatchSignal` cancels it only until the create is sent (nothing paid yet); from then on
 * only `jobSignal` (the engine closing with `abandon`) stops it, leaving it in the journal.
 */
export async function runNewJob(
  spec: JobSpec,
  ctx: JobContext,
  dispatchSignal: AbortSignal,
  jobSignal: AbortSignal,
): Promise<JobResult> {
  // Load the provider (the SDK's import, the embedded emulator's start) while this job waits for its turn
  // and slot: otherwise the first create of a build pays for it after taking its slot. Errors surface later.
  ctx.provider().catch(() => {});
  if (isFull(ctx.lanes.inFlight)) {
    ctx.emit({
      type: 'quota-wait',
      time: ctx.clock.now(),
      shot: spec.shot,
      until: null,
      reason: 'max-in-flight',
      retryAfterMs: null,
    });
  }
  const both = AbortSignal.any([dispatchSignal, jobSignal]);
  const stage = await runInLane(
    ctx.lanes.inFlight,
    async (): Promise<InFlightOutcome> => {
      const submitted = await submitJob(spec, ctx, dispatchSignal, jobSignal);
      if (submitted.kind !== 'submitted') return submitted;
      return untilFinished(spec, ctx, submitted.intentId, submitted.video, jobSignal);
    },
    { priority: spec.priority, signal: both },
  );
  if (stage === NOT_STARTED) return { kind: 'cancelled' };
  return stage.kind === 'finished' ? finishJob(spec, ctx, stage.intentId, stage.video, jobSignal) : stage;
}

/** Resumes a job whose id an earlier run recorded: polls and downloads it, never creates. */
export async function resumeJob(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  videoId: VideoId,
  jobSignal: AbortSignal,
): Promise<JobResult> {
  // Recorded by a run that died before retiring the entry: nothing left to do but retire it.
  const recorded = ctx.actionCache.samples(spec.key).find((s) => s.videoId === videoId);
  if (recorded !== undefined && ctx.store.hasObject(recorded.output)) {
    await retire(ctx, () => ctx.journal.recordCompleted(intentId, ctx.clock.now(), recorded.output));
    return { kind: 'done', sample: recorded };
  }
  ctx.emit({ type: 'resumed', time: ctx.clock.now(), shot: spec.shot, videoId });
  // Already on the service: first in line for an in-flight place.
  const stage = await runInLane(
    ctx.lanes.inFlight,
    async (): Promise<InFlightOutcome> => {
      let video: RemoteVideo;
      try {
        video = await retrieve(spec, ctx, videoId, jobSignal);
      } catch (error) {
        return pollFailure(spec, ctx, intentId, videoId, error, jobSignal);
      }
      return untilFinished(spec, ctx, intentId, video, jobSignal);
    },
    { priority: Number.MAX_SAFE_INTEGER, signal: jobSignal },
  );
  if (stage === NOT_STARTED) return { kind: 'interrupted' };
  return stage.kind === 'finished' ? finishJob(spec, ctx, stage.intentId, stage.video, jobSignal) : stage;
}

/** Polls until the service is done with the job; retires it when the service ended it. */
async function untilFinished(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  submitted: RemoteVideo,
  signal: AbortSignal,
): Promise<InFlightOutcome> {
  let video: RemoteVideo;
  try {
    video = await pollUntilDone(spec, ctx, submitted, signal);
  } catch (error) {
    return pollFailure(spec, ctx, intentId, submitted.id, error, signal);
  }
  if (video.status === 'failed') {
    const code = video.error?.code ?? null;
    const moderation = code !== null && isModerationCode(code);
    await retire(ctx, () =>
      ctx.journal.recordFailed(
        intentId,
        ctx.clock.now(),
        code ?? (moderation ? 'moderation-blocked' : 'job-failed'),
      ),
    );
    return {
      kind: 'failed',
      failure: {
        reason: moderation ? 'moderation-blocked' : 'job-failed',
        message: video.error?.message ?? 'the job failed without a message',
        code,
        videoId: video.id,
        retryable: !moderation,
        hint: moderation
          ? 'change the prompt or reference image; the same request will be refused again'
          : null,
      },
    };
  }
  ctx.emit({ type: 'job-completed', time: ctx.clock.now(), shot: spec.shot, videoId: video.id });
  ctx.recordRenderMs(spec, (video.completedAt ?? ctx.clock.now()) - video.createdAt);
  return { kind: 'finished', intentId, video };
}

/** A poll that failed: only a 404 (the service no longer knows the job) ends it. */
async function pollFailure(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  videoId: VideoId,
  error: unknown,
  signal: AbortSignal,
): Promise<JobResult> {
  if (signal.aborted) return { kind: 'interrupted' };
  if (!(error instanceof ProviderError)) throw error;
  if (error.kind === 'not-found') {
    await retire(ctx, () => ctx.journal.recordFailed(intentId, ctx.clock.now(), 'lost-job'));
    return {
      kind: 'failed',
      failure: {
        reason: 'lost-job',
        message: `the job ${videoId} is unknown to the service (expired or deleted); it was not created again`,
        code: error.code ?? null,
        videoId,
        retryable: true,
        hint: 'run the build again to generate it anew',
      },
    };
  }
  return { kind: 'failed', failure: keptFailure(providerFailure(error, videoId), videoId) };
}

/** finished -> stored -> recorded -> retired. */
async function finishJob(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  video: RemoteVideo,
  signal: AbortSignal,
): Promise<JobResult> {
  // An extension's length is the stitched total, which the service reports; everything else must be
  // exactly what was asked for.
  const expected = spec.operation === 'extend' ? { ...spec.expected, seconds: video.seconds } : spec.expected;
  const checked = { shot: spec.shot, expected };
  const main = await downloadVariant(checked, ctx, video.id, 'video', signal);
  if (!main.ok) return downloadFailure(ctx, intentId, video.id, main);
  const assets: Partial<Record<'thumbnail' | 'spritesheet', Sha256>> = {};
  for (const variant of spec.assets) {
    const got = await downloadVariant(checked, ctx, video.id, variant, signal);
    if (!got.ok) return downloadFailure(ctx, intentId, video.id, got);
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
  // recorded BEFORE retired: a crash between the two leaves an entry the next run retires (resumeJob), never
  // a paid video nobody knows about.
  const recorded = await guardLocalIo(
    `recording ${spec.shot} in the action cache`,
    video.id,
    () => ctx.actionCache.addSample(spec.key, sample),
    { paid: true },
  );
  if (!recorded.ok) return { kind: 'failed', failure: recorded.failure };
  await retire(ctx, () => ctx.journal.recordCompleted(intentId, ctx.clock.now(), sample.output));
  return { kind: 'done', sample };
}

async function downloadFailure(
  ctx: JobContext,
  intentId: string,
  videoId: VideoId,
  result: Extract<Awaited<ReturnType<typeof downloadVariant>>, { ok: false }>,
): Promise<JobResult> {
  if (result.failure === 'interrupted') return { kind: 'interrupted' };
  if (result.gone) {
    await retire(ctx, () => ctx.journal.recordFailed(intentId, ctx.clock.now(), 'video-expired'));
    return { kind: 'failed', failure: result.failure };
  }
  return { kind: 'failed', failure: keptFailure(result.failure, videoId) };
}

/**
 * Writes a journal record that ends an entry. If the disk refuses, the entry stays: the next run finds the
 * job ended (or recorded) and retires it then; nothing is paid twice either way.
 */
async function retire(ctx: JobContext, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (localIoCode(error) === undefined) throw error;
  }
}
