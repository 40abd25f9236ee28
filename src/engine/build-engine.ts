/**
 * The build engine: turns a plan into videos in `out/`, pinned in the lockfile (design.md sections 4-6).
 *
 * Long-lived: one per process. `build()` may be called again while jobs of an earlier call still run (watch
 * mode), so jobs are keyed by shot key inside the engine and outlive the build that started them. A later
 * build that needs a key already in flight waits for that job instead of paying for another, and a build
 * that stops waiting (Ctrl-C, or watch moving on to a newer save) leaves its jobs running into the action
 * cache: they were paid for. Only `close({ abandon: true })` stops them, and then the journal keeps their
 * ids for the next process.
 *
 * Per shot, in dependency order (a child waits for its parent's outcome, then computes its own key from the
 * parent's *output*):
 *
 *   fresh in the lockfile -> materialise;  sample in the action cache -> re-pin;  in flight -> wait;
 *   else -> a new job (run-job.ts) -> action cache -> lockfile -> materialise
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { BuildEvent, ShotFailureReason } from '../core/events.ts';
import type { ProjectConfig } from '../config/types.ts';
import { providerFamily } from '../config/capabilities.ts';
import type { Manifest, ShotConfig } from '../manifest/types.ts';
import type { LockEntry, Lockfile, Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import type { Failures } from '../cache/failures.ts';
import { writeLockfile } from '../cache/lockfile.ts';
import type { CreateLedger } from '../scheduler/create-ledger.ts';
import type { BuildPlan } from '../plan/plan-types.ts';
import { sha256Hex, shotKey, shotKeyData } from '../plan/shot-key.ts';
import type { ShotKeyData } from '../plan/shot-key.ts';
import type { RemoteVideo, VideoProvider } from '../provider/types.ts';
import { DispatchGate } from './dispatch-gate.ts';
import { Semaphore } from './semaphore.ts';
import type { Journal, PendingIntent } from '../scheduler/journal.ts';
import { reconcileAll } from '../scheduler/journal.ts';
import { lockEntryFor } from '../plan/lock-entry-for.ts';
import { priceOf } from '../plan/plan-build.ts';
import { downloadAsset, restorePinned, resumeJob, runNewJob } from './run-job.ts';
import type { JobContext, JobResult, JobSpec } from './run-job.ts';

/** A reference image as it will be uploaded (after `fit`). */
export interface PreparedReference {
  readonly digest: Sha256;
  readonly path: string;
  readonly mime: 'image/jpeg' | 'image/png' | 'image/webp';
}

export interface BuildEngineOptions {
  readonly config: ProjectConfig;
  /** Creates the provider on first use: a build with nothing to generate never connects anywhere. */
  readonly provider: () => Promise<VideoProvider>;
  readonly store: Store;
  readonly actionCache: ActionCache;
  readonly journal: Journal;
  readonly ledger: CreateLedger;
  /** Where failures are remembered for `status` and watch. @default none */
  readonly failures?: Failures;
  readonly clock: Clock;
  readonly emit: (event: BuildEvent) => void;
  /**
   * Concurrent downloads.
   * @default 4
   */
  readonly downloadConcurrency?: number;
  /** Learned render time per kind of job, for the poll schedule. @default none (the policy starts blind) */
  readonly durations?: {
    estimate(kind: string): number | null;
    record(kind: string, ms: number): void;
  };
  /** Random numbers in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Order in which ready shots take create slots: the longest remaining critical path first, or
   * first-come-first-served (what a naive scheduler does; kept as the benchmark's baseline, see bench/).
   * @default 'critical-path'
   */
  readonly ordering?: 'critical-path' | 'fifo';
}

export interface BuildOptions {
  /** Stop starting new generations after the first failure (jobs already created finish). @default false */
  readonly failFast?: boolean;
  /** Shots generated anew even when fresh (`--force`, `reroll`). @default none */
  readonly force?: ReadonlySet<ShotId>;
  /** Regenerate a fresh parent whose remote video expired, instead of failing its remix/extend children. */
  readonly regenerateExpired?: boolean;
  /** Submit keys that failed earlier in this process again (watch passes false). @default true */
  readonly retryFailedKeys?: boolean;
  /**
   * Never create (CI's `--frozen`): pinned videos may be restored by download, but a shot that would need a
   * generation is refused and listed in `BuildOutcome.refused`. @default false
   */
  readonly frozen?: boolean;
}

