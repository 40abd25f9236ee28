import { createHash, randomUUID } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite, fsyncDirectory } from '../cache/atomic-write.ts';
import { afterDurableWrite, beforeDurableWrite } from '../core/test-faults.ts';
import { withFileLock } from '../cache/file-lock.ts';
import type { Sha256, ShotId, ShotKey, VideoId } from '../core/brand.ts';
import { asSha256, asShotId, asShotKey, asVideoId } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { JobHandle } from '../provider/job-api.ts';
import { cleanHandle } from '../provider/job-handle.ts';

/**
 * The write-ahead journal (design.md section 4), `<cacheDir>/journal/journal.ndjson`: how a rerun after
 * Ctrl-C, a crash or `kill -9` avoids paying twice.
 *
 *   recordIntent     fsynced BEFORE the create request is sent
 *   recordSubmitted  fsynced the moment the create returns, before anything else (the remote id, and the
 *                    provider's whole `JobHandle`: what any process needs to poll and fetch the job)
 *   recordCompleted / recordFailed / recordAbandoned   the intent is finished
 *
 * Records written before handles existed (issue 13) carry only the video id: `pending()` reports no handle, and the engine rebuilds it from the id and the intent's provider (the older APIs need nothing else).
 *
 * On the next run, `pending()` lists the unfinished intents: those with a video id are polled again; those
 * without one (the process died during the request, or the response was lost) are matched against the
 * provider's List endpoint with `reconcile` before anything is resubmitted.
 *
 * Format: append-only NDJSON, one record per line, each append a single `write` followed by fsync. A
 * `kill -9` mid-write leaves at most a torn last line: readers skip any line that does not parse, and the
 * next append first ends such a line with a newline so it cannot corrupt the following record. When every
 * intent is finished the file is removed (compaction); `compact()` also rewrites it with only the unfinished
 * intents. Appends and compaction happen under a file lock shared with other sora-build processes, so a
 * compaction never drops a record another process just appended.
 *
 * No secrets: records carry the prompt's sha256 (never its text), model, size, seconds, the parent video id,
 * ids and times; every record is rebuilt field by field from a fixed list before it is written.
 */
export interface JournalOptions {
  /** Absolute cache folder (`config.cacheDir`). */
  readonly cacheDir: string;
  /** For the lock's retry sleeps. */
  readonly clock: Clock;
}

/** What a create will ask for, enough to find the job again through List. */
export interface RequestSummary {
  readonly operation: 'create' | 'remix' | 'extend';
  /** The manifest's model name. */
  readonly model: string;
  /** The model string the service will report back (the deployment name on Azure); defaults to `model`. */
  readonly remoteModel?: string;
  readonly size: string;
  readonly seconds: number;
  /** sha256 of the exact prompt text sent. */
  readonly promptSha256: Sha256;
  /** For remix/extend: the parent's remote id. */
  readonly parentVideoId: VideoId | null;
}

export interface IntentInput {
  readonly shot: ShotId;
  readonly key: ShotKey;
  /** Provider config name. */
  readonly provider: string;
  readonly request: RequestSummary;
  /** Clock time just before the create is sent. */
  readonly at: number;
}

export interface Intent extends IntentInput {
  readonly id: string;
}

export type FinishReason = 'completed' | 'failed' | 'abandoned';

/** An intent not yet finished, as `pending()` reports it. */
export interface PendingIntent {
  readonly intent: Intent;
  /** Known when the create returned; null if the process died before. */
  readonly videoId: VideoId | null;
  readonly createdAt: number | null;
  /**
   * The provider's handle; undefined before the create returned, or in a record written before handles
   * existed (then `videoId` stands for it).
   */
  readonly handle: JobHandle | undefined;
}

type JournalRecord =
  | ({ readonly type: 'intent' } & Intent)
  | {
      readonly type: 'submitted';
      readonly id: string;
      readonly videoId: VideoId;
      readonly createdAt: number;
      /** Absent in records written before issue 13. */
      readonly handle?: JobHandle;
    }
  | {
      readonly type: FinishReason;
      readonly id: string;
      readonly at: number;
      /** completed: the output digest; failed/abandoned: a short reason (provider code, "expired"). */
      readonly detail: string | null;
    };

