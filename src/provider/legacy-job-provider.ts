/**
 * A `JobProvider` over an adapter that still speaks the older, OpenAI-shaped `VideoProvider` (types.ts), so
 * the engine knows only the new interface while adapters move onto it one by one. It adds no behaviour: one
 * submit is one create/remix/extend, one poll is one retrieve, one fetch is one content download, and every
 * `ProviderError` passes through untouched (the engine's retry and money rules see exactly what they saw).
 *
 * Mapping:
 * - a remix/extend is `request.parent.handle.id` (the parent's remote video id) with the prompt (and the added
 *   seconds, for extend); a create sends the first frame, when there is one, as the input reference;
 * - the OpenAI states: `queued` → queued, `in_progress` → running, `completed` → succeeded with one variant
 *   whose video, thumbnail and spritesheet are the job's content endpoint (kind `content`), `failed` →
 *   failed (`safety` for a moderation code, else `upstream`);
 * - `list` is the adapter's List, newest first, each video as a `ListedJob`.
 */
import type { ProviderConfig } from '../config/types.ts';
import type { ProviderFamily } from '../config/capabilities.ts';
import { asVideoId } from '../core/brand.ts';
import type {
  FetchedOutput,
  GenerationRequest,
  JobHandle,
  JobProvider,
  JobState,
  ListedJob,
  OutputRef,
  SubmitOptions,
} from './job-api.ts';
import { isModerationCode } from './moderation-codes.ts';
import type { RemoteVideo, VideoProvider } from './types.ts';
import { ProviderError } from './types.ts';

export class LegacyJobProvider implements JobProvider {
  readonly name: string;
  readonly type: ProviderConfig['type'];
  readonly family: ProviderFamily;
  /** The wrapped adapter (tests wrap it further; `videos` housekeeping still uses it directly). */
  readonly legacy: VideoProvider;

  constructor(options: { readonly legacy: VideoProvider; readonly type: ProviderConfig['type'] }) {
    this.legacy = options.legacy;
    this.name = options.legacy.name;
    this.family = options.legacy.family;
    this.type = options.type;
  }

  async submit(
    request: GenerationRequest,
    options: SubmitOptions,
  ): Promise<{ readonly handle: JobHandle; readonly state: JobState }> {
    const { signal } = options;
    const parent = request.parent;
    let video: RemoteVideo;
    if (parent !== undefined) {
      const id = asVideoId(parent.handle.id);
      video =
        parent.relation === 'remix'
          ? await this.legacy.remix(id, request.prompt, signal)
          : await this.legacy.extend(id, request.prompt, request.seconds, signal);
    } else {
      const refused = unsupported(request);
      if (refused !== null) {
        throw new ProviderError({
          kind: 'invalid-request',
          message: `${this.name}: this provider type cannot take ${refused}`,
          delivered: 'no',
        });
      }
      const first = request.frames[0];
      video = await this.legacy.create(
        {
          model: request.model,
          prompt: request.prompt,
          size: request.size,
          seconds: request.seconds,
          ...(first === undefined
            ? {}
            : {
                inputReference: {
                  bytes: first.image.bytes,
                  mime: first.image.mime,
                  filename: first.image.filename,
                },
              }),
        },
        signal,
      );
    }
    const handle = this.handleOf(video);
    return { handle, state: this.stateOf(handle, video) };
  }

  async poll(handle: JobHandle, signal?: AbortSignal): Promise<JobState> {
    return this.stateOf(handle, await this.legacy.retrieve(asVideoId(handle.id), signal));
  }

  async fetch(output: OutputRef, signal?: AbortSignal): Promise<FetchedOutput> {
    if (output.kind !== 'content') {
      throw new ProviderError({
        kind: 'invalid-request',
        message: `${this.name}: cannot fetch a ${output.kind} output`,
        delivered: 'no',
      });
    }
    return this.legacy.download(asVideoId(output.handle.id), output.asset, signal);
  }

  async *list(signal?: AbortSignal): AsyncIterable<ListedJob> {
    for await (const video of this.legacy.list({ order: 'desc', limit: 100 }, signal)) {
      yield {
        handle: this.handleOf(video),
        model: video.model,
        size: video.size,
        seconds: video.seconds,
        prompt: video.prompt,
        parentId: video.remixedFrom,
      };
    }
  }

  async delete(handle: JobHandle, signal?: AbortSignal): Promise<void> {
    await this.legacy.delete(asVideoId(handle.id), signal);
  }

  close(): Promise<void> {
    return this.legacy.close();
  }

  /** The handle of a job this adapter made: its id is all the older APIs need to resume it. */
  handleOf(video: Pick<RemoteVideo, 'id' | 'model' | 'createdAt'>): JobHandle {
    return {
      type: this.type,
      provider: this.name,
      id: video.id,
      model: video.model,
      createdAt: video.createdAt,
    };
  }

  stateOf(handle: JobHandle, video: RemoteVideo): JobState {
    switch (video.status) {
      case 'queued':
        return { state: 'queued', progress: video.progress, pollAfterMs: video.pollAfterMs };
      case 'in_progress':
        return { state: 'running', progress: video.progress, pollAfterMs: video.pollAfterMs };
      case 'completed': {
        const ref = (asset: 'video' | 'thumbnail' | 'spritesheet'): OutputRef => ({
          kind: 'content',
          handle,
          index: 0,
          asset,
          expiresAt: video.expiresAt,
        });
        return {
          state: 'succeeded',
          outputs: [
            { index: 0, video: ref('video'), thumbnail: ref('thumbnail'), spritesheet: ref('spritesheet') },
          ],
          completedAt: video.completedAt,
          expiresAt: video.expiresAt,
          seconds: video.seconds,
        };
      }
      case 'failed': {
        const code = video.error?.code ?? null;
        return {
          state: 'failed',
          kind: code !== null && isModerationCode(code) ? 'safety' : 'upstream',
          code: code ?? '',
          message: video.error?.message ?? 'the job failed without a message',
        };
      }
    }
  }
}

/** What a `VideoProvider` cannot send, named for the user; null when the request fits. */
function unsupported(request: GenerationRequest): string | null {
  if (request.variants !== 1) return `${request.variants} variants`;
  if (request.frames.length > 1 || (request.frames[0] !== undefined && request.frames[0].at !== 'first'))
    return 'frames other than a first frame';
  if (request.inputVideo !== undefined) return 'an input video';
  if (request.referenceImages.length > 0) return 'reference images';
  if (request.negativePrompt !== undefined) return 'a negative prompt';
  if (request.seed !== undefined) return 'a seed';
  if (request.audio !== undefined) return 'an audio setting';
  return null;
}

/** Whether `provider` is a `JobProvider` already (it submits) or an older adapter the shim must wrap. */
export function isJobProvider(provider: JobProvider | VideoProvider): provider is JobProvider {
  return typeof (provider as Partial<JobProvider>).submit === 'function';
}

/** `provider` as a `JobProvider`, wrapping an older adapter of the configured `type`. */
export function asJobProvider(
  provider: JobProvider | VideoProvider,
  type: ProviderConfig['type'],
): JobProvider {
  return isJobProvider(provider) ? provider : new LegacyJobProvider({ legacy: provider, type });
}
