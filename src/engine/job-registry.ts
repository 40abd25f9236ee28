/**
 * Every job of this engine, by shot key: the one owner that starts, joins and resumes them.
 *
 * Single flight, in two rings:
 * - in this process, a key maps to at most one running job; a build that needs a key already running
 *   (an earlier watch build, a resumed journal entry) waits for that job;
 * - across processes on the machine, a job runs only under its key's claim (src/scheduler/shot-claims.ts).
 *   A process that finds the key claimed by a live process waits until the claim is given back and then
 *   uses that process's result from the action cache; it never creates.
 *
 * Under the claim, before anything is created, what earlier runs left for the key is looked at first: a
 * sample in the action cache is used; a journal entry with a remote id is resumed (polled and downloaded);
 * an entry without one is looked for through List, and only a List that answered without it lets a new
 * create go out.
 */
import type { Sha256, ShotKey } from '../core/brand.ts';
import { asVideoId } from '../core/brand.ts';
import type { Sample } from '../cache/types.ts';
import { SHOT_FAILURE_REASONS } from '../core/events.ts';
import type { ShotFailureReason } from '../core/events.ts';
import type { Failures } from '../cache/failures.ts';
import type { PendingIntent } from '../scheduler/journal.ts';
import type { ShotClaim, ShotClaims } from '../scheduler/shot-claims.ts';
import type { RemoteCache } from '../remote/remote-cache.ts';
import type { JobContext, JobResult, JobSpec } from './job-types.ts';
import { resumeJob, runNewJob } from './job-lifecycle.ts';
import { reconcileThroughList, unreconciledFailure } from './submit-job.ts';
import { guardLocalIo } from './shot-failure.ts';
import type { ShotFailure } from './shot-failure.ts';

export interface JobRegistryOptions {
  /** The context of each provider, by config name; `ctx` is the configured provider's (shared state). */
  readonly contexts: { get(name: string): JobContext | undefined; readonly default: JobContext };
  readonly claims: ShotClaims;
  /** Where final failures are remembered, so a process that waited on the claim does not pay for them again. */
  readonly failures?: Failures | undefined;
  /** Aborted when the engine closes with `abandon`: running jobs stop and stay in the journal. */
  readonly abandon: AbortSignal;
  /**
   * The team's remote cache: looked at on every local miss before anything is created (and while another
   * machine holds the claim); a sample made here is published to it before the claim is given back, so a
   * machine waiting on the claim finds it there. @default none
   */
  readonly remote?: RemoteCache | undefined;
  /**
   * Clock milliseconds between looks at a key another process holds.
   * @default 1000
   */
  readonly waitPollMs?: number;
}

/** Failures with which the service ended the job: another process waiting on the key takes them as its own. */
const FINAL: ReadonlySet<ShotFailureReason> = new Set<ShotFailureReason>([
  'job-failed',
  'moderation-blocked',
  'invalid-request',
  'parent-expired',
]);

export class JobRegistry {
  readonly #options: JobRegistryOptions;
  readonly #jobs = new Map<ShotKey, Promise<JobResult>>();

  constructor(options: JobRegistryOptions) {
    this.#options = options;
  }

  /** Jobs running in this process. */
  get size(): number {
    return this.#jobs.size;
  }

