/**
 * Everything one emulator instance knows: its jobs, quota, faults, random streams and renders. The HTTP
 * layers (server.ts, the API route files) read and change it; nothing here touches a socket.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import { clockSpeed } from '../core/clock.ts';
import type { ApiError } from './api-error.ts';
import { CreateQuota } from './create-quota.ts';
import type { EmulatorFaults } from './emulator-faults.ts';
import { findWord } from './emulator-faults.ts';
import type { JobFailure, Segment, VideoJob } from './job-store.ts';
import type { JobArchive } from './job-archive.ts';
import { EXPIRY_MS, JobStore, viewJob } from './job-store.ts';
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
      /** 200, or 206 for a range. @default 200 */
      readonly status?: number;
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
  /** Start rendering a Videos API job's assets when it is created (see EmulatorOptions). @default false */
  readonly renderOnCreate?: boolean;
  readonly azureDeployments?: Readonly<Record<string, string>> | undefined;
  /** Where jobs are kept across runs (see JobArchive). @default none: jobs live in memory only */
  readonly archive?: JobArchive | undefined;
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
  /** Which API the job belongs to. @default 'videos' */
  readonly api?: VideoJob['api'];
  /** Sora 1 generations per job. @default 1 */
  readonly variants?: number;
  /** Sora 1: echoed back on the job. */
  readonly inpaintItems?: readonly unknown[];
  /** The reference image (already the video's size: clients resize before upload, as `fit` says). */
  readonly reference?: Buffer;
  readonly parent?: VideoJob['parent'];
  /** Emulator ms the job waits for a concurrency slot before its own queue time (Runway's THROTTLED). */
  readonly throttledMs?: number;
  readonly extra?: VideoJob['extra'];
}

export class EmulatorState {
  readonly clock: Clock;
  readonly jobs = new JobStore();
  readonly quota: CreateQuota;
  readonly renderSecondsPerSecond: number;
  /** Azure deployment name -> model; undefined accepts any deployment name. */
  readonly azureDeployments: Readonly<Record<string, string>> | undefined;
  faults: EmulatorFaults;
  /** Separate streams, so turning one fault on does not change ids or other outcomes. */
  readonly idRandom: Prng;
  readonly faultRandom: Prng;
  readonly jobRandom: Prng;
  readonly renderer: Renderer;
  readonly #renders = new Map<string, Promise<RenderedAssets>>();
  readonly #renderOnCreate: boolean;
  readonly #generations = new Map<string, { jobId: string; index: number }>();
  readonly #archive: JobArchive | undefined;
  readonly #writes = new Set<Promise<void>>();
  /** Reference images by sha256. */
  readonly #images = new Map<string, Buffer>();

  constructor(options: EmulatorStateOptions) {
    this.clock = options.clock;
    this.renderSecondsPerSecond = options.renderSecondsPerSecond;
    this.azureDeployments = options.azureDeployments;
    this.quota = new CreateQuota(options.createsPerMinute);
    this.faults = options.faults;
    this.idRandom = createPrng(seedFromString('ids', options.seed));
    this.faultRandom = createPrng(seedFromString('faults', options.seed));
    this.jobRandom = createPrng(seedFromString('jobs', options.seed));
    this.renderer = new Renderer({ fps: options.renderFps });
    this.#renderOnCreate = options.renderOnCreate ?? false;
    this.#archive = options.archive;
  }