export interface BuildInput {
  readonly manifest: Manifest;
  readonly plan: BuildPlan;
  readonly lockfile: Lockfile;
  /** Prepared reference images by shot (null: the shot has none). */
  readonly references: ReadonlyMap<ShotId, PreparedReference | null>;
  readonly options?: BuildOptions;
  readonly signal: AbortSignal;
  /** The command that resumes this build, for the interruption message. */
  readonly resumeCommand: string;
}

export interface BuildOutcome {
  readonly built: readonly ShotId[];
  readonly cached: readonly ShotId[];
  readonly failed: readonly { readonly shot: ShotId; readonly reason: string; readonly message: string }[];
  readonly blocked: readonly ShotId[];
  /** USD spent by this build; null when any generated shot's price is unknown. */
  readonly costUsd: number | null;
  readonly interrupted: boolean;
  /** Under `frozen`: shots that would have needed a generation (nothing was created for them). */
  readonly refused: readonly ShotId[];
}

/** What happened to one shot in one build. */
type ShotOutcome =
  | {
      readonly kind: 'done';
      readonly entry: LockEntry;
      /** Null when not needed (a repin without extra assets): `#sampleOf(entry)` finds it. */
      readonly sample: Sample | null;
      readonly built: boolean;
    }
  | { readonly kind: 'failed'; readonly reason: string; readonly message: string }
  | { readonly kind: 'blocked'; readonly by: ShotId }
  | { readonly kind: 'interrupted' };

export class BuildEngine {
  readonly #options: BuildEngineOptions;
  readonly #gate: DispatchGate;
  readonly #downloads: Semaphore;
  readonly #jobs = new Map<ShotKey, Promise<JobResult>>();
  readonly #failedKeys = new Map<ShotKey, { reason: string; message: string }>();
  readonly #abandon = new AbortController();
  #provider: Promise<VideoProvider> | undefined;
  #resumedJournal = false;
  /** Keys with a journal intent that could not be reconciled (List failed): never created in this process. */
  readonly #unreconciled = new Set<ShotKey>();
  /** Remote ids this process knows belong to jobs (submitted or resumed). */
  readonly #knownVideoIds = new Set<string>();
  /** Serialises lockfile writes. */
  #lockWrite: Promise<void> = Promise.resolve();

  constructor(options: BuildEngineOptions) {
    this.#options = options;
    this.#gate = new DispatchGate({ maxInFlight: options.config.provider.quota.maxInFlight });
    this.#downloads = new Semaphore(options.downloadConcurrency ?? 4);
  }

  /** Keys whose generation failed in this process; watch does not resubmit them until the key changes. */
  failedKeys(): ReadonlyMap<ShotKey, { reason: string; message: string }> {
    return this.#failedKeys;
  }

  /** Jobs created on the service and not finished. */
  get jobsInFlight(): number {
    return this.#jobs.size;
  }

