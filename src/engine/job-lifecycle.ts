/**
 * One paid generation, from its journal intent to a sample recorded in the action cache. One owner (the job
 * registry starts every job; nothing else writes a job's journal records), each step durable before the
 * side effect that depends on it:
 *
 *   intent ──submit──▶ submitted ──poll──▶ finished ──download──▶ stored ──▶ recorded ──▶ retired
 *   (journal,          (the handle in      (the service says      (every      (action      (journal
 *    fsynced)           the journal)        succeeded)             variant's   cache)       `completed`)
 *                                                                  verified
 *                                                                  bytes)
 *      │                    │                    │                  the store)                 │
 *      │ answer lost        │ failed (safety, invalid, quota, upstream, gone) / 404: the SERVICE ended it ▼
 *      ▼                    └──────────────────────────────▶ retired (`failed`)      the build pins it
 *   reconcile through List:                                                          in the lockfile
 *     found ─────────────▶ submitted
 *     answered without it ▶ retired (`abandoned`): a new create may be sent
 *     unreadable ─────────▶ kept: nothing is created until a List answers
 *     no List (Veo, …) ───▶ kept, `unreconciled`: nothing is created unless the user says so
 *
 * Only the service ends a paid job. A transport failure after `submitted` (a poll or download that
 * outlasts its retries, a truncated body, a full disk) fails the shot for this run and keeps the journal
 * entry, so every later build resumes it (polls, downloads) until the service says it is gone. The entry
 * is retired only after the sample is in the action cache, where the next build looks before creating.
 */
import type { Sha256, VideoId } from '../core/brand.ts';
import { asVideoId } from '../core/brand.ts';
import type { Sample, VariantRecord } from '../cache/types.ts';
import type { JobHandle, JobState } from '../provider/job-api.ts';
import { ProviderError } from '../provider/types.ts';
import type { ShotFailure } from '../core/events.ts';
import type { JobContext, JobResult, JobSpec } from './job-types.ts';
import { NOT_STARTED, isFull, runInLane } from './lanes.ts';
import { submitJob } from './submit-job.ts';
import { pollUntilDone } from './poll-job.ts';
import type { EndState } from './poll-job.ts';
import { downloadVariant } from './download-job.ts';
import { guardLocalIo, keptFailure, localIoCode, providerFailure } from './shot-failure.ts';
import { unreachable } from '../core/unreachable.ts';

type Succeeded = Extract<JobState, { state: 'succeeded' }>;

/** While a job holds its in-flight place: submitted and polled, or ended before that. */
type InFlightOutcome =
  | JobResult
  | {
      readonly kind: 'finished';
      readonly intentId: string;
      readonly handle: JobHandle;
      readonly state: Succeeded;
    };

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
      return untilFinished(spec, ctx, submitted.intentId, submitted.handle, submitted.state, jobSignal);
    },
    { priority: spec.priority, signal: both },
  );
  if (stage === NOT_STARTED) return { kind: 'cancelled' };
  return stage.kind === 'finished' ? finishJob(spec, ctx, stage, jobSignal) : stage;
}

/** Resumes a job whose handle an earlier run recorded: polls and downloads it, never creates. */
export async function resumeJob(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  handle: JobHandle,
  jobSignal: AbortSignal,
): Promise<JobResult> {
  const videoId = asVideoId(handle.id);
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
    // The handle alone resumes it: the first poll goes out at once.
    async (): Promise<InFlightOutcome> => untilFinished(spec, ctx, intentId, handle, null, jobSignal),
    { priority: Number.MAX_SAFE_INTEGER, signal: jobSignal },
  );
  if (stage === NOT_STARTED) return { kind: 'interrupted' };
  return stage.kind === 'finished' ? finishJob(spec, ctx, stage, jobSignal) : stage;
}

