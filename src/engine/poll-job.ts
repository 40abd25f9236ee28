/**
 * Polling one job until the service says it is no longer queued or rendering. The schedule is
 * scheduler/poll-policy.ts's; each poll takes a place in the polls lane and goes through the engine's
 * one retry layer. A transport failure that outlasts the retries is thrown (a `ProviderError`): the job is
 * still the service's to end, so the caller keeps it in the journal.
 */
import { asVideoId } from '../core/brand.ts';
import { nextPollDelay } from '../scheduler/poll-policy.ts';
import type { PollObservation } from '../scheduler/poll-policy.ts';
import type { JobHandle, JobState } from '../provider/job-api.ts';
import type { JobContext, JobSpec } from './job-types.ts';
import { withReadRetries } from './read-retries.ts';
import { NOT_STARTED, runInLane } from './lanes.ts';

/** A state the service has ended the job in. */
export type EndState = Extract<JobState, { state: 'succeeded' | 'failed' }>;

/**
 * Polls `handle` until it succeeds or fails. `first` is the state the submit answered with (null when not
 * known, e.g. after reconciliation: then the first poll is sent at once).
 */
export async function pollUntilDone(
  spec: JobSpec,
  ctx: JobContext,
  handle: JobHandle,
  first: JobState | null,
  signal: AbortSignal,
): Promise<EndState> {
  let state = first ?? (await poll(spec, ctx, handle, signal));
  const observations: PollObservation[] = [];
  const estimateMs = ctx.estimateRenderMs(spec);
  while (state.state !== 'succeeded' && state.state !== 'failed') {
    const elapsedMs = Math.max(0, ctx.clock.now() - handle.createdAt);
    const delay = nextPollDelay({
      elapsedMs,
      observations,
      estimateMs,
      pollAfterMs: state.state === 'unknown' ? null : state.pollAfterMs,
      jitter: ctx.random,
    });
    await ctx.clock.sleep(delay, signal);
    state = await poll(spec, ctx, handle, signal);
    // A status the adapter does not know (a gateway's `processing`) counts as rendering with no figure.
    const progress = state.state === 'running' ? state.progress : null;
    observations.push({ elapsedMs: Math.max(0, ctx.clock.now() - handle.createdAt), progress });
    if (state.state === 'queued' || state.state === 'running' || state.state === 'unknown') {
      ctx.emit({
        type: 'job-progress',
        time: ctx.clock.now(),
        shot: spec.shot,
        videoId: asVideoId(handle.id),
        status: state.state === 'queued' ? 'queued' : 'in_progress',
        progress: state.state === 'unknown' ? null : state.progress,
      });
    }
  }
  return state;
}

/** One poll, in the polls lane, retried by the engine's read policy. */
export function poll(
  spec: Pick<JobSpec, 'shot'>,
  ctx: JobContext,
  handle: JobHandle,
  signal: AbortSignal,
): Promise<JobState> {
  return withReadRetries(spec.shot, ctx, 'retrieve', signal, async () => {
    const state = await runInLane(ctx.lanes.polls, async () => (await ctx.provider()).poll(handle, signal), {
      signal,
    });
    if (state === NOT_STARTED) throw signal.reason;
    return state;
  });
}
