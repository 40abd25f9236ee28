/**
 * Video jobs and their life: `queued -> in_progress -> completed | failed`, derived lazily from the clock on
 * every read (no timers), so a FakeClock or ScaledClock moves jobs exactly as far as it moves time.
 */

/**
 * A job's assets stay downloadable this long after it was created (24 h of emulator time): the product page
 * says videos are kept "for up to 24 hours after they're created", and its sample response has
 * `expires_at = created_at + 86400`. Both APIs count the same way.
 */
export const EXPIRY_MS = 24 * 60 * 60 * 1000;

export type JobStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

/** A stretch of the video with the prompt shown over it (an extension shows its parent's prompts first). */
export interface Segment {
  readonly prompt: string;
  readonly seconds: number;
}

export interface JobFailure {
  readonly code: string;
  readonly message: string;
  /** Where in the render the job fails: 0 = as it leaves the queue (moderation), up to 1. */
  readonly atFraction: number;
}

export interface VideoJob {
  readonly id: string;
  /** Which API made it: each API sees only its own jobs. */
  readonly api: 'videos' | 'sora1' | 'vertex' | 'runway' | 'fal';
  /** Sora 1 only: how many generations the job makes (the Videos API always makes one). */
  readonly variants: number;
  /** Creation order, for listing. */
  readonly seq: number;
  readonly model: string;
  readonly prompt: string;
  readonly size: string;
  readonly width: number;
  readonly height: number;
  /** Total duration in seconds (for an extension, the stitched total). */
  readonly seconds: number;
  readonly segments: readonly Segment[];
  readonly audio: boolean;
  /** Emulator-clock ms. */
  readonly createdAt: number;
  readonly queuedMs: number;
  readonly renderMs: number;
  readonly failure: JobFailure | null;
  readonly remixedFrom: string | null;
  /** Seeds the look of the placeholder video, so two jobs of one prompt differ. */
  readonly seed: number;
  /** Sora 1 only: the `inpaint_items` the job was created with, echoed back. */
  readonly inpaintItems?: readonly unknown[];
  /** The sha256 of the reference image it was created with: the placeholder opens on it. */
  readonly referenceDigest?: string;
  /** A remix's or extension's parent, shown on the placeholder so a reviewer sees where it comes from. */
  /** Vertex, Runway, fal: emulator ms when the client cancelled it (it then never completes). */
  readonly cancelledAt?: number;
  /** Runway: how long the task waited for a concurrency slot (THROTTLED) before its queue time. */
  readonly throttledMs?: number;
  /** Fields of the create request an API echoes back or renders from (model-specific). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly parent?: {
    readonly kind: 'remix' | 'extension';
    readonly id: string;
    readonly prompt: string;
  };
}

export interface JobView {
  readonly status: JobStatus;
  readonly progress: number;
  /** Emulator-clock ms, when completed. */
  readonly completedAt: number | null;
  readonly expiresAt: number | null;
  /** Whether the assets are gone (completed and past `expiresAt`). */
  readonly expired: boolean;
  /** Emulator ms until the next change worth polling for (0 once terminal). */
  readonly remainingMs: number;
}

