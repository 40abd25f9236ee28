/**
 * Submitting one job: the create lane's slot, the journal intent, the create/remix/extend request, and
 * what to do when its answer is lost. See job-lifecycle.ts for where this sits in a job's life.
 *
 * Never pay twice: the intent is fsynced before the request leaves; after a failure that may have reached
 * the service, the job is looked for through List, and a new create is sent only after a List that
 * answered without it (`reconcileThroughList`). While List cannot be read, nothing is created: the intent
 * stays in the journal and the next build reconciles it.
 */
import type { VideoId } from '../core/brand.ts';
import { createRecovery, retryDelay } from '../scheduler/retry-policy.ts';
import type { Intent } from '../scheduler/journal.ts';
import { promptSha256, reconcile } from '../scheduler/journal.ts';
import type { RemoteVideo, VideoProvider } from '../provider/types.ts';
import { ProviderError } from '../provider/types.ts';
import type { JobContext, JobSpec } from './job-types.ts';
import { withReadRetries, retryReason } from './read-retries.ts';
import { NOT_STARTED, runInLane } from './lanes.ts';
import { guardLocalIo, localIoCode, localIoFailure, providerFailure } from './shot-failure.ts';
import type { ShotFailure } from './shot-failure.ts';

/** Attempts per create before giving up (429s, refused connections, Lists that found nothing). */
const MAX_CREATE_ATTEMPTS = 8;

export type Submitted =
  /** The service accepted the job; its id is in the journal (or, if that write failed, in memory). */
  | { readonly kind: 'submitted'; readonly intentId: string; readonly video: RemoteVideo }
  /** Nothing is on the service for this attempt (or a List that answered said so). */
  | { readonly kind: 'failed'; readonly failure: ShotFailure }
  /** Stopped before the request was sent. */
  | { readonly kind: 'cancelled' }
  /** The engine stopped while the request was out: the intent stays in the journal for the next run. */
  | { readonly kind: 'interrupted' };

/** The outcome of looking for an intent's job through List. */
export type ListLookup =
  | { readonly kind: 'found'; readonly video: RemoteVideo }
  /** List answered and the job is not there: the create never took effect, so a new one cannot pay twice. */
  | { readonly kind: 'not-found' }
  /** List could not be read: nothing may be created for this intent now. */
  | { readonly kind: 'unreadable'; readonly message: string };

/**
 * Sends the create for `spec`, retrying while it provably created nothing. `dispatchSignal` cancels only
 * until the request is sent; `jobSignal` (the engine closing) stops waits afterwards.
 */
export async function submitJob(
  spec: JobSpec,
  ctx: JobContext,
  dispatchSignal: AbortSignal,
  jobSignal: AbortSignal,
): Promise<Submitted> {
  for (let attempt = 1; ; attempt++) {
    let sent: Sent | 'cancelled' | 'interrupted';
    try {
      const turn = await runInLane(ctx.lanes.turns, () => sendOnce(spec, ctx, dispatchSignal, jobSignal), {
        priority: spec.priority,
        signal: dispatchSignal,
      });
      sent = turn === NOT_STARTED ? 'cancelled' : turn;
    } catch (error) {
      if (dispatchSignal.aborted) return { kind: 'cancelled' };
      if (localIoCode(error) !== undefined)
        return { kind: 'failed', failure: localIoFailure(error, 'recording the create', null) };
      throw error;
    }
    if (sent === 'cancelled' || sent === 'interrupted') return { kind: sent };
    if (sent.kind === 'failed') return sent;
    const { intent, failure } = sent;
    if (sent.remote !== undefined) {
      await recordSubmitted(spec, ctx, intent.id, sent.remote);
      return { kind: 'submitted', intentId: intent.id, video: sent.remote };
    }
    if (failure === undefined)
      throw new Error('internal error: create produced neither a video nor an error');

    const recovery = createRecovery(failure);
    if (recovery === 'reconcile') {
      const found = await reconcileThroughList(spec, intent, ctx, jobSignal);
      ctx.emit({
        type: 'reconciled',
        time: ctx.clock.now(),
        shot: spec.shot,
        matched: found.kind === 'found',
        videoId: found.kind === 'found' ? found.video.id : null,
      });
      if (found.kind === 'found') {
        await recordSubmitted(spec, ctx, intent.id, found.video);
        return { kind: 'submitted', intentId: intent.id, video: found.video };
      }
      if (found.kind === 'unreadable') return { kind: 'failed', failure: unreconciledFailure(spec, found) };
    }
    // Provably nothing on the service for this intent: a definite refusal, a request that never left, a
    // 429, or a List that answered without it.
    await ctx.journal
      .recordAbandoned(intent.id, ctx.clock.now(), failure.code ?? failure.kind)
      .catch(() => undefined); // the next build's List finds nothing for it and retires it then
    if (failure.kind === 'not-found' && spec.parentVideoId !== null) {
      return { kind: 'failed', failure: parentGone(spec.parentVideoId, failure) };
    }
    if (recovery === 'give-up' || attempt >= MAX_CREATE_ATTEMPTS) {
      return { kind: 'failed', failure: providerFailure(failure, null) };
    }
    let delayMs = 0;
    if (failure.kind === 'rate-limited') {
      const { blockedUntil } = await ctx.ledger.penalise({ retryAfterMs: failure.retryAfterMs });
      ctx.emit({
        type: 'quota-wait',
        time: ctx.clock.now(),
        shot: spec.shot,
        until: blockedUntil,
        reason: 'rate-limited',
        retryAfterMs: failure.retryAfterMs ?? null,
      });
    } else {
      delayMs = retryDelay({ attempt, retryAfterMs: failure.retryAfterMs, jitter: ctx.random });
    }
    ctx.emit({
      type: 'retry',
      time: ctx.clock.now(),
      shot: spec.shot,
      operation: spec.operation,
      attempt: attempt + 1,
      delayMs,
      reason: retryReason(failure),
      message: failure.message,
    });
    try {
      await ctx.clock.sleep(delayMs, AbortSignal.any([dispatchSignal, jobSignal]));
    } catch {
      return { kind: 'cancelled' };
    }
  }
}

