/**
 * The build engine: turns a plan into videos in `out/`, pinned in the lockfile (design.md sections 4-6).
 *
 * Long-lived: one per process. `build()` may be called again while jobs of an earlier call still run (watch
 * mode), so jobs live in the job registry (job-registry.ts), keyed by shot key, and outlive the build that
 * started them. A later build that needs a key already in flight waits for that job instead of paying for
 * another; another process holding the key's claim is waited for the same way. A build that stops waiting
 * (Ctrl-C, or watch moving on to a newer save) leaves its jobs running into the action cache: they were paid
 * for. Only `close({ abandon: true })` stops them, and then the journal keeps them for the next process.
 *
 * Per shot, in dependency order (a child waits for its parent's outcome, then computes its own key from the
 * parent's *output*):
 *
 *   fresh in the lockfile -> materialise;  pinned but not stored -> restore by download;
 *   sample in the action cache -> re-pin;  else -> the job registry (resume, reconcile or create)
 *   -> action cache -> lockfile -> materialise
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { ShotId, ShotKey } from '../core/brand.ts';
import { providerFamily } from '../config/capabilities.ts';
import type { ShotConfig } from '../manifest/types.ts';
import type { LockEntry, Sample } from '../cache/types.ts';
import { FileShotClaims } from '../scheduler/shot-claims.ts';
import { sha256Hex, shotKey, shotKeyData } from '../plan/shot-key.ts';
import { lockEntryFor } from '../plan/lock-entry-for.ts';
import { decideShot } from '../plan/decide-shot.ts';
import { unreachable } from '../core/unreachable.ts';
import type { JobHandle } from '../provider/job-api.ts';
import { variantsOf } from '../cache/types.ts';
import { ProviderContexts } from './provider-contexts.ts';
import type { JobContext, JobResult } from './job-types.ts';
import { JobRegistry, untilAborted } from './job-registry.ts';
import { jobSpecFor, resumedSpec } from './job-spec.ts';
import { placeOutputs, restorePinned } from './place-outputs.ts';
import { LockWriter } from './lock-writer.ts';
import { localIoCode, localIoFailure, wouldPayAgain } from './shot-failure.ts';
import type { ShotFailure } from './shot-failure.ts';

export type { PreparedReference } from './job-spec.ts';
export type { BuildEngineOptions, BuildInput, BuildOptions, BuildOutcome } from './build-types.ts';
import type { BuildEngineOptions, BuildInput, BuildOutcome, Done, Run, ShotOutcome } from './build-types.ts';
import { LockEntries, expiredParentsToRegenerate, summarise } from './build-types.ts';
export { assetPath } from './place-outputs.ts';

export class BuildEngine {
  readonly #options: BuildEngineOptions;
  readonly #providers: ProviderContexts;
  readonly #registry: JobRegistry;
  readonly #lockWriter = new LockWriter();
  readonly #failedKeys = new Map<ShotKey, ShotFailure>();
  readonly #abandon = new AbortController();

  constructor(options: BuildEngineOptions) {
    this.#options = options;
    this.#providers = new ProviderContexts(options);
    this.#registry = new JobRegistry({
      contexts: this.#providers,
      claims: options.claims ?? new FileShotClaims({ cacheDir: options.config.cacheDir }),
      failures: options.failures,
      abandon: this.#abandon.signal,
      remote: options.remote,
    });
  }

  /** Keys whose generation failed in this process; watch does not resubmit them until the key changes. */
  failedKeys(): ReadonlyMap<ShotKey, ShotFailure> {
    return this.#failedKeys;
  }

  /** Jobs running in this process (created on the service, or about to be). */
  get jobsInFlight(): number {
    return this.#registry.size;
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
    for (const entry of lock.values()) this.#providers.knownVideoIds.add(entry.videoId);
    let firstFailure: ShotId | undefined;
    const refused: ShotId[] = [];

    // What earlier runs (or this process's earlier builds) left unfinished: resumed in the background.
    await this.#registry.resumePending((p) =>
      resumedSpec(
        p,
        input.manifest,
        (this.#providers.get(p.intent.provider) ?? this.#providers.default).handleFor,
      ),
    );
    if (options.regenerateExpired === true) {
      for (const id of expiredParentsToRegenerate(
        input,
        lock,
        this.#options.actionCache,
        this.#options.clock.now(),
      ))
        force.add(id);
    }

    const run: Run = {
      input,
      lock,
      force,
      dispatchSignal,
      refused,
      outcomeOf: (id) => {
        let p = outcomes.get(id);
        if (p === undefined) {
          p = this.#processShot(id, run).then((outcome) => {
            if (outcome.kind === 'failed' && firstFailure === undefined) {
              firstFailure = id;
              if (options.failFast === true) failFast.abort(new Error('--fail-fast'));
            }
            return outcome;
          });
          outcomes.set(id, p);
        }
        return p;
      },
    };
    const targets = input.plan.shots.map((s) => s.id);
    const results = new Map(
      await Promise.all(targets.map(async (id) => [id, await run.outcomeOf(id)] as const)),
    );

    // A full build forgets lock entries of shots that left the manifest; a `--shot` build keeps the others.
    if (targets.length === input.manifest.shots.size) {
      for (const id of [...lock.keys()]) if (!input.manifest.shots.has(id)) lock.delete(id);
    }
    // Unchanged entries are the file as read: nothing to serialise or compare (a no-op build stays cheap).
    if (lock.changed) {
      const failure = await this.#writeLock(input.manifest.lockfilePath, lock);
      if (failure !== undefined) {
        // Nothing pinned by this build reached the lockfile; the action cache still has every sample, so
        // the next build pins them without generating.
        for (const id of lock.setIds) {
          if (results.get(id)?.kind === 'done') results.set(id, this.#fail(id, null, failure));
        }
      }
    }

    const { built, fresh, cached, failed, blocked, costUsd, interrupted } = summarise(
      results,
      input.signal.aborted,
    );
    if (interrupted) {
      emit({
        type: 'interrupted',
        time: clock.now(),
        inFlight: this.#registry.size,
        resume: input.resumeCommand,
      });
    }
    emit({
      type: 'build-finished',
      time: clock.now(),
      built: built.length,
      fresh: fresh.length,
      cached: cached.length,
      failed: failed.length,
      blocked: blocked.length,
      costUsd,
      wallMs: clock.now() - started,
    });
    return { built, fresh, cached, failed, blocked, costUsd, interrupted, refused: refused.sort() };
  }

  /** Stops the engine. With `abandon`, running jobs stop polling and stay in the journal for the next run. */
  async close(options: { abandon: boolean }): Promise<void> {
    if (options.abandon) this.#abandon.abort(new Error('sora-build is stopping'));
    await this.#registry.settled();
    await this.#lockWriter.idle();
    await this.#providers.close();
  }

  /** The action-cache sample behind a lock entry, if the cache still has it. */
  #sampleOf(entry: LockEntry): Sample | null {
    return this.#options.actionCache.samples(entry.key).find((s) => s.output === entry.output) ?? null;
  }

  async #processShot(id: ShotId, run: Run): Promise<ShotOutcome> {
    const { input, lock } = run;
    const { clock, emit, store, actionCache } = this.#options;
    const shot = input.manifest.shots.get(id);
    if (shot === undefined) throw new Error(`internal error: planned shot ${id} is not in the manifest`);
    const ctx = this.#providers.get(providerOf(shot, this.#providers.defaultName));
    if (ctx === undefined) throw new Error(`internal error: ${id} names a provider the config does not have`);
    const parentId = shot.remixOf ?? shot.extendOf;
    let parent: Done | null = null;
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
          family: providerFamily(ctx.providerConfig.type),
          referenceDigest: reference?.digest ?? null,
          parent: parentOutput === null ? null : { relation, output: parentOutput },
        });
    const key = reuse ? planned.key : shotKey(keyData);
    const forced = run.force.has(id);

    const pinned = lock.get(id) ?? null;
    const repin = (entry: LockEntry, sample: Sample | null, source: 'lockfile' | 'action-cache') =>
      this.#repin(ctx, shot, key, entry, sample, source, input.signal);
    const decide = (restoreFailed: boolean) =>
      decideShot({
        key,
        pinned,
        samples: () => actionCache.samples(key),
        // A shot the plan found fresh had its object checked there; materialising checks it again anyway.
        hasObject: (digest) =>
          (planned?.state === 'fresh' && planned.lockEntry?.output === digest) || store.hasObject(digest),
        forced,
        frozen: input.options?.frozen === true,
        restoreFailed,
      });
    let decision = decide(false);
    if (decision.kind === 'restore' && (await this.#restoreFromRemote(decision.entry, id, input.signal))) {
      // The pinned bytes from the team's remote cache (named by the committed lockfile's digests, checked).
      decision = decide(false);
    }
    if (decision.kind === 'restore') {
      const restored = await restorePinned({
        ctx,
        shot,
        key,
        pinned: decision.entry,
        providerName: ctx.providerName,
        signal: input.signal,
      });
      if (restored === 'interrupted') return { kind: 'interrupted' };
      if (restored !== null) return repin(decision.entry, restored, 'lockfile');
      decision = decide(true);
    }
    switch (decision.kind) {
      case 'fresh': {
        // The sample matters only for extra assets (a thumbnail it lists); a child that must be generated
        // looks its parent's up when it needs the expiry. A no-op build reads no sample.
        const needsSample = shot.assets.some((a) => a !== 'video');
        return repin(decision.entry, needsSample ? this.#sampleOf(decision.entry) : null, 'lockfile');
      }
      case 're-pin': {
        const entry = lockEntryFor(shot.id, keyData, decision.sample);
        const outcome = await repin(entry, decision.sample, 'action-cache');
        if (outcome.kind === 'done') lock.set(id, entry);
        await this.#recordPrompt(keyData.prompt);
        return outcome;
      }
      case 'refuse':
        run.refused.push(id);
        return this.#fail(id, null, {
          reason: 'frozen',
          message: `--frozen: ${id} would have to be generated (its pinned video could not be restored from the store or the service)`,
          code: null,
          videoId: pinned?.videoId ?? null,
          retryable: false,
          hint: 'run the build without --frozen and commit the lockfile',
        });
      case 'restore':
        throw new Error('internal error: a restore decided twice');
      case 'generate':
        break;
      default:
        return unreachable(decision);
    }
    const remembered = this.#failedKeys.get(key);
    if (remembered !== undefined && input.options?.retryFailedKeys === false) {
      return this.#fail(id, null, {
        ...remembered,
        retryable: false,
        hint: 'not submitted again until the shot changes',
      });
    }

    if (parent !== null) {
      const expiresAt = (parent.sample ?? this.#sampleOf(parent.entry))?.expiresAt ?? null;
      if (expiresAt !== null && expiresAt <= clock.now()) {
        return this.#fail(id, key, {
          reason: 'parent-expired',
          message: `the remote video of ${parentId} (${parent.entry.videoId}) expired at ${new Date(expiresAt).toISOString()}, so ${id} cannot be made from it`,
          code: null,
          videoId: null,
          retryable: false,
          hint: `run again with --regenerate-expired to regenerate ${parentId} (and so every shot made from it)`,
        });
      }
    }

    const spec = await jobSpecFor({
      provider: ctx.providerConfig,
      shot,
      key,
      keyData,
      reference,
      media: input.media?.get(id) ?? null,
      parent: parent === null ? null : { entry: parent.entry, handle: this.#handleOfPinned(ctx, parent) },
      // FIFO: equal priorities, so the lanes serve shots in the order they became ready.
      priority: this.#options.ordering === 'fifo' ? 0 : (planned?.criticalPathMs ?? 0),
    });
    if ('reason' in spec) return this.#fail(id, key, spec);
    // A forced rebuild or reroll wants a new sample: the ones there now do not count.
    const ignore = new Set(forced ? actionCache.samples(key).map((s) => s.output) : []);
    let result: JobResult;
    for (;;) {
      result = await untilAborted(
        this.#registry.obtain(spec, run.dispatchSignal, {
          ignore,
          resubmitUnlisted: input.options?.resubmitUnreconciled === true,
        }),
        input.signal,
      );
      // A job another build started and then cancelled before sending: start our own.
      if (result.kind !== 'cancelled' || run.dispatchSignal.aborted) break;
    }
    switch (result.kind) {
      case 'interrupted':
        return result;
      case 'cancelled':
        if (input.signal.aborted) return { kind: 'interrupted' };
        emit({ type: 'shot-blocked', time: clock.now(), shot: id, blockedBy: id });
        return { kind: 'blocked', by: id };
      case 'failed':
        return this.#fail(id, key, result.failure);
      case 'done':
        break;
    }
    const sample = result.sample;
    if (result.elsewhere === true) {
      // Another process made it while this one waited on the key: pinned here like any cached sample.
      const entry = lockEntryFor(shot.id, keyData, sample);
      const outcome = await repin(entry, sample, 'action-cache');
      if (outcome.kind === 'done') lock.set(id, entry);
      return outcome;
    }
    const placed = await placeOutputs({
      ctx,
      shot,
      key,
      outs: this.#outPaths(shot, variantsOf(sample).length),
      videos: variantsOf(sample),
      sample,
      signal: input.signal,
    });
    if (placed === 'interrupted') return { kind: 'interrupted' };
    if (placed !== undefined) return this.#fail(id, key, placed);
    const entry = lockEntryFor(shot.id, keyData, sample);
    lock.set(id, entry);
    const unpinned = await this.#writeLock(input.manifest.lockfilePath, lock);
    if (unpinned !== undefined) return this.#fail(id, key, { ...unpinned, videoId: sample.videoId });
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

  /** Every pinned variant's video from the team's remote cache into the store; whether all are there now. */
  async #restoreFromRemote(entry: LockEntry, shot: ShotId, signal: AbortSignal): Promise<boolean> {
    const remote = this.#options.remote;
    if (remote === undefined) return false;
    for (const variant of variantsOf(entry)) {
      const got = await remote.restoreObject({ digest: variant.output, bytes: variant.bytes, shot, signal });
      if (!got) return false;
    }
    return true;
  }

  /**
   * Keeps the prompt text of a pinned shot in the store under its sha256, the lockfile's `prompt_sha256`,
   * so `sora-build why` can show the old prompt after an edit (the committed lockfile keeps only the digest).
   * Best effort: a full disk costs `why` its old prompt, nothing else.
   */
  async #recordPrompt(prompt: string): Promise<void> {
    const { store } = this.#options;
    if (store.hasObject(sha256Hex(prompt))) return;
    await store.ingest(Readable.from([Buffer.from(prompt, 'utf8')])).catch(ignoreLocalIo);
  }

  /** Puts a shot that needs no generation in place and reports it (`fresh`, restored, or re-pinned). */
  async #repin(
    ctx: JobContext,
    shot: ShotConfig,
    key: ShotKey,
    entry: LockEntry,
    sample: Sample | null,
    source: 'lockfile' | 'action-cache',
    signal: AbortSignal,
  ): Promise<ShotOutcome> {
    const videos = variantsOf(entry);
    const placed = await placeOutputs({
      ctx,
      shot,
      key,
      outs: this.#outPaths(shot, videos.length),
      videos,
      sample,
      signal,
    });
    if (placed === 'interrupted') return { kind: 'interrupted' };
    if (placed !== undefined) return this.#fail(shot.id, key, placed);
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
    return { kind: 'done', entry, sample, built: false, source };
  }

  /**
   * Reports a failed shot; with a `key`, remembers it for watch and `status` when trying again would pay
   * for the same refusal (`wouldPayAgain`). A disk or transport failure is not remembered: the next try
   * resumes the kept job, or had nothing sent, so watch tries again on the next save.
   */
  #fail(id: ShotId, key: ShotKey | null, failure: ShotFailure): ShotOutcome {
    const { clock, emit, failures } = this.#options;
    emit({ type: 'shot-failed', time: clock.now(), shot: id, ...failure });
    if (key !== null) {
      if (wouldPayAgain(failure.reason)) this.#failedKeys.set(key, failure);
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
    return { kind: 'failed', failure };
  }

  #outPath(shot: ShotConfig): string {
    return join(this.#options.config.outDir, ...shot.output.split('/'));
  }

  /**
   * Where each of `count` variants goes: one variant at the shot's output; several as `1.mp4 … N.mp4` in a
   * folder named after the output without `.mp4` (`out/<shot>/1.mp4`).
   */
  #outPaths(shot: ShotConfig, count: number): string[] {
    const out = this.#outPath(shot);
    if (count === 1) return [out];
    // The manifest's paths per variant (`<id>/1.mp4 …` or the `output` pattern's `{n}`), when they match.
    if (shot.outputs.length === count)
      return shot.outputs.map((o) => join(this.#options.config.outDir, ...o.split('/')));
    const dir = out.replace(/\.mp4$/i, '');
    return Array.from({ length: count }, (_, i) => join(dir, `${i + 1}.mp4`));
  }

  /** The job behind a pinned parent, for its remix/extend child. */
  #handleOfPinned(ctx: JobContext, parent: Done): JobHandle {
    const { entry } = parent;
    return (
      entry.handle ??
      (parent.sample ?? this.#sampleOf(entry))?.handle ??
      ctx.handleFor(entry.videoId, entry.model, null)
    );
  }

  /** Writes the lockfile; a failed write is returned as the failure of the shots it pins. */
  async #writeLock(path: string, lock: ReadonlyMap<ShotId, LockEntry>): Promise<ShotFailure | undefined> {
    try {
      await this.#lockWriter.write(path, lock);
      return undefined;
    } catch (error) {
      if (localIoCode(error) === undefined) throw error;
      return {
        ...localIoFailure(error, `writing the lockfile ${path}`, null),
        hint: 'the video is stored and recorded: the next build pins it without generating',
      };
    }
  }
}

/** Swallows a file-system error of a best-effort write; rethrows anything else (a bug). */
function ignoreLocalIo(error: unknown): void {
  if (localIoCode(error) === undefined) throw error;
}

/**
 * The provider config name that makes `shot`: its own `provider:` (manifest, issue 13), else the configured
 * provider. The analyzer has checked that the name is in sora.config.yaml.
 */
export function providerOf(shot: ShotConfig, fallback: string): string {
  return (shot as ShotConfig & { readonly provider?: string }).provider ?? fallback;
}
