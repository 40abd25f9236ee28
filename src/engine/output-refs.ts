/**
 * Finding a finished job's outputs again after the build that made it: a thumbnail asked for later, a pinned
 * video the store lost. The APIs with a content endpoint (the OpenAI Videos API and its emulator, Sora 1)
 * serve every output from the handle alone; the others (signed URLs that expire, inline bytes) are polled
 * again for fresh references.
 */
import type { JobHandle, OutputAsset, OutputRef } from '../provider/job-api.ts';
import { idAloneFindsJob } from '../provider/job-handle.ts';
import { ProviderError } from '../provider/types.ts';
import type { JobContext } from './job-types.ts';
import { poll } from './poll-job.ts';

/**
 * A reference to variant `index`'s `asset` of the job, `gone` when the service no longer has the job, or
 * null when the API offers no such asset (Veo has no thumbnail). Transport failures are thrown.
 */
export async function outputRefAgain(options: {
  readonly ctx: JobContext;
  readonly shot: Parameters<typeof poll>[0]['shot'];
  readonly handle: JobHandle;
  readonly index: number;
  readonly asset: OutputAsset;
  readonly signal: AbortSignal;
}): Promise<OutputRef | 'gone' | null> {
  const { ctx, handle, index, asset, signal } = options;
  if (idAloneFindsJob(handle)) return { kind: 'content', handle, index, asset, expiresAt: null };
  let state;
  try {
    state = await poll({ shot: options.shot }, ctx, handle, signal);
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'not-found') return 'gone';
    throw error;
  }
  if (state.state === 'failed') return 'gone';
  if (state.state !== 'succeeded') return null;
  const output = state.outputs.find((o) => o.index === index);
  return output === undefined ? 'gone' : (output[asset] ?? null);
}