  /** Takes in the jobs an earlier run kept (a no-op without an archive). */
  async restore(): Promise<void> {
    for (const job of (await this.#archive?.load(this.clock.now())) ?? []) this.#adopt(job);
  }

  /**
   * Waits for the archive writes a request started (a new job, a deletion), and throws if one failed. The
   * server calls it before every response, so an id a client has seen is never lost with the process, and a
   * video reported deleted stays deleted for the next one.
   */
  async flush(): Promise<void> {
    const writes = [...this.#writes];
    this.#writes.clear();
    await Promise.all(writes);
  }

  #track(write: Promise<void> | undefined): void {
    if (write === undefined) return;
    write.catch(() => undefined); // seen by flush(); never an unhandled rejection meanwhile
    this.#writes.add(write);
  }

  /** Jobs other processes archived since this one started (before a list, which must show them too). */
  refresh(): void {
    if (this.#archive === undefined) return;
    for (const id of this.#archive.ids()) {
      if (this.jobs.has(id)) continue;
      const job = this.#archive.read(id);
      if (job !== undefined && this.clock.now() < job.createdAt + EXPIRY_MS) this.#adopt(job);
    }
  }

  /** Keeps a reference image (in memory, and in the archive for later runs); returns its digest. */
  #keepImage(bytes: Buffer): string {
    const digest = createHash('sha256').update(bytes).digest('hex');
    this.#images.set(digest, bytes);
    this.#track(this.#archive?.saveImage(bytes).then(() => undefined));
    return digest;
  }

  async #image(digest: string): Promise<Buffer | undefined> {
    const kept = this.#images.get(digest);
    if (kept !== undefined) return kept;
    const path = this.#archive?.imagePath(digest);
    return path === undefined ? undefined : readFile(path).catch(() => undefined);
  }

  #adopt(job: VideoJob): void {
    this.jobs.add(job);
    if (job.api === 'sora1') {
      for (const [index, gen] of this.generationIds(job).entries())
        this.#generations.set(gen, { jobId: job.id, index });
    }
  }

  /**
   * A new id in the style of its API: `video_` plus 32 hex digits for the Videos API
   * (`video_68f10985d6c4819097007665bdcfba5f`), `task_` plus 26 base-32 characters for Sora 1
   * (`task_01jwcet0eje35tc5jy54yjax5q`).
   */
  newId(api: VideoJob['api']): string {
    if (api === 'videos') return `video_${this.idRandom.hex(32)}`;
    if (api !== 'sora1') return uuidLike(this.idRandom);
    return `task_${ulidLike(() => this.idRandom.next())}`;
  }

