/**
 * Submitting one job: the create lane's slot, the journal intent, the create/remix/extend request, and
 * what to do when its answer is lost. See job-lifecycle.ts for where this sits in a job's life.
 *
 * Never pay twice: the intent is fsynced before the request leaves; after a failure that may have reached
 * the service, the job is looked for through List, and a new create is sent only after a List that
 * answered without it (`reconcileThroughList`). While List cannot be read, nothing is created: the intent
 * stays in the journal and the next build reconciles it.
 */
import { asVideoId } from '../core/brand.ts';
import { createRecovery, retryDelay } from '../scheduler/retry-policy.ts';
import type { Intent, ReconcileCandidate } from '../scheduler/journal.ts';
import { promptSha256, reconcile } from '../scheduler/journal.ts';
import type { JobHandle, JobProvider, JobState, ListedJob } from '../provider/job-api.ts';
import { ProviderError } from '../provider/types.ts';
import type { JobContext, JobSpec } from './job-types.ts';
import { withReadRetries, retryReason } from './read-retries.ts';
import { NOT_STARTED, runInLane } from './lanes.ts';
import { guardLocalIo, localIoCode, localIoFailure, providerFailure } from './shot-failure.ts';
import type { ShotFailure } from './shot-failure.ts';

/** Attempts per create before giving up (429s, refused connections, Lists that found nothing). */
const MAX_CREATE_ATTEMPTS = 8;

export type Submitted =
  /** The service accepted the job; its handle is in the journal (or, if that write failed, in memory). */
  | {
      readonly kind: 'submitted';
      readonly intentId: string;
      readonly handle: JobHandle;
      /** The state the submit answered with, or null after reconciliation (poll to know). */
      readonly state: JobState | null;
    }
  /** Nothing is on the service for this attempt (or a List that answered said so). */
  | { readonly kind: 'failed'; readonly failure: ShotFailure }
  /** Stopped before the request was sent. */
  | { readonly kind: 'cancelled' }
  /** The engine stopped while the request was out: the intent stays in the journal for the next run. */
  | { readonly kind: 'interrupted' };

