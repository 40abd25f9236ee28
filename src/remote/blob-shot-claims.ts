/**
 * Single flight across machines: the `ShotClaims` interface (src/scheduler/shot-claims.ts) on an Azure Blob
 * container, with the three conditional writes the interface asks for:
 *
 * - create exclusively: `claims/<key>.json` is written with `If-None-Match: *`; exactly one machine's write
 *   succeeds, every other gets 409;
 * - refresh while alive: the owner rewrites it every `refreshMs` with `If-Match: <its ETag>`, so the ETag
 *   keeps changing; a 412 means someone took it over (the owner was judged dead), and it stops refreshing;
 * - take over only what is stale: a claim is stale when its ETag has not changed for `staleMs` of this
 *   machine's own clock (observed across our tries), or when the service's own clock says it was last
 *   written more than `staleMs` ago (its Last-Modified against its Date header: no clock skew between
 *   machines either way). The takeover is a write with `If-Match: <the stale ETag>`: of two machines taking
 *   over at once, one wins and the other gets 412 and waits like anyone else.
 *
 * Release deletes the blob with `If-Match: <our ETag>`, so a machine never deletes a claim it lost.
 *
 * A remote that is down grants claims without writing anything (local claims still hold on this machine):
 * the build degrades to local single flight, with the one warning remote-health.ts gives. In `read` mode
 * (a laptop that may not write), nothing is written either, but a live claim of another machine is still
 * honoured: the laptop waits for that machine's result instead of paying for it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ContainerClient } from '@azure/storage-blob';
import type { ShotKey } from '../core/brand.ts';
import type { Clock } from '../core/clock.ts';
import type { ClaimOwner, ShotClaim, ShotClaims } from '../scheduler/shot-claims.ts';
import type { RemoteHealth } from './remote-health.ts';
import { statusOf } from './remote-health.ts';

export interface BlobShotClaimsOptions {
  readonly container: ContainerClient;
  readonly health: RemoteHealth;
  readonly clock: Clock;
  /** false (`read` mode): honour other machines' claims, never write one. */
  readonly write: boolean;
  /**
   * Clock milliseconds between refreshes of a held claim.
   * @default 10_000
   */
  readonly refreshMs?: number;
  /**
   * Clock milliseconds without a refresh after which a claim is stale and may be taken over.
   * @default 60_000
   */
  readonly staleMs?: number;
}

interface ClaimBody extends ClaimOwner {
  readonly nonce: string;
}

interface Observed {
  readonly etag: string;
  readonly since: number;
}

const HOST = hostname();

export class BlobShotClaims implements ShotClaims {
  readonly #o: BlobShotClaimsOptions;
  readonly #refreshMs: number;
  readonly #staleMs: number;
  /** The ETag each claim had when first seen by this process, and when (for staleness by observation). */
  readonly #observed = new Map<ShotKey, Observed>();

  constructor(options: BlobShotClaimsOptions) {
    this.#o = options;
    this.#refreshMs = options.refreshMs ?? 10_000;
    this.#staleMs = options.staleMs ?? 60_000;
    if (this.#refreshMs * 2 > this.#staleMs) {
      throw new TypeError(
        `Expected \`staleMs\` (${this.#staleMs}) to be at least twice \`refreshMs\` (${this.#refreshMs})`,
      );
    }
  }