  async build(input: BuildInput): Promise<BuildOutcome> {
    const { clock, emit } = this.#options;
    const started = clock.now();
    const options = input.options ?? {};
    const failFast = new AbortController();
    const dispatchSignal = AbortSignal.any([input.signal, failFast.signal]);
    const lock = new LockEntries(input.lockfile.shots);
    const outcomes = new Map<ShotId, Promise<ShotOutcome>>();
    const force = new Set(options.force ?? []);
    for (const entry of lock.values()) this.#knownVideoIds.add(entry.videoId);
    let firstFailure: ShotId | undefined;
    const refused: ShotId[] = [];

    if (!this.#resumedJournal) {
      this.#resumedJournal = true;
      await this.#resumeJournal(input.manifest);
    }
    if (options.regenerateExpired === true) {
      for (const id of this.#expiredParentsToRegenerate(input, lock)) force.add(id);
    }

    const ctx = this.#jobContext();
    const outcomeOf = (id: ShotId): Promise<ShotOutcome> => {
      let p = outcomes.get(id);
      if (p === undefined) {
        p = this.#processShot(id, { input, lock, force, ctx, dispatchSignal, outcomeOf, refused }).then(
          (outcome) => {
            if (outcome.kind === 'failed' && firstFailure === undefined) {
              firstFailure = id;
              if (options.failFast === true) failFast.abort(new Error('--fail-fast'));
            }
            return outcome;
          },
        );
        outcomes.set(id, p);
      }
      return p;
    };
    const targets = input.plan.shots.map((s) => s.id);
    const results = await Promise.all(targets.map(async (id) => [id, await outcomeOf(id)] as const));

    // A full build forgets lock entries of shots that left the manifest; a `--shot` build keeps the others.
    if (targets.length === input.manifest.shots.size) {
      for (const id of [...lock.keys()]) if (!input.manifest.shots.has(id)) lock.delete(id);
    }
    // Unchanged entries are the file as read: nothing to serialise or compare (a no-op build stays cheap).
    if (lock.changed) await this.#writeLock(input.manifest.lockfilePath, lock);

    const built: ShotId[] = [];
    const cached: ShotId[] = [];
    const failed: { shot: ShotId; reason: string; message: string }[] = [];
    const blocked: ShotId[] = [];
    let costUsd: number | null = 0;
    let interrupted = input.signal.aborted;
    for (const [id, outcome] of results) {
      switch (outcome.kind) {
        case 'done':
          if (outcome.built) {
            built.push(id);
            const cost = outcome.sample?.costUsd ?? null;
            costUsd = costUsd === null || cost === null ? null : costUsd + cost;
          } else cached.push(id);
          break;
        case 'failed':
          failed.push({ shot: id, reason: outcome.reason, message: outcome.message });
          break;
        case 'blocked':
          blocked.push(id);
          break;
        case 'interrupted':
          interrupted = true;
          break;
      }
    }
    if (interrupted) {
      emit({
        type: 'interrupted',
        time: clock.now(),
        inFlight: this.#jobs.size,
        resume: input.resumeCommand,
      });
    }
    emit({
      type: 'build-finished',
      time: clock.now(),
      built: built.length,
      cached: cached.length,
      failed: failed.length,
      blocked: blocked.length,
      costUsd,
      wallMs: clock.now() - started,
    });
    return { built, cached, failed, blocked, costUsd, interrupted, refused: refused.sort() };
  }