  /** Settles once every running job has. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#jobs.values()]);
  }

  /**
   * The result for `spec.key`: joins the job running in this process, else runs one under the key's claim.
   * `dispatchSignal` cancels only before a create is sent.
   */
  obtain(
    spec: JobSpec,
    dispatchSignal: AbortSignal,
    options: {
      readonly ignore?: ReadonlySet<Sha256>;
      /** An intent lost on a provider without List is given up and created anew (`--resubmit-unreconciled`). */
      readonly resubmitUnlisted?: boolean;
    } = {},
  ): Promise<JobResult> {
    const running = this.#jobs.get(spec.key);
    if (running !== undefined) return running;
    return this.#track(
      spec.key,
      this.#run(spec, dispatchSignal, options.ignore ?? new Set(), options.resubmitUnlisted === true),
    );
  }

  /**
   * Picks up what earlier runs left in the journal for keys nobody holds: jobs with a remote id are polled
   * and downloaded; intents without one are looked for through List (and resumed if found). Never creates:
   * a shot that still needs its job is created by the build that needs it. Runs in the background.
   */
  async resumePending(specFor: (pending: PendingIntent) => JobSpec): Promise<void> {
    const { claims } = this.#options;
    const ctx = this.#options.contexts.default;
    const pending = await ctx.journal.pending().catch(() => [] as PendingIntent[]);
    const keys = new Map<ShotKey, PendingIntent>();
    for (const p of pending) if (!keys.has(p.intent.key)) keys.set(p.intent.key, p);
    for (const [key, first] of keys) {
      // A provider no longer in the config: the entry waits until it is again (nothing else can reach it).
      if (this.#jobs.has(key) || this.#options.contexts.get(first.intent.provider) === undefined) continue;
      const claim = await claims.tryAcquire(key).catch(() => null);
      if (claim === null) continue; // a live process owns it
      const spec = specFor(first);
      this.#track(key, this.#underClaim(claim, spec, null, new Set())).catch(() => undefined);
    }
  }

  #track(key: ShotKey, job: Promise<JobResult>): Promise<JobResult> {
    this.#jobs.set(key, job);
    const forget = (): void => {
      if (this.#jobs.get(key) === job) this.#jobs.delete(key);
    };
    job.then(forget, forget);
    return job;
  }

  /** `ignore`: samples that do not count (a forced rebuild or reroll wants a new one). */
  async #run(
    spec: JobSpec,
    dispatchSignal: AbortSignal,
    ignore: ReadonlySet<Sha256>,
    resubmitUnlisted: boolean,
  ): Promise<JobResult> {
    const { claims, failures } = this.#options;
    const ctx = this.#options.contexts.default;
    const waitPollMs = this.#options.waitPollMs ?? 1000;
    const since = ctx.clock.now();
    let claim: ShotClaim | null = null;
    let waited = false;
    const restored = await this.#restoreRemote(spec, ignore);
    if (restored !== undefined) return { kind: 'done', sample: restored, elsewhere: true };
    for (;;) {
      const acquired = await guardLocalIo('claiming the shot', null, () => claims.tryAcquire(spec.key));
      if (!acquired.ok) return { kind: 'failed', failure: acquired.failure };
      claim = acquired.value;
      if (claim !== null) break;
      // Another live process is making this key: its result arrives in the action cache.
      if (!waited) {
        ctx.emit({
          type: 'quota-wait',
          time: ctx.clock.now(),
          shot: spec.shot,
          until: null,
          reason: 'another-process',
          retryAfterMs: null,
        });
      }
      waited = true;
      const sample = freshSample(ctx, spec.key, ignore) ?? (await this.#restoreRemote(spec, ignore));
      if (sample !== undefined) return { kind: 'done', sample, elsewhere: true };
      try {
        await ctx.clock.sleep(waitPollMs, dispatchSignal);
      } catch {
        return { kind: 'cancelled' };
      }
    }
    if (waited && failures !== undefined) {
      const last = await failures.lastAsync(spec.key).catch(() => undefined);
      if (last !== undefined && last.at >= since && FINAL.has(last.reason as ShotFailureReason)) {
        await claim.release();
        const reason = (SHOT_FAILURE_REASONS as readonly string[]).includes(last.reason)
          ? (last.reason as ShotFailureReason)
          : 'job-failed';
        return {
          kind: 'failed',
          failure: {
            reason,
            message: `another sora-build process made this shot and it failed: ${last.message}`,
            code: null,
            videoId: last.videoId,
            retryable: !FINAL.has(reason),
            hint: null,
          },
        };
      }
    }
    return this.#underClaim(claim, spec, dispatchSignal, ignore, resubmitUnlisted);
  }

  /** Runs the key's job while holding its claim; the claim is given back however it ends. */
  async #underClaim(
    claim: ShotClaim,
    spec: JobSpec,
    dispatchSignal: AbortSignal | null,
    ignore: ReadonlySet<Sha256>,
    resubmitUnlisted = false,
  ): Promise<JobResult> {
    try {
      const result = await this.#decide(spec, dispatchSignal, ignore, resubmitUnlisted);
      // Published before the claim is given back: a machine waiting on it looks in the remote cache next.
      if (result.kind === 'done' && result.elsewhere !== true) {
        await this.#options.remote?.publish(spec.key, result.sample);
      }
      if (result.kind === 'failed' && FINAL.has(result.failure.reason)) {
        // Durable before the claim is given back: a process waiting on the key reads it next.
        await this.#options.failures
          ?.record({
            key: spec.key,
            shot: spec.shot,
            reason: result.failure.reason,
            message: result.failure.message,
            at: this.#options.contexts.default.clock.now(),
            videoId: result.failure.videoId,
          })
          .catch(() => undefined);
      }
      return result;
    } finally {
      await claim.release();
    }
  }

  /** With the claim held: use, resume or reconcile what earlier runs left; create only when nothing is. */
  async #decide(
    spec: JobSpec,
    dispatchSignal: AbortSignal | null,
    ignore: ReadonlySet<Sha256>,
    resubmitUnlisted: boolean,
  ): Promise<JobResult> {
    const { abandon, contexts } = this.#options;
    const shared = contexts.default;
    const sample = freshSample(shared, spec.key, ignore) ?? (await this.#restoreRemote(spec, ignore));
    if (sample !== undefined) return { kind: 'done', sample, elsewhere: true };
    const read = await guardLocalIo('reading the journal', null, () => shared.journal.pending());
    if (!read.ok) return { kind: 'failed', failure: read.failure };
    for (const p of read.value.filter((e) => e.intent.key === spec.key)) {
      // The job lives where it was sent (the shot may name another provider of the same family since).
      const ctx = contexts.get(p.intent.provider);
      if (ctx === undefined) return { kind: 'failed', failure: providerGone(p.intent.provider, spec.shot) };
      let handle =
        p.handle ??
        (p.videoId === null ? null : ctx.handleFor(p.videoId, p.intent.request.model, p.createdAt));
      if (handle === null) {
        const found = await reconcileThroughList(spec, p.intent, ctx, abandon);
        ctx.emit({
          type: 'reconciled',
          time: ctx.clock.now(),
          shot: spec.shot,
          matched: found.kind === 'found',
          videoId: found.kind === 'found' ? asVideoId(found.handle.id) : null,
        });
        // Picked up in the background: the build that needs the shot reports it (or resubmits, if told to).
        if (found.kind === 'unlistable' && dispatchSignal === null) return { kind: 'cancelled' };
        if (found.kind === 'unlistable' && resubmitUnlisted) {
          // The user looked (the hint says where) and accepts that the lost create may have been billed.
          await ctx.journal
            .recordAbandoned(p.intent.id, ctx.clock.now(), 'resubmitted: --resubmit-unreconciled')
            .catch(() => undefined);
          continue;
        }
        if (found.kind === 'unreadable' || found.kind === 'unlistable')
          return { kind: 'failed', failure: unreconciledFailure(spec, found) };
        if (found.kind === 'not-found') {
          // A List that answered without it: the create never took effect.
          await ctx.journal
            .recordAbandoned(p.intent.id, ctx.clock.now(), 'not found on the service')
            .catch(() => undefined);
          continue;
        }
        handle = found.handle;
        await ctx.journal
          .recordSubmitted(p.intent.id, asVideoId(handle.id), handle.createdAt, handle)
          .catch(() => undefined);
      }
      return resumeJob(spec, ctx, p.intent.id, handle, abandon);
    }
    if (dispatchSignal === null) return { kind: 'cancelled' };
    const ctx = contexts.get(spec.provider);
    if (ctx === undefined) return { kind: 'failed', failure: providerGone(spec.provider, spec.shot) };
    return runNewJob(spec, ctx, dispatchSignal, abandon);
  }

  /** The key's sample from the team's remote cache, now in the local store and action cache. */
  async #restoreRemote(spec: JobSpec, ignore: ReadonlySet<Sha256>): Promise<Sample | undefined> {
    const remote = this.#options.remote;
    if (remote === undefined) return undefined;
    return (await remote.restore({ key: spec.key, shot: spec.shot, ignore })) ?? undefined;
  }
}

/** A job (or a shot) names a provider the config no longer has: nothing can be sent or polled there. */
function providerGone(name: string, shot: string): ShotFailure {
  return {
    reason: 'invalid-request',
    message: `${shot} needs the provider \`${name}\`, which sora.config.yaml no longer names; nothing was sent`,
    code: null,
    videoId: null,
    retryable: false,
    hint: `add \`providers.${name}\` back to sora.config.yaml (a job sent there earlier is resumed from the journal)`,
  };
}

/** A sample for `key` whose bytes are in the store, read afresh (another process may have just added it). */
function freshSample(ctx: JobContext, key: ShotKey, ignore: ReadonlySet<Sha256>): Sample | undefined {
  ctx.actionCache.invalidate();
  return ctx.actionCache
    .samples(key)
    .filter((s) => !ignore.has(s.output) && ctx.store.hasObject(s.output))
    .at(-1);
}

/** Waits for `job` unless `signal` aborts first (the job itself goes on). */
export function untilAborted(job: Promise<JobResult>, signal: AbortSignal): Promise<JobResult> {
  if (signal.aborted) return Promise.resolve({ kind: 'interrupted' });
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve({ kind: 'interrupted' });
    signal.addEventListener('abort', onAbort, { once: true });
    job.then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