  createJob(input: NewJob): VideoJob {
    const [w, h] = input.size.split('x').map(Number) as [number, number];
    const totalMs = Math.round(this.renderSecondsPerSecond * input.newSeconds * 1000);
    // A tenth of the time in the queue, the rest rendering, like the service's short queued phase.
    const queuedMs = Math.round(totalMs / 10) + (input.throttledMs ?? 0);
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
    const api = input.api ?? 'videos';
    const id = this.newId(api);
    const job: VideoJob = {
      id,
      api,
      variants: input.variants ?? 1,
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
      ...(input.inpaintItems !== undefined && { inpaintItems: input.inpaintItems }),
      ...(input.reference !== undefined && { referenceDigest: this.#keepImage(input.reference) }),
      ...(input.parent !== undefined && { parent: input.parent }),
      ...(input.throttledMs !== undefined && { throttledMs: input.throttledMs }),
      ...(input.extra !== undefined && { extra: input.extra }),
    };
    this.#adopt(job);
    this.#track(this.#archive?.save(job));
    // Render ahead, so the first download does not wait for ffmpeg (a failed render is retried on download).
    if (this.#renderOnCreate && api === 'videos') void this.assets(job).catch(() => undefined);
    return job;
  }

  /** A job of the given API, or undefined (each API sees only its own jobs). */
  job(id: string, api: VideoJob['api']): VideoJob | undefined {
    let job = this.jobs.get(id);
    if (job === undefined) {
      // Made by another process on the same archive after this one started.
      job = this.#archive?.read(id);
      if (job !== undefined) {
        if (this.clock.now() >= job.createdAt + EXPIRY_MS) return undefined;
        this.#adopt(job);
      }
    }
    return job?.api === api ? job : undefined;
  }

  /**
   * Rendered assets, made on first use (never on the event loop: ffmpeg runs as a child). `key` names what is
   * rendered: the job id, or a Sora 1 generation id (each generation of a job looks different).
   */
  assets(job: VideoJob, key: string = job.id): Promise<RenderedAssets> {
    let pending = this.#renders.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const digest = job.referenceDigest;
        const bytes = digest === undefined ? undefined : await this.#image(digest);
        return this.renderer.render({
          width: job.width,
          height: job.height,
          seconds: job.seconds,
          audio: job.audio,
          segments: job.segments,
          caption: `${job.model} · ${job.size} · ${job.seconds}s`,
          look: (key === job.id ? job.seed : seedFromString(key)) % LOOKS,
          thumbnail: job.api === 'sora1' ? 'jpeg' : 'webp',
          ...(digest !== undefined && bytes !== undefined && { reference: { digest, bytes } }),
          ...(job.parent !== undefined && { parent: job.parent }),
        });
      })();
      this.#renders.set(key, pending);
      pending.catch(() => this.#renders.delete(key));
    }
    return pending;
  }

  /** Sora 1: the generation ids of a job, one per variant, derived from its id (stable across reads). */
  generationIds(job: VideoJob): string[] {
    return Array.from({ length: job.variants }, (_, i) => {
      const rand = createPrng(seedFromString(`${job.id}/${i}`));
      return `gen_${ulidLike(() => rand.next())}`;
    });
  }

  /** Sora 1: the job and variant index a generation id belongs to. */
  generation(id: string): { job: VideoJob; index: number } | undefined {
    const found = this.#generations.get(id);
    const job = found === undefined ? undefined : this.job(found.jobId, 'sora1');
    return found === undefined || job === undefined ? undefined : { job, index: found.index };
  }

  /** Marks a job cancelled (kept, and archived, with the time), and returns the new record. */
  cancel(job: VideoJob): VideoJob {
    const cancelled: VideoJob = { ...job, cancelledAt: this.clock.now() };
    this.jobs.add(cancelled);
    this.#track(this.#archive?.save(cancelled));
    return cancelled;
  }

  forget(id: string): void {
    const job = this.jobs.get(id);
    this.jobs.delete(id);
    this.#renders.delete(id);
    // Its reference image stays in memory only while a job still uses it (the archive keeps its copy).
    const digest = job?.referenceDigest;
    const apis = ['videos', 'vertex', 'runway', 'fal'] as const;
    if (
      digest !== undefined &&
      !apis.some((api) => this.jobs.all(api, 'asc').some((j) => j.referenceDigest === digest))
    )
      this.#images.delete(digest);
    this.#track(this.#archive?.remove(id));
    if (job?.api === 'sora1') {
      for (const gen of this.generationIds(job)) {
        this.#generations.delete(gen);
        this.#renders.delete(gen);
      }
    }
  }

  /**
   * A duration of emulator time as the real milliseconds a client should wait. Everything the emulator sends
   * as a wait (`retry-after-ms`, `retry-after`, `openai-poll-after-ms`, `x-ratelimit-reset-requests`) goes
   * through this: under `--speed 100` a minute of quota window is 600 real ms, as a client on the wall clock
   * (any SDK) must be told. Timestamps stay on the emulator clock.
   */
  wallMs(emulatorMs: number): number {
    return emulatorMs / clockSpeed(this.clock);
  }

  /** Suggested poll delay for a running job, in emulator ms: a fifth of what is left, 0.5 s to 10 s. */
  pollAfterMs(job: VideoJob): number | null {
    const view = viewJob(job, this.clock.now());
    if (view.status === 'completed' || view.status === 'failed') return null;
    return Math.min(10_000, Math.max(500, Math.round(view.remainingMs / 5)));
  }
}

/** A version-4 style UUID from the id stream (Vertex operations, Runway tasks and fal requests use UUIDs). */
function uuidLike(random: Prng): string {
  const h = random.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20)}`;
}

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

/** 26 characters of Crockford base 32, lowercase, like the ULIDs Azure uses for Sora 1 task and generation ids. */
export function ulidLike(next: () => number): string {
  let out = '01';
  while (out.length < 26) out += BASE32[Math.floor(next() * 32)]!;
  return out;
}