  /** Stops the engine. With `abandon`, running jobs stop polling and stay in the journal for the next run. */
  async close(options: { abandon: boolean }): Promise<void> {
    if (options.abandon) this.#abandon.abort(new Error('sora-build is stopping'));
    else await Promise.allSettled([...this.#jobs.values()]);
    await this.#lockWrite;
    if (this.#provider !== undefined) await (await this.#provider.catch(() => undefined))?.close();
  }

  /** The action-cache sample behind a lock entry, if the cache still has it. */
  #sampleOf(entry: LockEntry): Sample | null {
    return this.#options.actionCache.samples(entry.key).find((s) => s.output === entry.output) ?? null;
  }

  async #processShot(
    id: ShotId,
    run: {
      input: BuildInput;
      lock: LockEntries;
      force: ReadonlySet<ShotId>;
      ctx: JobContext;
      dispatchSignal: AbortSignal;
      outcomeOf: (id: ShotId) => Promise<ShotOutcome>;
      refused: ShotId[];
    },
  ): Promise<ShotOutcome> {
    const { input, lock, ctx } = run;
    const { clock, emit, config, store, actionCache } = this.#options;
    const shot = input.manifest.shots.get(id);
    if (shot === undefined) throw new Error(`internal error: planned shot ${id} is not in the manifest`);
    const parentId = shot.remixOf ?? shot.extendOf;
    let parent: Extract<ShotOutcome, { kind: 'done' }> | null = null;
    if (parentId !== undefined) {
      const p = await run.outcomeOf(parentId);
      if (p.kind === 'interrupted') return p;
      if (p.kind !== 'done') {
        const by = p.kind === 'blocked' ? p.by : parentId;
        emit({ type: 'shot-blocked', time: clock.now(), shot: id, blockedBy: by });
        return { kind: 'blocked', by };
      }
      parent = p;
    }
    if (input.signal.aborted) return { kind: 'interrupted' };

    const reference = input.references.get(id) ?? null;
    const relation = shot.remixOf !== undefined ? 'remix_of' : 'extend_of';
    const planned = input.plan.byId.get(id);
    const parentOutput = parent?.entry.output ?? null;
    // The plan computed this key already unless the parent's output changed since (it was built in this run).
    const reuse =
      planned?.keyData != null &&
      planned.key !== null &&
      (planned.keyData.parent?.output ?? null) === parentOutput;
    const keyData = reuse
      ? planned.keyData
      : shotKeyData({
          shot,
          family: providerFamily(config.provider.type),
          referenceDigest: reference?.digest ?? null,
          parent: parentOutput === null ? null : { relation, output: parentOutput },
        });
    const key = reuse ? planned.key : shotKey(keyData);
    const forced = run.force.has(id);

    const pinned = lock.get(id);
    const repin = (entry: LockEntry, sample: Sample | null, source: 'lockfile' | 'action-cache') =>
      this.#repin(shot, key, entry, sample, source, ctx, input.signal);
    // A shot the plan found fresh had its object checked there; materialising checks it again anyway.
    const present = (digest: Sha256): boolean =>
      (planned?.state === 'fresh' && planned.lockEntry?.output === digest) || store.hasObject(digest);
    if (!forced && pinned !== undefined && pinned.key === key && present(pinned.output)) {
      // The sample matters only for extra assets (a thumbnail it lists); a child that must be generated
      // looks its parent's up when it needs the expiry (`#parentSample`). A no-op build reads no sample.
      const needsSample = shot.assets.some((a) => a !== 'video');
      return repin(pinned, needsSample ? this.#sampleOf(pinned) : null, 'lockfile');
    }
    if (!forced && pinned !== undefined && pinned.key === key) {
      // Pinned but not in the local store (a fresh clone, a pruned cache): download it again while the
      // service keeps it. Only the pinned bytes are accepted; anything else falls through to generation.
      const spec = { shot: id, key, expected: { size: shot.size, seconds: pinned.seconds } } as JobSpec;
      const restored = await restorePinned(spec, ctx, pinned.videoId, pinned.output, input.signal);
      if (restored.ok) {
        const sample: Sample = {
          output: pinned.output,
          bytes: restored.bytes,
          videoId: pinned.videoId,
          provider: config.provider.name,
          createdAt: clock.now(),
          expiresAt: null,
          costUsd: null,
          assets: {},
        };
        await actionCache.addSample(key, sample);
        return repin(pinned, sample, 'lockfile');
      }
      if (input.signal.aborted) return { kind: 'interrupted' };
    }
    if (!forced) {
      const sample = actionCache
        .samples(key)
        .filter((s) => store.hasObject(s.output))
        .at(-1);
      if (sample !== undefined) {
        const entry = lockEntryFor(shot.id, keyData, sample);
        const outcome = await repin(entry, sample, 'action-cache');
        if (outcome.kind === 'done') lock.set(id, entry);
        await this.#recordPrompt(keyData.prompt);
        return outcome;
      }
    }
    const remembered = this.#failedKeys.get(key);
    if (remembered !== undefined && input.options?.retryFailedKeys === false) {
      return this.#fail(
        id,
        key,
        {
          reason: remembered.reason as ShotFailureReason,
          message: remembered.message,
          code: null,
          videoId: null,
          retryable: false,
          hint: 'not submitted again until the shot changes',
        },
        null,
        false,
      );
    }

    if (parent !== null) {
      const expiresAt = (parent.sample ?? this.#sampleOf(parent.entry))?.expiresAt ?? null;
      if (expiresAt !== null && expiresAt <= clock.now()) {
        return this.#fail(
          id,
          key,
          {
            reason: 'parent-expired',
            message: `the remote video of ${parentId} (${parent.entry.videoId}) expired at ${new Date(expiresAt).toISOString()}, so ${id} cannot be made from it`,
            code: null,
            videoId: null,
            retryable: false,
            hint: `run again with --regenerate-expired to regenerate ${parentId} (and so every shot made from it)`,
          },
          null,
        );
      }
    }

    if (this.#unreconciled.has(key)) {
      return this.#fail(
        id,
        key,
        {
          reason: 'lost-job',
          message: `an earlier run may have created ${id} but its response was lost, and the service's List could not be read to check; it was not created again`,
          code: null,
          videoId: null,
          retryable: true,
          hint: 'run the build again once the service answers',
        },
        null,
      );
    }
    if (input.options?.frozen === true) {
      run.refused.push(id);
      return this.#fail(
        id,
        key,
        {
          reason: 'video-expired',
          message: `--frozen: ${id} would have to be generated (its pinned video could not be restored from the store or the service)`,
          code: null,
          videoId: pinned?.videoId ?? null,
          retryable: false,
          hint: 'run the build without --frozen and commit the lockfile',
        },
        null,
        false,
      );
    }
    const spec = await this.#jobSpec(shot, key, keyData, reference, parent, input);
    if ('reason' in spec) return this.#fail(id, key, spec, null);
    let result: JobResult;
    for (;;) {
      let job = this.#jobs.get(key);
      if (job === undefined)
        job = this.#startJob(spec, () => runNewJob(spec, ctx, run.dispatchSignal, this.#abandon.signal));
      result = await untilAborted(job, input.signal);
      if (result.ok || result.reason !== 'cancelled' || run.dispatchSignal.aborted) break;
      // A job another build started and then cancelled before sending: start our own.
    }
    if (!result.ok) {
      if (result.reason === 'interrupted' || (result.reason === 'cancelled' && input.signal.aborted))
        return { kind: 'interrupted' };
      if (result.reason === 'cancelled') {
        emit({ type: 'shot-blocked', time: clock.now(), shot: id, blockedBy: id });
        return { kind: 'blocked', by: id };
      }
      return this.#fail(id, key, { ...result, reason: result.reason }, shot);
    }
    const sample = result.sample;
    const placed = await this.#place(shot, key, sample.output, sample, ctx, input.signal);
    if (placed !== undefined) return this.#fail(id, key, placed, null);
    const entry = lockEntryFor(shot.id, keyData, sample);
    lock.set(id, entry);
    await this.#writeLock(input.manifest.lockfilePath, lock);
    this.#failedKeys.delete(key);
    await this.#recordPrompt(keyData.prompt);
    emit({
      type: 'shot-built',
      time: clock.now(),
      shot: id,
      output: this.#outPath(shot),
      digest: sample.output,
      bytes: sample.bytes,
      videoId: sample.videoId,
      costUsd: sample.costUsd,
    });
    return { kind: 'done', entry, sample, built: true };
  }

  /**
   * Keeps the prompt text of a pinned shot in the store under its sha256, the lockfile's `prompt_sha256`,
   * so `sora-build why` can show the old prompt after an edit (the committed lockfile keeps only the digest).
   */
  async #recordPrompt(prompt: string): Promise<void> {
    const { store } = this.#options;
    if (store.hasObject(sha256Hex(prompt))) return;
    await store.ingest(Readable.from([Buffer.from(prompt, 'utf8')]));
  }

  /** Puts a shot that needs no generation in place and reports it (`fresh`, restored, or re-pinned). */
  async #repin(
    shot: ShotConfig,
    key: ShotKey,
    entry: LockEntry,
    sample: Sample | null,
    source: 'lockfile' | 'action-cache',
    ctx: JobContext,
    signal: AbortSignal,
  ): Promise<ShotOutcome> {
    const placed = await this.#place(shot, key, entry.output, sample, ctx, signal);
    if (placed !== undefined) return this.#fail(shot.id, key, placed, null);
    const { clock, emit } = this.#options;
    emit({
      type: 'shot-cached',
      time: clock.now(),
      shot: shot.id,
      source,
      output: this.#outPath(shot),
      digest: entry.output,
      videoId: entry.videoId,
    });
    return { kind: 'done', entry, sample, built: false };
  }

  /** Registers a job under its key; on success its sample goes to the action cache whoever is waiting. */
  #startJob(spec: JobSpec, run: () => Promise<JobResult>): Promise<JobResult> {
    const job = (async (): Promise<JobResult> => {
      const result = await run();
      if (result.ok) await this.#options.actionCache.addSample(spec.key, result.sample);
      return result;
    })();
    this.#jobs.set(spec.key, job);
    const forget = (): void => {
      if (this.#jobs.get(spec.key) === job) this.#jobs.delete(spec.key);
    };
    job.then(forget, forget);
    return job;
  }

  async #jobSpec(
    shot: ShotConfig,
    key: ShotKey,
    keyData: ShotKeyData,
    reference: PreparedReference | null,
    parent: Extract<ShotOutcome, { kind: 'done' }> | null,
    input: BuildInput,
  ): Promise<
    | JobSpec
    | {
        reason: ShotFailureReason;
        message: string;
        code: null;
        videoId: null;
        retryable: boolean;
        hint: string | null;
      }
  > {
    const { config } = this.#options;
    let inputReference: JobSpec['request']['inputReference'];
    if (reference !== null) {
      try {
        const bytes = await readFile(reference.path);
        const digest = createHash('sha256').update(bytes).digest('hex');
        if (digest !== reference.digest) throw new Error('the file changed after the build was planned');
        inputReference = {
          bytes,
          mime: reference.mime,
          filename: `${shot.id}.${reference.mime.split('/')[1] === 'jpeg' ? 'jpg' : reference.mime.split('/')[1]}`,
        };
      } catch (error) {
        return {
          reason: 'reference-image',
          message: `could not read the reference image ${reference.path}: ${(error as Error).message}`,
          code: null,
          videoId: null,
          retryable: false,
          hint: null,
        };
      }
    }
    const operation =
      shot.remixOf !== undefined ? 'remix' : shot.extendOf !== undefined ? 'extend' : 'create';
    const price = priceOf(shot.model, config.provider.pricing, providerFamily(config.provider.type));
    const planned = input.plan.byId.get(shot.id);
    const totalSeconds =
      operation === 'extend' && parent !== null ? parent.entry.seconds + shot.seconds : shot.seconds;
    return {
      shot: shot.id,
      key,
      operation,
      request: {
        model: shot.model,
        prompt: keyData.prompt,
        size: shot.size,
        seconds: shot.seconds,
        ...(inputReference === undefined ? {} : { inputReference }),
      },
      parentVideoId: parent?.entry.videoId ?? null,
      expected: { size: shot.size, seconds: totalSeconds },
      // FIFO: equal priorities, so the gate serves shots in the order they became ready.
      priority: this.#options.ordering === 'fifo' ? 0 : (planned?.criticalPathMs ?? 0),
      costUsd: price === null ? null : price * shot.seconds,
      assets: shot.assets.filter((a): a is 'thumbnail' | 'spritesheet' => a !== 'video'),
    };
  }

  /**
   * Puts a shot's video (and its extra assets) into `out/`. Fetches an asset the sample lacks (a shot that
   * asked for a thumbnail later): a download, never a generation. Returns a failure, or undefined.
   */
  async #place(
    shot: ShotConfig,
    key: ShotKey,
    digest: Sha256,
    sample: Sample | null,
    ctx: JobContext,
    signal: AbortSignal,
  ): Promise<
    | {
        reason: ShotFailureReason;
        message: string;
        code: string | null;
        videoId: VideoId | null;
        retryable: boolean;
        hint: string | null;
      }
    | undefined
  > {
    const { store, actionCache } = this.#options;
    const out = this.#outPath(shot);
    const placed = await store.materialise(digest, out);
    if (!placed.ok)
      return {
        reason: 'local-io',
        message: `the video ${digest} left the store before it could be placed at ${out}`,
        code: null,
        videoId: null,
        retryable: true,
        hint: null,
      };
    let current = sample;
    for (const variant of shot.assets) {
      if (variant === 'video') continue;
      let assetDigest = current?.assets[variant];
      if ((assetDigest === undefined || !store.hasObject(assetDigest)) && current !== null) {
        const spec = { shot: shot.id, key, expected: { size: shot.size, seconds: shot.seconds } } as JobSpec;
        const got = await downloadAsset(spec, ctx, current.videoId, variant, signal);
        if (!got.ok)
          return got.failure as {
            reason: ShotFailureReason;
            message: string;
            code: string | null;
            videoId: VideoId | null;
            retryable: boolean;
            hint: string | null;
          };
        assetDigest = got.digest;
        current = { ...current, assets: { ...current.assets, [variant]: got.digest } };
        await actionCache.addSample(key, current);
      }
      if (assetDigest === undefined) continue;
      const assetOut = assetPath(out, variant);
      const r = await store.materialise(assetDigest, assetOut);
      if (!r.ok)
        return {
          reason: 'local-io',
          message: `the ${variant} ${assetDigest} left the store before it could be placed at ${assetOut}`,
          code: null,
          videoId: null,
          retryable: true,
          hint: null,
        };
    }
    return undefined;
  }

  #fail(
    id: ShotId,
    key: ShotKey,
    failure: {
      reason: ShotFailureReason;
      message: string;
      code: string | null;
      videoId: VideoId | null;
      retryable: boolean;
      hint: string | null;
    },
    _shot: ShotConfig | null,
    remember = true,
  ): ShotOutcome {
    const { clock, emit, failures } = this.#options;
    emit({
      type: 'shot-failed',
      time: clock.now(),
      shot: id,
      reason: failure.reason,
      message: failure.message,
      code: failure.code,
      videoId: failure.videoId,
      retryable: failure.retryable,
      hint: failure.hint,
    });
    if (remember) {
      this.#failedKeys.set(key, { reason: failure.reason, message: failure.message });
      void failures
        ?.record({
          key,
          shot: id,
          reason: failure.reason,
          message: failure.message,
          at: clock.now(),
          videoId: failure.videoId,
        })
        .catch(() => undefined);
    }
    return { kind: 'failed', reason: failure.reason, message: failure.message };
  }

  #outPath(shot: ShotConfig): string {
    return join(this.#options.config.outDir, ...shot.output.split('/'));
  }

  #writeLock(path: string, lock: ReadonlyMap<ShotId, LockEntry>): Promise<void> {
    const snapshot = new Map(lock);
    this.#lockWrite = this.#lockWrite.then(() =>
      writeLockfile(path, { version: 1, shots: snapshot }).then(() => undefined),
    );
    return this.#lockWrite;
  }

  #jobContext(): JobContext {
    const { config, store, journal, ledger, clock, emit, durations } = this.#options;
    // model|size|seconds: what the learned render durations are keyed by (see open-engine.ts).
    const kind = (spec: JobSpec): string =>
      `${spec.request.model}|${spec.expected.size}|${spec.request.seconds}`;
    return {
      provider: () => this.#providerOnce(),
      providerName: config.provider.name,
      store,
      journal,
      ledger,
      gate: this.#gate,
      downloads: this.#downloads,
      clock,
      emit: (event) => {
        if (event.type === 'job-submitted' || event.type === 'resumed')
          this.#knownVideoIds.add(event.videoId);
        emit(event);
      },
      createsPerMinute: config.provider.quota.createsPerMinute,
      remoteModel: (model) => config.provider.deployments[model] ?? model,
      claimedVideoIds: () => new Set(this.#knownVideoIds),
      estimateRenderMs: (spec) => durations?.estimate(kind(spec)) ?? null,
      recordRenderMs: (spec, ms) => durations?.record(kind(spec), ms),
      ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
    };
  }

  #providerOnce(): Promise<VideoProvider> {
    this.#provider ??= this.#options.provider();
    return this.#provider;
  }

  /**
   * Picks up what an earlier process left in the journal: jobs with a remote id are polled (not created
   * again); intents without one are looked for through List, and resumed if found.
   */
  async #resumeJournal(manifest: Manifest): Promise<void> {
    const { journal, clock, emit } = this.#options;
    const pending = await journal.pending();
    if (pending.length === 0) return;
    const ctx = this.#jobContext();
    const withoutId = pending.filter((p) => p.videoId === null);
    const claimed = new Set<string>(pending.flatMap((p) => (p.videoId === null ? [] : [p.videoId])));
    const ids = new Map<string, VideoId>();
    if (withoutId.length > 0) {
      let listed: RemoteVideo[] | undefined;
      try {
        listed = [];
        const oldest = Math.min(...withoutId.map((p) => p.intent.at)) - 60_000;
        for await (const v of (await this.#providerOnce()).list(
          { order: 'desc', limit: 100 },
          this.#abandon.signal,
        )) {
          if (v.createdAt < oldest) break;
          listed.push(v);
        }
      } catch {
        // Cannot reconcile now: the intents stay in the journal for a later run; nothing is created for them
        // in this one either (their shots are submitted anew only once reconciliation has said "not found").
        listed = undefined;
      }
      if (listed !== undefined) {
        const results = reconcileAll(
          withoutId.map((p) => p.intent),
          listed,
          { claimed },
        );
        for (const p of withoutId) {
          const result = results.get(p.intent.id);
          const found = result?.outcome === 'found' ? result.video : undefined;
          emit({
            type: 'reconciled',
            time: clock.now(),
            shot: p.intent.shot,
            matched: found !== undefined,
            videoId: found?.id ?? null,
          });
          if (found === undefined) {
            await journal.recordAbandoned(p.intent.id, clock.now(), 'not found on the service');
          } else {
            await journal.recordSubmitted(p.intent.id, found.id, found.createdAt);
            ids.set(p.intent.id, found.id);
          }
        }
      } else {
        for (const p of withoutId) this.#unreconciled.add(p.intent.key);
      }
    }
    for (const p of pending) {
      const videoId = p.videoId ?? ids.get(p.intent.id);
      if (videoId === undefined || this.#jobs.has(p.intent.key)) continue;
      const spec = resumedSpec(p, manifest);
      this.#startJob(spec, () => resumeJob(spec, ctx, p.intent.id, videoId, this.#abandon.signal)).catch(
        () => undefined,
      );
    }
  }

  /** Parents pinned in the lockfile whose remote video expired while a remix/extend child must be made. */
  #expiredParentsToRegenerate(input: BuildInput, lock: ReadonlyMap<ShotId, LockEntry>): ShotId[] {
    const now = this.#options.clock.now();
    const out = new Set<ShotId>();
    for (const planned of input.plan.shots) {
      if (planned.state === 'fresh' || planned.state === 'cached' || planned.state === 'blocked') continue;
      const shot = input.manifest.shots.get(planned.id);
      const parentId = shot?.remixOf ?? shot?.extendOf;
      if (parentId === undefined) continue;
      const parentPlan = input.plan.byId.get(parentId);
      const entry = lock.get(parentId);
      if (
        parentPlan === undefined ||
        entry === undefined ||
        (parentPlan.state !== 'fresh' && parentPlan.state !== 'cached')
      )
        continue;
      const sample = this.#options.actionCache.samples(entry.key).find((s) => s.output === entry.output);
      if (sample?.expiresAt != null && sample.expiresAt <= now) out.add(parentId);
    }
    return [...out].sort();
  }
}

