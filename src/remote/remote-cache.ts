/**
 * The remote cache (design.md section 11): a team's shared store of verified videos and signed key entries
 * in an Azure Blob container, below the local store. Layout of the container:
 *
 *   objects/sha256/<digest>   the bytes, named by their sha256 (checked on the way in, never trusted)
 *   keys/<shot key>.json      a signed entry: shot key -> sample (signed-entry.ts)
 *   claims/<shot key>.json    single flight across machines (blob-shot-claims.ts)
 *
 * Restoring: the entry is read and its signature checked, then every object it names is streamed into the
 * local store through `Store.ingest`, which hashes while writing to a temp file and renames only verified
 * bytes into place (flat memory, no partial object ever in the store); the sample then enters the local
 * action cache, so the next build finds it locally.
 *
 * Publishing (read-write only): objects first, each only if absent (create-if-absent, so two machines
 * publishing one object never rewrite it), then the entry, so an entry never names a missing object.
 *
 * Nothing here throws into the build: a miss, a rejected entry and a failure are all "not from the remote";
 * rejected entries and poisoned objects are warned about; the first unexpected failure turns the remote
 * cache off for the process (remote-health.ts).
 */
import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { Sha256, ShotId, ShotKey } from '../core/brand.ts';
import type { Sample } from '../cache/types.ts';
import type { Store } from '../cache/store.ts';
import type { ActionCache } from '../cache/action-cache.ts';
import { sampleObjects, signEntry, verifyEntry } from './signed-entry.ts';
import type { EntryRejection } from './signed-entry.ts';
import type { RemoteHealth } from './remote-health.ts';
import { statusOf } from './remote-health.ts';

/** `read`: look up and restore only (laptops); `readwrite`: publish too (CI runners). */
export type RemoteCacheMode = 'read' | 'readwrite';

/** What the engine asks of a remote cache. Never throws. */
export interface RemoteCache {
  /**
   * A sample for `key` restored from the remote into the local store and action cache, or null (a miss, a
   * rejected entry, an ignored output, a remote that is down).
   */
  restore(input: {
    readonly key: ShotKey;
    readonly shot: ShotId;
    /** Outputs that do not count (a forced rebuild wants a new sample). */
    readonly ignore: ReadonlySet<Sha256>;
    readonly signal?: AbortSignal;
  }): Promise<Sample | null>;
  /** Streams one object (a pinned output) into the local store; whether it is there now. */
  restoreObject(input: {
    readonly digest: Sha256;
    readonly bytes: number;
    readonly shot: ShotId;
    readonly signal?: AbortSignal;
  }): Promise<boolean>;
  /** Publishes a sample made here: its objects, then its signed entry. A no-op unless read-write. */
  publish(key: ShotKey, sample: Sample): Promise<void>;
}

export interface BlobRemoteCacheOptions {
  readonly container: ContainerClient;
  readonly mode: RemoteCacheMode;
  /** The HMAC key entries are signed and checked with (SORA_BUILD_CACHE_KEY). */
  readonly secret: string;
  readonly store: Store;
  readonly actionCache: ActionCache;
  readonly health: RemoteHealth;
}

/** Entries are small JSON; anything longer is not one of ours. */
const MAX_ENTRY_BYTES = 64 * 1024;
/** Files up to this size go up in one request; larger ones in blocks, streamed from the file. */
const SINGLE_SHOT_BYTES = 32 * 1024 * 1024;

export class BlobRemoteCache implements RemoteCache {
  readonly #o: BlobRemoteCacheOptions;

  constructor(options: BlobRemoteCacheOptions) {
    this.#o = options;
  }