/** The outcome of looking for an intent's job through List. */
export type ListLookup =
  | { readonly kind: 'found'; readonly handle: JobHandle }
  /** List answered and the job is not there: the create never took effect, so a new one cannot pay twice. */
  | { readonly kind: 'not-found' }
  /** List could not be read: nothing may be created for this intent now. */
  | { readonly kind: 'unreadable'; readonly message: string }
  /**
   * The provider cannot list its jobs (Veo, Runway, fal): whether the lost create took effect cannot be
   * known, so nothing is created for the intent unless the user says to (see `unreconciledFailure`).
   */
  | { readonly kind: 'unlistable' };

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
      await recordSubmitted(spec, ctx, intent.id, sent.remote.handle);
      return { kind: 'submitted', intentId: intent.id, ...sent.remote };
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
        videoId: found.kind === 'found' ? asVideoId(found.handle.id) : null,
      });
      if (found.kind === 'found') {
        await recordSubmitted(spec, ctx, intent.id, found.handle);
        return { kind: 'submitted', intentId: intent.id, handle: found.handle, state: null };
      }
      if (found.kind === 'unreadable' || found.kind === 'unlistable')
        return { kind: 'failed', failure: unreconciledFailure(spec, found) };
    }
    // Provably nothing on the service for this intent: a definite refusal, a request that never left, a
    // 429, or a List that answered without it.
    await ctx.journal
      .recordAbandoned(intent.id, ctx.clock.now(), failure.code ?? failure.kind)
      .catch(() => undefined); // the next build's List finds nothing for it and retires it then
    if (failure.kind === 'not-found' && spec.parent !== null) {
      return { kind: 'failed', failure: parentGone(spec.parent.id, failure) };
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
      readonly remote?: { readonly handle: JobHandle; readonly state: JobState };
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
  let provider: JobProvider;
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
        parentVideoId: spec.parent === null ? null : asVideoId(spec.parent.id),
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
    parentVideoId: spec.parent === null ? null : asVideoId(spec.parent.id),
  });
  let remote: { readonly handle: JobHandle; readonly state: JobState } | undefined;
  let failure: ProviderError | undefined;
  try {
    // The intent's id is the idempotency key: where the API takes one, a resend cannot pay twice there.
    remote = await provider.submit(spec.request, { idempotencyKey: intent.id, signal: jobSignal });
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
 * The handle goes to the journal the moment it is known. If that write fails (disk full) the job goes on
 * in memory: it is paid for, and a crash now leaves an intent the next run finds again through List.
 */
async function recordSubmitted(
  spec: JobSpec,
  ctx: JobContext,
  intentId: string,
  handle: JobHandle,
): Promise<void> {
  const videoId = asVideoId(handle.id);
  await ctx.journal.recordSubmitted(intentId, videoId, handle.createdAt, handle).catch(() => undefined);
  ctx.emit({ type: 'job-submitted', time: ctx.clock.now(), shot: spec.shot, videoId });
}

/** Looks for the job a lost create response may have made, through the List endpoint. */
export async function reconcileThroughList(
  spec: Pick<JobSpec, 'shot'>,
  intent: Intent,
  ctx: JobContext,
  signal: AbortSignal,
): Promise<ListLookup> {
  try {
    const provider = await ctx.provider();
    if (provider.list === undefined) return { kind: 'unlistable' };
    const list = provider.list.bind(provider);
    const listed = await withReadRetries(spec.shot, ctx, 'list', signal, async () => {
      const jobs: (ReconcileCandidate & { readonly listed: ListedJob })[] = [];
      for await (const job of list(signal)) {
        // Newest first: stop once well past the intent (a minute of allowance for clock skew).
        if (job.handle.createdAt < intent.at - 60_000) break;
        jobs.push({
          id: job.handle.id,
          createdAt: job.handle.createdAt,
          model: job.model,
          size: job.size,
          seconds: job.seconds,
          prompt: job.prompt,
          remixedFrom: job.parentId,
          listed: job,
        });
      }
      return jobs;
    });
    // Ids other journal entries already own (another shot with the same prompt, model, size and seconds) are
    // never matched to this one.
    const claimed = new Set(ctx.claimedVideoIds());
    for (const p of await ctx.journal.pending().catch(() => [])) {
      if (p.videoId !== null && p.intent.id !== intent.id) claimed.add(p.videoId);
    }
    const result = reconcile(intent, listed, { claimed });
    return result.outcome === 'found'
      ? { kind: 'found', handle: result.video.listed.handle }
      : { kind: 'not-found' };
  } catch (error) {
    if (error instanceof ProviderError) return { kind: 'unreadable', message: error.message };
    if (signal.aborted) return { kind: 'unreadable', message: 'stopped before the List answered' };
    throw error;
  }
}

export function unreconciledFailure(
  spec: Pick<JobSpec, 'shot'>,
  lookup: Extract<ListLookup, { kind: 'unreadable' | 'unlistable' }>,
): ShotFailure {
  if (lookup.kind === 'unlistable') {
    return {
      reason: 'unreconciled',
      message: `the answer to ${spec.shot}'s create was lost, and this provider cannot list its jobs, so whether the job was created cannot be known; nothing was created again`,
      code: null,
      videoId: null,
      retryable: false,
      hint: `look for the job in the provider's console; to create it anew (which may pay twice) run \`sora-build build --shot ${spec.shot} --resubmit-unreconciled\``,
    };
  }
  return {
    reason: 'unreconciled',
    message: `the answer to ${spec.shot}'s create was lost and the service's List could not be read to find the job (${lookup.message}); nothing was created again`,
    code: null,
    videoId: null,
    retryable: true,
    hint: 'run the build again once the service answers: the job is looked for before anything is created',
  };
}

function parentGone(parent: string, failure: ProviderError): ShotFailure {
  return {
    reason: 'parent-expired',
    message: `the parent video ${parent} is no longer on the service (expired or deleted): ${failure.message}`,
    code: failure.code ?? null,
    videoId: null,
    retryable: false,
    hint: 'run again with --regenerate-expired to regenerate the parent (and so every shot made from it)',
  };
}