export class Journal {
  readonly dir: string;
  readonly path: string;
  readonly #clock: Clock;

  private constructor(dir: string, clock: Clock) {
    this.dir = dir;
    this.path = join(dir, 'journal.ndjson');
    this.#clock = clock;
  }

  static open(options: JournalOptions): Journal {
    if (typeof options.cacheDir !== 'string' || options.cacheDir === '') {
      throw new TypeError(
        `Expected \`cacheDir\` to be a non-empty path, got ${JSON.stringify(options.cacheDir)}`,
      );
    }
    return new Journal(join(options.cacheDir, 'journal'), options.clock);
  }

  /** Records (durably) that a create is about to be sent. Returns the intent with its new id. */
  async recordIntent(input: IntentInput): Promise<Intent> {
    const intent = cleanIntent({ ...input, id: randomUUID() });
    await this.#append({ type: 'intent', ...intent });
    return intent;
  }

  /** Records (durably) the remote id the create returned, with the provider's handle for the job. */
  async recordSubmitted(
    intentId: string,
    videoId: VideoId,
    createdAt: number,
    handle?: JobHandle,
  ): Promise<void> {
    assertId(intentId);
    if (typeof videoId !== 'string' || videoId === '') throw new TypeError('Expected a non-empty `videoId`');
    assertTime('createdAt', createdAt);
    const clean = handle === undefined ? undefined : cleanHandle(handle);
    if (clean !== undefined && clean.id !== videoId)
      throw new TypeError(`Expected the handle's id ${clean.id} to be the video id ${videoId}`);
    await this.#append({
      type: 'submitted',
      id: intentId,
      videoId: asVideoId(videoId),
      createdAt,
      ...(clean === undefined ? {} : { handle: clean }),
    });
  }

  /** The job finished and its output is stored (`output` is its digest). */
  async recordCompleted(intentId: string, at: number, output: Sha256 | null = null): Promise<void> {
    await this.#finish('completed', intentId, at, output);
  }

  /** The job failed or was refused (`detail`: the provider's code); it will not be polled again. */
  async recordFailed(intentId: string, at: number, detail: string | null = null): Promise<void> {
    await this.#finish('failed', intentId, at, detail);
  }

  /** Given up without an outcome (expired remote job, lost job not found by reconciliation, user reset). */
  async recordAbandoned(intentId: string, at: number, detail: string | null = null): Promise<void> {
    await this.#finish('abandoned', intentId, at, detail);
  }

  /** Unfinished intents, oldest first, with their remote ids when known. */
  async pending(): Promise<PendingIntent[]> {
    return pendingFrom(await this.#readRecords());
  }

  /**
   * Rewrites the journal with only the records of unfinished intents (removes it when there are none).
   * Runs automatically after each finish record when nothing is pending.
   */
  async compact(): Promise<void> {
    await this.#locked(async () => {
      await this.#compactLocked();
    });
  }

  async #finish(type: FinishReason, intentId: string, at: number, detail: string | null): Promise<void> {
    assertId(intentId);
    assertTime('at', at);
    if (detail !== null && typeof detail !== 'string')
      throw new TypeError('Expected `detail` to be a string or null');
    await this.#locked(async () => {
      await this.#appendLocked({
        type,
        id: intentId,
        at,
        detail: detail === null ? null : detail.slice(0, 200),
      });
      const pending = pendingFrom(await this.#readRecords());
      if (pending.length === 0) await this.#compactLocked();
    });
  }

  async #compactLocked(): Promise<void> {
    const records = await this.#readRecords();
    const live = new Set(pendingFrom(records).map((p) => p.intent.id));
    if (live.size === 0) {
      await unlink(this.path).catch(() => {});
      await fsyncDirectory(this.dir);
      return;
    }
    const kept = records.filter((r) => live.has(r.id));
    await atomicWrite(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''), { kind: 'journal' });
  }

  async #append(record: JournalRecord): Promise<void> {
    await this.#locked(() => this.#appendLocked(record));
  }

  async #appendLocked(record: JournalRecord): Promise<void> {
    const ordinal = beforeDurableWrite('journal', this.path); // test-only fault hook; free when unset
    const handle = await open(this.path, 'a+', 0o600);
    try {
      const { size } = await handle.stat();
      let prefix = '';
      if (size > 0) {
        // A torn last line (kill -9 mid-write) has no newline: end it so this record stays on its own line.
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      await handle.write(`${prefix}${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (record.type === 'intent') await fsyncDirectory(this.dir); // the file may be new
    afterDurableWrite(ordinal);
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.dir, 'journal.lock'), fn, { clock: this.#clock });
  }

  async #readRecords(): Promise<JournalRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return [];
    }
    return parseJournal(text);
  }
}

/** Parses journal text, skipping lines that are torn or otherwise not records. Exported for tests. */
export function parseJournal(text: string): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const record = toRecord(value);
    if (record !== null) records.push(record);
  }
  return records;
}

function toRecord(value: unknown): JournalRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string') return null;
  try {
    switch (v.type) {
      case 'intent':
        return { type: 'intent', ...cleanIntent(v as unknown as Intent) };
      case 'submitted': {
        if (typeof v.videoId !== 'string' || typeof v.createdAt !== 'number') return null;
        const handle = v.handle === undefined ? undefined : cleanHandle(v.handle as JobHandle);
        return {
          type: 'submitted',
          id: v.id,
          videoId: asVideoId(v.videoId),
          createdAt: v.createdAt,
          ...(handle === undefined ? {} : { handle }),
        };
      }
      case 'completed':
      case 'failed':
      case 'abandoned':
        if (typeof v.at !== 'number') return null;
        return { type: v.type, id: v.id, at: v.at, detail: typeof v.detail === 'string' ? v.detail : null };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

function pendingFrom(records: readonly JournalRecord[]): PendingIntent[] {
  const intents = new Map<
    string,
    { intent: Intent; videoId: VideoId | null; createdAt: number | null; handle: JobHandle | undefined }
  >();
  const finished = new Set<string>();
  for (const r of records) {
    if (r.type === 'intent') {
      const { type: _type, ...intent } = r;
      intents.set(r.id, { intent, videoId: null, createdAt: null, handle: undefined });
    } else if (r.type === 'submitted') {
      const entry = intents.get(r.id);
      if (entry !== undefined) {
        entry.videoId = r.videoId;
        entry.createdAt = r.createdAt;
        entry.handle = r.handle;
      }
    } else {
      finished.add(r.id);
    }
  }
  return [...intents.values()]
    .filter((p) => !finished.has(p.intent.id))
    .sort((a, b) => a.intent.at - b.intent.at || (a.intent.id < b.intent.id ? -1 : 1));
}

/** Rebuilds an intent from its known fields only (so nothing else, e.g. a stray secret, is ever written). */
function cleanIntent(value: Intent): Intent {
  const problems: string[] = [];
  const r = (value.request ?? {}) as Partial<RequestSummary>;
  if (typeof value.id !== 'string' || value.id === '') problems.push('`id` to be a non-empty string');
  if (typeof value.shot !== 'string' || value.shot === '') problems.push('`shot` to be a shot id');
  if (typeof value.key !== 'string' || !/^[0-9a-f]{64}$/.test(value.key))
    problems.push('`key` to be a shot key');
  if (typeof value.provider !== 'string' || value.provider === '') problems.push('`provider` to be a name');
  if (!Number.isFinite(value.at)) problems.push('`at` to be a time');
  if (r.operation !== 'create' && r.operation !== 'remix' && r.operation !== 'extend')
    problems.push('`request.operation` to be create, remix or extend');
  if (typeof r.model !== 'string' || r.model === '') problems.push('`request.model` to be a model name');
  if (r.remoteModel !== undefined && typeof r.remoteModel !== 'string')
    problems.push('`request.remoteModel` to be a string');
  if (typeof r.size !== 'string' || !/^\d+x\d+$/.test(r.size))
    problems.push('`request.size` to look like 1280x720');
  if (typeof r.seconds !== 'number' || !(r.seconds > 0))
    problems.push('`request.seconds` to be a positive number');
  if (typeof r.promptSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.promptSha256))
    problems.push('`request.promptSha256` to be a sha256 (the prompt itself is never journaled)');
  if (r.parentVideoId !== null && (typeof r.parentVideoId !== 'string' || r.parentVideoId === ''))
    problems.push('`request.parentVideoId` to be a video id or null');
  if (problems.length > 0) throw new TypeError(`Expected ${problems.join(', ')} in the journal intent`);
  return {
    id: value.id,
    shot: asShotId(value.shot),
    key: asShotKey(value.key),
    provider: value.provider,
    at: value.at,
    request: {
      operation: r.operation!,
      model: r.model!,
      ...(r.remoteModel !== undefined && r.remoteModel !== r.model ? { remoteModel: r.remoteModel } : {}),
      size: r.size!,
      seconds: r.seconds!,
      promptSha256: asSha256(r.promptSha256!),
      parentVideoId: r.parentVideoId === null ? null : asVideoId(r.parentVideoId!),
    },
  };
}

function assertId(id: string): void {
  if (typeof id !== 'string' || id === '')
    throw new TypeError(`Expected an intent id, got ${JSON.stringify(id)}`);
}

function assertTime(name: string, value: number): void {
  if (!Number.isFinite(value))
    throw new TypeError(`Expected \`${name}\` to be a time in ms, got ${String(value)}`);
}

/** sha256 of a prompt, as journaled and as `reconcile` compares it. */
export function promptSha256(prompt: string): Sha256 {
  return asSha256(createHash('sha256').update(prompt, 'utf8').digest('hex'));
}

export interface ReconcileOptions {
  /**
   * How much earlier than the intent a remote `created_at` may be and still match: our clock and the
   * service's differ a little, and `created_at` has one-second resolution.
   * @default 5000
   */
  readonly clockSkewMs?: number;
  /** Remote ids already accounted for (other intents' videos, the lockfile's): never matched again. */
  readonly claimed?: ReadonlySet<string>;
}

/** A remote job as List reports it: what `reconcile` compares. `null`: the API does not say (not compared). */
export interface ReconcileCandidate {
  readonly id: string;
  readonly createdAt: number;
  readonly model: string;
  readonly size: string | null;
  readonly seconds: number | null;
  readonly prompt: string | null;
  /** The remix/extend parent's remote id, when the service reports one. */
  readonly remixedFrom: string | null;
}

export type ReconcileResult<V extends ReconcileCandidate = ReconcileCandidate> =
  /** The job was created after all: resume polling this one. */
  | { readonly outcome: 'found'; readonly video: V; readonly candidates: number }
  /** No matching job: the create never took effect, so creating now cannot pay twice. */
  | { readonly outcome: 'not-found' };

/**
 * PURE: finds the remote video an intent without an id created, among the provider's listed videos. A
 * video matches when its prompt hashes to the intent's `promptSha256` and its model (or the deployment
 * name), size, seconds and remix parent (when the service reports one) equal the intent's, and it was
 * created no earlier than the intent minus `clockSkewMs`. Several matches (the same prompt submitted twice,
 * e.g. a reroll) resolve deterministically to the earliest `createdAt`, then the smallest id, skipping ids
 * already `claimed`.
 */
export function reconcile<V extends ReconcileCandidate>(
  intent: Intent,
  videos: Iterable<V>,
  options: ReconcileOptions = {},
): ReconcileResult<V> {
  const skew = options.clockSkewMs ?? 5000;
  if (!(skew >= 0)) throw new TypeError(`Expected \`clockSkewMs\` to be >= 0, got ${String(skew)}`);
  const r = intent.request;
  const models = new Set([r.model, r.remoteModel ?? r.model]);
  const matches: V[] = [];
  for (const video of videos) {
    if (options.claimed?.has(video.id)) continue;
    if (video.prompt === null || promptSha256(video.prompt) !== r.promptSha256) continue;
    if (!models.has(video.model)) continue;
    // A gateway that does not report size or length cannot be matched on them; the prompt, model and time
    // still must match.
    if (
      (video.size !== null && video.size !== r.size) ||
      (video.seconds !== null && video.seconds !== r.seconds)
    )
      continue;
    if (video.createdAt < intent.at - skew) continue;
    if (r.parentVideoId !== null && video.remixedFrom !== null && video.remixedFrom !== r.parentVideoId)
      continue;
    if (r.parentVideoId === null && video.remixedFrom !== null) continue;
    matches.push(video);
  }
  matches.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const first = matches[0];
  return first === undefined
    ? { outcome: 'not-found' }
    : { outcome: 'found', video: first, candidates: matches.length };
}