  async tryAcquire(key: ShotKey): Promise<ShotClaim | null> {
    const { health, container, write } = this.#o;
    if (health.down) return unheld(key);
    const blob = container.getBlockBlobClient(claimName(key));
    const body: ClaimBody = { pid: process.pid, host: HOST, nonce: randomBytes(8).toString('hex') };
    const text = JSON.stringify(body);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (write) {
          try {
            const created = await blob.upload(text, text.length, { conditions: { ifNoneMatch: '*' } });
            return this.#held(key, text, created.etag ?? '');
          } catch (error) {
            if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
          }
        }
        const current = await this.#read(key);
        if (current === 'gone') {
          if (!write) return unheld(key);
          continue; // released between our write and our read: try again
        }
        if (!this.#isStale(key, current)) return null;
        if (!write) return unheld(key); // a dead machine's claim: nothing to wait for
        try {
          const taken = await blob.upload(text, text.length, { conditions: { ifMatch: current.etag } });
          this.#observed.delete(key);
          return this.#held(key, text, taken.etag ?? '');
        } catch (error) {
          if (statusOf(error) === 412 || statusOf(error) === 404) return null; // another taker won
          throw error;
        }
      }
      return null;
    } catch (error) {
      health.fail(error, 'claiming a shot');
      return unheld(key);
    }
  }

  async owner(key: ShotKey): Promise<ClaimOwner | null> {
    if (this.#o.health.down) return null;
    try {
      const current = await this.#read(key);
      return current === 'gone' ? null : current.owner;
    } catch {
      return null;
    }
  }

  #isStale(key: ShotKey, current: { etag: string; ageMs: number | undefined }): boolean {
    const now = this.#o.clock.now();
    const seen = this.#observed.get(key);
    if (seen === undefined || seen.etag !== current.etag) {
      this.#observed.set(key, { etag: current.etag, since: now });
      return current.ageMs !== undefined && current.ageMs > this.#staleMs;
    }
    return (
      now - seen.since >= this.#staleMs || (current.ageMs !== undefined && current.ageMs > this.#staleMs)
    );
  }

  async #read(
    key: ShotKey,
  ): Promise<'gone' | { etag: string; ageMs: number | undefined; owner: ClaimOwner | null }> {
    try {
      const response = await this.#o.container
        .getBlobClient(claimName(key))
        .download(0, 4096, { maxRetryRequests: 1 });
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Buffer));
      const served = response._response.headers.get('date');
      // Both times are the service's own, in whole seconds: compared with each other only.
      const ageMs =
        served !== undefined && response.lastModified !== undefined
          ? Date.parse(served) - response.lastModified.getTime()
          : undefined;
      return { etag: response.etag ?? '', ageMs, owner: ownerOf(Buffer.concat(chunks).toString('utf8')) };
    } catch (error) {
      if (statusOf(error) === 404) return 'gone';
      throw error;
    }
  }

  #held(key: ShotKey, text: string, firstEtag: string): ShotClaim {
    const { container, clock, health } = this.#o;
    const blob = container.getBlockBlobClient(claimName(key));
    const stop = new AbortController();
    let etag = firstEtag;
    let lost = false;
    // Refreshes on the injected clock (a scaled clock in tests: minutes of claims in real seconds).
    const refreshing = (async () => {
      while (!stop.signal.aborted && !lost) {
        try {
          await clock.sleep(this.#refreshMs, stop.signal);
        } catch {
          return;
        }
        if (health.down) return;
        try {
          const refreshed = await blob.upload(text, text.length, {
            conditions: { ifMatch: etag },
            abortSignal: stop.signal,
          });
          etag = refreshed.etag ?? etag;
        } catch (error) {
          if (stop.signal.aborted) return;
          // Taken over: this machine was judged dead. The job goes on (it was paid for), nothing more.
          if (statusOf(error) === 412 || statusOf(error) === 404) lost = true;
        }
      }
    })();
    let released: Promise<void> | undefined;
    return {
      key,
      release: () => {
        released ??= (async () => {
          stop.abort();
          await refreshing;
          if (lost || health.down) return;
          await blob.delete({ conditions: { ifMatch: etag } }).catch(() => undefined);
        })();
        return released;
      },
    };
  }
}

/** A claim that holds nothing remotely (the remote is down, or this machine only reads). */
function unheld(key: ShotKey): ShotClaim {
  return { key, release: () => Promise.resolve() };
}

export function claimName(key: ShotKey): string {
  return `claims/${key}.json`;
}

function ownerOf(text: string): ClaimOwner | null {
  try {
    const v = JSON.parse(text) as Partial<ClaimBody>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? { pid: v.pid, host: v.host } : null;
  } catch {
    return null;
  }
}

/**
 * Both claims, the machine's (files) and the team's (blobs): the local one first, so processes on one machine
 * settle among themselves without a request, and only one of them asks the remote.
 */
export class LayeredShotClaims implements ShotClaims {
  readonly #local: ShotClaims;
  readonly #remote: ShotClaims;

  constructor(options: { readonly local: ShotClaims; readonly remote: ShotClaims }) {
    this.#local = options.local;
    this.#remote = options.remote;
  }

  async tryAcquire(key: ShotKey): Promise<ShotClaim | null> {
    const local = await this.#local.tryAcquire(key);
    if (local === null) return null;
    let remote: ShotClaim | null;
    try {
      remote = await this.#remote.tryAcquire(key);
    } catch (error) {
      await local.release();
      throw error;
    }
    if (remote === null) {
      await local.release();
      return null;
    }
    return {
      key,
      release: async () => {
        try {
          await remote.release();
        } finally {
          await local.release();
        }
      },
    };
  }

  async owner(key: ShotKey): Promise<ClaimOwner | null> {
    return (await this.#local.owner(key)) ?? (await this.#remote.owner(key));
  }
}
