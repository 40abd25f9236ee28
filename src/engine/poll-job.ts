/**
 * Polling one job until the service says it is no longer queued or rendering. The schedule is
 * scheduler/poll-policy.ts's; each retrieve takes a place in the polls lane and goes through the engine's
 * one retry layer. A transport failure that outlasts the retries is thrown (a `ProviderError`): the job is
 * still the service's to end, so the caller keeps it in the journal.
 */
import { nextPollDelay } from '../scheduler/poll-policy.ts';
import type { PollObservation } from '../scheduler/poll-policy.ts';
import type { RemoteVideo } from '../provider/types.ts';
import type { JobContext, JobSpec } from './job-types.ts';
import { withReadRetries } from './read-retries.ts';
import { NOT_STARTED, runInLane } from './lanes.ts';

export async function pollUntilDone(
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
      jitter: ctx.random,
    });
    await ctx.clock.sleep(delay, signal);
    video = await retrieve(spec, ctx, video.id, signal);
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

/** One retrieve, in the polls lane, retried by the engine's read policy. */
export function retrieve(
  spec: Pick<JobSpec, 'shot'>,
  ctx: JobContext,
  id: RemoteVideo['id'],
  signal: AbortSignal,
): Promise<RemoteVideo> {
  return withReadRetries(spec.shot, ctx, 'retrieve', signal, async () => {
    const video = await runInLane(ctx.lanes.polls, async () => (await ctx.provider()).retrieve(id, signal), {
      signal,
    });
    if (video === NOT_STARTED) throw signal.reason;
    return video;
  });
}