  async restore(input: Parameters<RemoteCache['restore']>[0]): Promise<Sample | null> {
    const { health, actionCache } = this.#o;
    if (health.down) return null;
    const text = await this.#readEntry(input.key);
    if (text === null) return null;
    const verdict = verifyEntry(text, input.key, this.#o.secret);
    if (!verdict.ok) {
      health.warn(`remote cache entry for ${input.shot} ignored: ${rejectionText(verdict.why)}`);
      return null;
    }
    const sample = verdict.sample;
    if (input.ignore.has(sample.output)) return null;
    for (const object of sampleObjects(sample)) {
      const got = await this.restoreObject({
        digest: object.digest,
        bytes: object.bytes ?? -1,
        shot: input.shot,
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
      if (!got) return null;
    }
    try {
      await actionCache.addSample(input.key, sample);
    } catch (error) {
      // A signed entry whose sample the action cache refuses (a newer format, say): not used.
      if (error instanceof TypeError) {
        health.warn(`remote cache entry for ${input.shot} ignored: its sample is not one this version reads`);
        return null;
      }
      throw error;
    }
    return sample;
  }

  async restoreObject(input: Parameters<RemoteCache['restoreObject']>[0]): Promise<boolean> {
    const { store, health, container } = this.#o;
    if (store.hasObject(input.digest)) return true;
    if (health.down) return false;
    const blob = container.getBlobClient(objectName(input.digest));
    let body: NodeJS.ReadableStream | undefined;
    try {
      const response = await blob.download(0, undefined, {
        maxRetryRequests: 1,
        ...(input.signal === undefined ? {} : { abortSignal: input.signal }),
      });
      body = response.readableStreamBody;
    } catch (error) {
      if (statusOf(error) === 404) return false; // an entry published without its object: a miss
      if (input.signal?.aborted !== true) health.fail(error, `downloading a video for ${input.shot}`);
      return false;
    }
    if (body === undefined) return false;
    const ingested = await store
      .ingest(body as Readable, {
        expected: { sha256: input.digest, ...(input.bytes >= 0 ? { bytes: input.bytes } : {}) },
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      })
      .catch((error: unknown) => {
        if (input.signal?.aborted !== true) health.fail(error, `storing a video for ${input.shot}`);
        return null;
      });
    if (ingested === null) return false;
    if (ingested.ok) return true;
    const failure = ingested.error;
    switch (failure.reason) {
      case 'digest-mismatch':
      case 'too-long':
      case 'truncated':
        // Bytes that are not what their name says: someone wrote them without going through sora-build.
        health.warn(
          `remote cache object sha256:${input.digest.slice(0, 12)}… for ${input.shot} ignored: its bytes do not match its digest (${failure.reason})`,
        );
        return false;
      case 'stream-error':
        health.fail({ code: 'stream-error' }, `downloading a video for ${input.shot}`);
        return false;
      case 'verify-failed':
        return false;
    }
  }

  async publish(key: ShotKey, sample: Sample): Promise<void> {
    const { mode, health, container, store } = this.#o;
    if (mode !== 'readwrite' || health.down) return;
    try {
      for (const { digest } of sampleObjects(sample)) {
        const blob = container.getBlockBlobClient(objectName(digest));
        if (await blob.exists()) continue;
        try {
          await blob.uploadFile(store.objectPath(digest), {
            conditions: { ifNoneMatch: '*' },
            maxSingleShotSize: SINGLE_SHOT_BYTES,
            concurrency: 2,
            blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
          });
        } catch (error) {
          // Another machine published the same object meanwhile: identical bytes, nothing to do.
          if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
        }
      }
      const entry = JSON.stringify(signEntry(key, sample, this.#o.secret));
      await container.getBlockBlobClient(entryName(key)).upload(entry, Buffer.byteLength(entry), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (error) {
      health.fail(error, 'publishing a video');
    }
  }

  /** The entry's text, or null when there is none (or the remote failed: then it is off). */
  async #readEntry(key: ShotKey): Promise<string | null> {
    const { container, health } = this.#o;
    try {
      const response = await container
        .getBlobClient(entryName(key))
        .download(0, MAX_ENTRY_BYTES, { maxRetryRequests: 1 });
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 416) return null;
      health.fail(error, 'looking up a shot');
      return null;
    }
  }
}

export function objectName(digest: Sha256): string {
  return `objects/sha256/${digest}`;
}

export function entryName(key: ShotKey): string {
  return `keys/${key}.json`;
}

function rejectionText(why: EntryRejection): string {
  switch (why) {
    case 'unreadable':
      return 'it is not an entry this version reads';
    case 'wrong-key':
      return 'it was written for another shot key';
    case 'bad-signature':
      return 'its signature does not match SORA_BUILD_CACHE_KEY (written without the key, or with another one)';
  }
}