/** Polls until the service is done with the job; retires it when the service ended it. */
async function untilFinished(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  handle: JobHandle,
  first: JobState | null,
  signal: AbortSignal,
): Promise<InFlightOutcome> {
  const videoId = asVideoId(handle.id);
  let state: EndState;
  try {
    state = await pollUntilDone(spec, ctx, handle, first, signal);
  } catch (error) {
    return pollFailure(spec, ctx, intentId, videoId, error, signal);
  }
  if (state.state === 'failed') {
    const failure = endedFailure(state, videoId);
    await retire(ctx, () =>
      ctx.journal.recordFailed(intentId, ctx.clock.now(), failure.code ?? failure.reason),
    );
    return { kind: 'failed', failure };
  }
  ctx.emit({ type: 'job-completed', time: ctx.clock.now(), shot: spec.shot, videoId });
  ctx.recordRenderMs(spec, (state.completedAt ?? ctx.clock.now()) - handle.createdAt);
  return { kind: 'finished', intentId, handle, state };
}

/** The failure of a job the service ended, by its kind. */
function endedFailure(state: Extract<JobState, { state: 'failed' }>, videoId: VideoId): ShotFailure {
  const code = state.code === '' ? null : state.code;
  const message = state.message === '' ? 'the job failed without a message' : state.message;
  switch (state.kind) {
    case 'safety':
      return {
        reason: 'moderation-blocked',
        message,
        code,
        videoId,
        retryable: false,
        hint: 'change the prompt or reference image; the same request will be refused again',
      };
    case 'invalid':
      return { reason: 'invalid-request', message, code, videoId, retryable: false, hint: null };
    case 'gone':
      return {
        reason: 'lost-job',
        message: `the job ${videoId} is no longer on the service (${message}); it was not created again`,
        code,
        videoId,
        retryable: true,
        hint: 'run the build again to generate it anew',
      };
    case 'quota':
      return {
        reason: 'job-failed',
        message,
        code,
        videoId,
        retryable: false,
        hint: 'the provider refused for lack of credits or quota: top up the account or raise the quota, then build again',
      };
    case 'upstream':
      return { reason: 'job-failed', message, code, videoId, retryable: true, hint: null };
    default:
      return unreachable(state.kind);
  }
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

/** finished -> stored (every variant's video and asked-for assets) -> recorded -> retired. */
async function finishJob(
  spec: JobSpec,
  ctx: JobContext,
  finished: Extract<InFlightOutcome, { kind: 'finished' }>,
  signal: AbortSignal,
): Promise<JobResult> {
  const { intentId, handle, state } = finished;
  const videoId = asVideoId(handle.id);
  // An extension's length is the stitched total, which the service reports; everything else must be
  // exactly what was asked for.
  const expected =
    spec.operation === 'extend' && state.seconds !== undefined
      ? { ...spec.expected, seconds: state.seconds }
      : spec.expected;
  const checked = { shot: spec.shot, expected };
  const variants: VariantRecord[] = [];
  for (const output of state.outputs) {
    const main = await downloadVariant(checked, ctx, videoId, output.video, signal);
    if (!main.ok) return downloadFailure(ctx, intentId, videoId, main);
    const assets: Partial<Record<'thumbnail' | 'spritesheet', Sha256>> = {};
    for (const asset of spec.assets) {
      // An API without this asset (Veo has no thumbnail): placing the outputs makes it from the video.
      const ref = output[asset];
      if (ref === undefined) continue;
      const got = await downloadVariant(checked, ctx, videoId, ref, signal);
      if (!got.ok) return downloadFailure(ctx, intentId, videoId, got);
      assets[asset] = got.digest;
    }
    variants.push({ output: main.digest, bytes: main.bytes, assets });
  }
  const first = variants[0];
  if (first === undefined) throw new Error(`internal error: ${handle.provider} succeeded with no output`);
  const sample: Sample = {
    output: first.output,
    bytes: first.bytes,
    videoId,
    provider: ctx.providerName,
    createdAt: handle.createdAt,
    expiresAt: state.expiresAt,
    costUsd: spec.costUsd,
    assets: first.assets ?? {},
    handle,
    ...(variants.length > 1 ? { variants } : {}),
  };
  // recorded BEFORE retired: a crash between the two leaves an entry the next run retires (resumeJob), never
  // a paid video nobody knows about.
  const recorded = await guardLocalIo(
    `recording ${spec.shot} in the action cache`,
    videoId,
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
