/**
 * Everything one emulator instance knows: its jobs, quota, faults, random streams and renders. The HTTP
 * layers (server.ts, the API route files) read and change it; nothing here touches a socket.
 */
import type { Clock } from '../core/clock.ts';
import type { ApiError } from './api-error.ts';
import { CreateQuota } from './create-quota.ts';
import type { EmulatorFaults } from './emulator-faults.ts';
import { findWord } from './emulator-faults.ts';
import type { JobFailure, Segment, VideoJob } from './job-store.ts';
import { JobStore, viewJob } from './job-store.ts';
import type { Prng } from './prng.ts';
import { createPrng, seedFromString } from './prng.ts';
import type { RenderedAssets } from './renderer.ts';
import { LOOKS, Renderer } from './renderer.ts';

/** What a route answers; server.ts turns it into bytes on the wire (and applies faults). */
export type RouteResult =
  | {
      readonly kind: 'json';
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Readonly<Record<string, string>>;
      readonly videoId?: string;
      /** A create, remix or extend that made a job: the lost-response fault applies. */
      readonly created?: boolean;
    }
  | { readonly kind: 'error'; readonly error: ApiError; readonly videoId?: string }
  | {
      readonly kind: 'binary';
      readonly contentType: string;
      /** Sent first. */
      readonly bytes: Buffer;
      /** Zero bytes of a trailing `free` box after `bytes` (largeVideoBytes), header included in `padHeader`. */
      readonly padHeader?: Buffer;
      readonly padZeros?: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly videoId: string;
      /** HEAD: headers only. */
      readonly headOnly?: boolean;
    }
  | { readonly kind: 'empty'; readonly status: number; readonly videoId?: string };

export interface EmulatorStateOptions {
  readonly clock: Clock;
  readonly renderSecondsPerSecond: number;
  readonly createsPerMinute: number;
  readonly faults: EmulatorFaults;
  readonly seed: number;
  readonly renderFps: number;
}

export interface NewJob {
  readonly model: string;
  readonly prompt: string;
  readonly size: string;
  readonly seconds: number;
  /** Seconds of new material: what the render time is based on (an extension renders only its new part). */
  readonly newSeconds: number;
  readonly segments: readonly Segment[];
  readonly remixedFrom: string | null;
  readonly audio: boolean;
  /** `video_` for the Videos API, `task_` for Sora 1 jobs. */
  readonly idPrefix?: string;
}

export class EmulatorState {
  readonly clock: Clock;
  readonly jobs = new JobStore();
  readonly quota: CreateQuota;
  readonly renderSecondsPerSecond: number;
  faults: EmulatorFaults;
  /** Separate streams, so turning one fault on does not change ids or other outcomes. */
  readonly idRandom: Prng;
  readonly faultRandom: Prng;
  readonly jobRandom: Prng;
  readonly renderer: Renderer;
  readonly #renders = new Map<string, Promise<RenderedAssets>>();

  constructor(options: EmulatorStateOptions) {
    this.clock = options.clock;
    this.renderSecondsPerSecond = options.renderSecondsPerSecond;
    this.quota = new CreateQuota(options.createsPerMinute);
    this.faults = options.faults;
    this.idRandom = createPrng(seedFromString('ids', options.seed));
    this.faultRandom = createPrng(seedFromString('faults', options.seed));
    this.jobRandom = createPrng(seedFromString('jobs', options.seed));
    this.renderer = new Renderer({ fps: options.renderFps });
  }

  /** The id prefix plus 32 hex digits, like `video_68f10985d6c4819097007665bdcfba5f`. */
  newId(prefix: string): string {
    return `${prefix}${this.idRandom.hex(32)}`;
  }

  createJob(input: NewJob): VideoJob {
    const [w, h] = input.size.split('x').map(Number) as [number, number];
    const totalMs = Math.round(this.renderSecondsPerSecond * input.newSeconds * 1000);
    // A tenth of the time in the queue, the rest rendering, like the service's short queued phase.
    const queuedMs = Math.round(totalMs / 10);
    let failure: JobFailure | null = null;
    if (findWord(input.prompt, this.faults.moderationWords) !== undefined) {
      failure = {
        code: 'moderation_blocked',
        message: 'Your request was blocked by our moderation system.',
        atFraction: 0,
      };
    } else if (this.jobRandom.chance(this.faults.jobFailureRate)) {
      failure = {
        code: 'internal_error',
        message: 'Video generation failed. Please try again.',
        atFraction: 0.3 + 0.6 * this.jobRandom.next(),
      };
    }
    const id = this.newId(input.idPrefix ?? 'video_');
    const job: VideoJob = {
      id,
      seq: this.jobs.nextSeq(),
      model: input.model,
      prompt: input.prompt,
      size: input.size,
      width: w,
      height: h,
      seconds: input.seconds,
      segments: input.segments,
      audio: input.audio,
      createdAt: this.clock.now(),
      queuedMs,
      renderMs: totalMs - queuedMs,
      failure,
      remixedFrom: input.remixedFrom,
      seed: seedFromString(id),
    };
    this.jobs.add(job);
    return job;
  }

  /** The job's rendered assets, rendered on first use (never on the event loop: ffmpeg runs as a child). */
  assets(job: VideoJob): Promise<RenderedAssets> {
    let pending = this.#renders.get(job.id);
    if (pending === undefined) {
      pending = this.renderer.render({
        width: job.width,
        height: job.height,
        seconds: job.seconds,
        audio: job.audio,
        segments: job.segments,
        caption: `${job.model} · ${job.size} · ${job.seconds}s`,
        look: job.seed % LOOKS,
      });
      this.#renders.set(job.id, pending);
      pending.catch(() => this.#renders.delete(job.id));
    }
    return pending;
  }

  forget(id: string): void {
    this.jobs.delete(id);
    this.#renders.delete(id);
  }

  /** Suggested poll delay for a running job, in emulator ms: a fifth of what is left, 0.5 s to 10 s. */
  pollAfterMs(job: VideoJob): number | null {
    const view = viewJob(job, this.clock.now());
    if (view.status === 'completed' || view.status === 'failed') return null;
    return Math.min(10_000, Math.max(500, Math.round(view.remainingMs / 5)));
  }
}