/** The job as of `now`. */
export function viewJob(job: VideoJob, now: number): JobView {
  const elapsed = now - job.createdAt;
  const { queuedMs, renderMs, failure } = job;
  if (failure !== null) {
    const failAfter = queuedMs + renderMs * failure.atFraction;
    if (elapsed >= failAfter) {
      return {
        status: 'failed',
        progress: Math.floor(99 * failure.atFraction),
        completedAt: null,
        expiresAt: null,
        expired: false,
        remainingMs: 0,
      };
    }
  }
  if (elapsed < queuedMs) {
    return {
      status: 'queued',
      progress: 0,
      completedAt: null,
      expiresAt: null,
      expired: false,
      remainingMs: queuedMs + renderMs - elapsed,
    };
  }
  if (elapsed < queuedMs + renderMs) {
    const progress = Math.min(99, Math.max(1, 1 + Math.floor((98 * (elapsed - queuedMs)) / renderMs)));
    return {
      status: 'in_progress',
      progress,
      completedAt: null,
      expiresAt: null,
      expired: false,
      remainingMs: queuedMs + renderMs - elapsed,
    };
  }
  const completedAt = job.createdAt + queuedMs + renderMs;
  const expiresAt = expiresAtMs(job);
  return {
    status: 'completed',
    progress: 100,
    completedAt,
    expiresAt,
    expired: now >= expiresAt,
    remainingMs: 0,
  };
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * When a job's assets go, in emulator ms: from the whole second `created_at` reports, so a client that waits
 * for `expires_at` sees them gone.
 */
export function expiresAtMs(job: VideoJob): number {
  return Math.floor(job.createdAt / 1000) * 1000 + EXPIRY_MS;
}

/** The spec's `VideoResource`: every key present, nullable ones as null, nothing else. */
export function toVideoResource(job: VideoJob, now: number): Record<string, unknown> {
  const view = viewJob(job, now);
  return {
    id: job.id,
    object: 'video',
    model: job.model,
    status: view.status,
    progress: view.progress,
    created_at: seconds(job.createdAt),
    completed_at: view.completedAt === null ? null : seconds(view.completedAt),
    // Exactly created_at + 86400, once there is something to expire (null until completed, as the service).
    expires_at: view.expiresAt === null ? null : seconds(view.expiresAt),
    prompt: job.prompt,
    size: job.size,
    seconds: String(job.seconds),
    remixed_from_video_id: job.remixedFrom,
    error:
      view.status === 'failed' && job.failure !== null
        ? { code: job.failure.code, message: job.failure.message }
        : null,
  };
}

export interface ListPage {
  readonly data: readonly VideoJob[];
  readonly hasMore: boolean;
}

export class JobStore {
  #jobs = new Map<string, VideoJob>();
  #seq = 0;

  nextSeq(): number {
    return this.#seq++;
  }

  add(job: VideoJob): void {
    this.#jobs.set(job.id, job);
    // A job kept from an earlier run (JobArchive) keeps its place: new jobs number after it.
    this.#seq = Math.max(this.#seq, job.seq + 1);
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  get(id: string): VideoJob | undefined {
    return this.#jobs.get(id);
  }

  /**
   * Every job of one API, in creation order (`desc`: newest first): by creation time, then by number (jobs
   * from several processes sharing a JobArchive are numbered independently).
   */
  all(api: VideoJob['api'], order: 'asc' | 'desc'): VideoJob[] {
    const asc = (a: VideoJob, b: VideoJob): number => a.createdAt - b.createdAt || a.seq - b.seq;
    return [...this.#jobs.values()]
      .filter((j) => j.api === api)
      .sort((a, b) => (order === 'asc' ? asc(a, b) : asc(b, a)));
  }

  delete(id: string): boolean {
    return this.#jobs.delete(id);
  }

  /**
   * A page in creation order (`desc`: newest first), starting after the job `after` (which must exist; the
   * caller checks), at most `limit` long.
   */
  list(options: { api: VideoJob['api']; order: 'asc' | 'desc'; limit: number; after?: string }): ListPage {
    const all = this.all(options.api, options.order);
    let start = 0;
    if (options.after !== undefined) start = all.findIndex((j) => j.id === options.after) + 1;
    const data = all.slice(start, start + options.limit);
    return { data, hasMore: start + options.limit < all.length };
  }
}

/**
 * How long a new job waits for a concurrency slot (the services that run only `limit` jobs at once per
 * account: Runway's THROTTLED, Sora 1's two running jobs): until enough of the unfinished ones end to leave
 * it one. `jobs` are that API's jobs; a failed or cancelled job frees its slot when it ends.
 */
export function slotWait(jobs: readonly VideoJob[], now: number, limit: number): number {
  const ends = jobs
    .filter((j) => j.cancelledAt === undefined)
    .map((j) => j.createdAt + j.queuedMs + Math.round(j.renderMs * (j.failure?.atFraction ?? 1)))
    .filter((end) => end > now)
    .sort((a, b) => a - b);
  if (ends.length < limit) return 0;
  return ends[ends.length - limit]! - now;
}