/** `out/intro.mp4` -> `out/intro.thumbnail.webp` / `out/intro.spritesheet.jpg`. */
export function assetPath(videoPath: string, variant: 'thumbnail' | 'spritesheet'): string {
  const base = videoPath.replace(/\.mp4$/i, '');
  return variant === 'thumbnail' ? `${base}.thumbnail.webp` : `${base}.spritesheet.jpg`;
}

function resumedSpec(pending: PendingIntent, manifest: Manifest): JobSpec {
  const { intent } = pending;
  const shot = manifest.shots.get(intent.shot);
  return {
    shot: intent.shot,
    key: intent.key,
    operation: intent.request.operation,
    // Never sent again: a resumed job is only polled and downloaded.
    request: {
      model: intent.request.model,
      prompt: '',
      size: intent.request.size,
      seconds: intent.request.seconds,
    },
    parentVideoId: intent.request.parentVideoId,
    expected: { size: intent.request.size, seconds: intent.request.seconds },
    priority: Number.MAX_SAFE_INTEGER,
    costUsd: null,
    assets: (shot?.assets ?? []).filter((a): a is 'thumbnail' | 'spritesheet' => a !== 'video'),
  };
}

/** The lockfile's entries during a build, remembering whether anything was set or removed. */
class LockEntries extends Map<ShotId, LockEntry> {
  changed = false;

  override set(id: ShotId, entry: LockEntry): this {
    if (this.get(id) !== entry) this.changed = true;
    return super.set(id, entry);
  }

  override delete(id: ShotId): boolean {
    const removed = super.delete(id);
    if (removed) this.changed = true;
    return removed;
  }
}

const INTERRUPTED: JobResult = {
  ok: false,
  reason: 'interrupted',
  message: 'interrupted',
  code: null,
  videoId: null,
  retryable: true,
  hint: null,
};

/** Waits for `job` unless `signal` aborts first (the job itself goes on). */
function untilAborted(job: Promise<JobResult>, signal: AbortSignal): Promise<JobResult> {
  if (signal.aborted) return Promise.resolve(INTERRUPTED);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(INTERRUPTED);
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