type Sent =
  | {
      readonly kind: 'sent';
      readonly intent: Intent;
      readonly remote?: RemoteVideo;
      readonly failure?: ProviderError;
    }
  | { readonly kind: 'failed'; readonly failure: ShotFailure };

/** One turn: the per-minute slot, the intent, the request. Runs inside the turns lane. */
async function sendOnce(
  spec: JobSpec,
  ctx: JobContext,
  dispatchSignal: AbortSignal,
  jobSignal: AbortSignal,
): Promise<Sent | 'cancelled' | 'interrupted'> {
  const both = AbortSignal.any([dispatchSignal, jobSignal]);
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
  let slot: { readonly at: number };
  let provider: VideoProvider;
  try {
    slot = await ctx.ledger.acquireCreateSlot({ limit: ctx.createsPerMinute, signal: both });
    provider = await ctx.provider();
  } catch (error) {
    if (both.aborted) return 'cancelled';
    if (error instanceof ProviderError) return { kind: 'failed', failure: providerFailure(error, null) };
    throw error;
  }
  // From here on a request may reach the service: the dispatch signal no longer cancels it.
  const recorded = await guardLocalIo('recording the create in the journal', null, () =>
    ctx.journal.recordIntent({
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
    }),
  );
  // No intent on disk, no request: a crash after sending would leave a job nobody could find again.
  if (!recorded.ok) return { kind: 'failed', failure: recorded.failure };
  const intent = recorded.value;
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
    // Stopped by the engine closing: the request may have reached the service, so the intent stays in the
    // journal for the next run to reconcile.
    if (jobSignal.aborted) return 'interrupted';
    if (!(error instanceof ProviderError)) throw error;
    failure = error;
  }
  // The slot's time moves to the answer (create-ledger.ts); a failure to write it only makes the window
  // slightly early, which the service's 429 corrects.
  await ctx.ledger.settle(slot.at, ctx.clock.now()).catch(() => undefined);
  return remote !== undefined
    ? { kind: 'sent', intent, remote }
    : { kind: 'sent', intent, ...(failure === undefined ? {} : { failure }) };
}

/**
 * The remote id goes to the journal the moment it is known. If that write fails (disk full) the job goes on
 * in memory: it is paid for, and a crash now leaves an intent the next run finds again through List.
 */
async function recordSubmitted(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  video: RemoteVideo,
): Promise<void> {
  await ctx.journal.recordSubmitted(intentId, video.id, video.createdAt).catch(() => undefined);
  ctx.emit({ type: 'job-submitted', time: ctx.clock.now(), shot: spec.shot, videoId: video.id });
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
export async function reconcileThroughList(
  spec: Pick<JobSpec, 'shot'>,
  intent: Intent,
  ctx: JobContext,
  signal: AbortSignal,
): Promise<ListLookup> {
  try {
    const listed = await withReadRetries(spec.shot, ctx, 'list', signal, async () => {
      const videos: RemoteVideo[] = [];
      for await (const video of (await ctx.provider()).list({ order: 'desc', limit: 100 }, signal)) {
        // Newest first: stop once well past the intent (a minute of allowance for clock skew).
        if (video.createdAt < intent.at - 60_000) break;
        videos.push(video);
      }
      return videos;
    });
    // Ids other journal entries already own (another shot with the same prompt, model, size and seconds) are
    // never matched to this one.
    const claimed = new Set(ctx.claimedVideoIds());
    for (const p of await ctx.journal.pending().catch(() => [])) {
      if (p.videoId !== null && p.intent.id !== intent.id) claimed.add(p.videoId);
    }
    const result = reconcile(intent, listed, { claimed });
    return result.outcome === 'found' ? { kind: 'found', video: result.video } : { kind: 'not-found' };
  } catch (error) {
    if (error instanceof ProviderError) return { kind: 'unreadable', message: error.message };
    if (signal.aborted) return { kind: 'unreadable', message: 'stopped before the List answered' };
    throw error;
  }
}

export function unreconciledFailure(
  spec: Pick<JobSpec, 'shot'>,
  lookup: { readonly message: string },
): ShotFailure {
  return {
    reason: 'unreconciled',
    message: `the answer to ${spec.shot}'s create was lost and the service's List could not be read to find the job (${lookup.message}); nothing was created again`,
    code: null,
    videoId: null,
    retryable: true,
    hint: 'run the build again once the service answers: the job is looked for before anything is created',
  };
}

function parentGone(parent: VideoId, failure: ProviderError): ShotFailure {
  return {
    reason: 'parent-expired',
    message: `the parent video ${parent} is no longer on the service (expired or deleted): ${failure.message}`,
    code: failure.code ?? null,
    videoId: null,
    retryable: false,
    hint: 'run again with --regenerate-expired to regenerate the parent (and so every shot made from it)',
  };
}
