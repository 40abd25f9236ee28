/**
 * The remote cache and the Blob claims against Azurite (the official emulator, started by the test): real
 * SDK, real HTTP, real conditional writes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asShotKey, asShotId, asVideoId } from '../../src/core/brand.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { Store } from '../../src/cache/store.ts';
import { ActionCache } from '../../src/cache/action-cache.ts';
import type { Sample } from '../../src/cache/types.ts';
import { openRemote } from '../../src/remote/open-remote.ts';
import type { OpenedRemote } from '../../src/remote/open-remote.ts';
import { entryName, objectName } from '../../src/remote/remote-cache.ts';
import { startAzurite } from '../support/azurite.ts';
import type { Azurite } from '../support/azurite.ts';

const SECRET = 'team-secret-for-tests-0123456789';
let azurite: Azurite;
let dirs: string[] = [];
let n = 0;

beforeAll(async () => {
  azurite = await startAzurite();
}, 30_000);
afterAll(async () => {
  await azurite.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** A machine: its own store and action cache, the shared container. */
async function machine(
  container: string,
  options: { mode?: 'read' | 'readwrite'; clock?: FakeClock; connectionString?: string } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'sora-build-remote-'));
  dirs.push(dir);
  const store = Store.open(dir);
  const actionCache = ActionCache.open(dir);
  const warnings: string[] = [];
  const remote: OpenedRemote = await openRemote({
    config: { type: 'azure-blob', container, accountUrl: undefined, location: undefined as never },
    mode: options.mode ?? 'readwrite',
    secret: SECRET,
    connectionString: options.connectionString ?? azurite.connectionString,
    store,
    actionCache,
    clock: options.clock ?? new FakeClock(0),
    warn: (m) => warnings.push(m),
    claims: { refreshMs: 1_000, staleMs: 5_000 },
  });
  return { store, actionCache, warnings, ...remote };
}

async function newContainer(): Promise<string> {
  const name = `t${process.pid}x${n++}`;
  await azurite.container(name).create();
  return name;
}

async function sampleIn(store: Store, text: string): Promise<Sample> {
  const got = await store.ingest(Readable.from([Buffer.from(text)]));
  if (!got.ok) throw new Error('ingest failed');
  return {
    output: got.value.digest,
    bytes: got.value.bytes,
    videoId: asVideoId('video_x'),
    provider: 'emulator',
    createdAt: 1,
    expiresAt: null,
    costUsd: 0,
    assets: {},
  };
}

const KEY = asShotKey('1'.repeat(64));
const SHOT = asShotId('harbor');

describe('the remote cache', () => {
  it('restores on machine B what machine A published, verified, into B’s store and action cache', async () => {
    const container = await newContainer();
    const a = await machine(container);
    const b = await machine(container, { mode: 'read' });
    const sample = await sampleIn(a.store, 'the video bytes of A');
    expect(await b.cache.restore({ key: KEY, shot: SHOT, ignore: new Set() })).toBeNull();
    await a.cache.publish(KEY, sample);
    const restored = await b.cache.restore({ key: KEY, shot: SHOT, ignore: new Set() });
    expect(restored).toEqual(sample);
    expect(b.store.hasObject(sample.output)).toBe(true);
    expect(b.actionCache.samples(KEY)).toEqual([sample]);
    // A reader publishes nothing.
    const other = await sampleIn(b.store, 'made on the laptop');
    await b.cache.publish(asShotKey('2'.repeat(64)), other);
    expect(await azurite.container(container).getBlobClient(objectName(other.output)).exists()).toBe(false);
    expect([...a.warnings, ...b.warnings]).toEqual([]);
  });

  it('ignores, with a warning, an entry signed with another key and an object whose bytes were swapped', async () => {
    const container = await newContainer();
    const a = await machine(container);
    const sample = await sampleIn(a.store, 'genuine bytes');
    await a.cache.publish(KEY, sample);
    const blobs = azurite.container(container);

    // A writer without the key rewrites the entry to point at its own bytes.
    const forged = await sampleIn(a.store, 'forged bytes');
    const entry = JSON.parse((await blobs.getBlobClient(entryName(KEY)).downloadToBuffer()).toString()) as {
      sample: Sample;
    };
    const poisoned = JSON.stringify({ ...entry, sample: { ...entry.sample, output: forged.output } });
    await blobs.getBlockBlobClient(entryName(KEY)).upload(poisoned, poisoned.length);
    const b = await machine(container);
    expect(await b.cache.restore({ key: KEY, shot: SHOT, ignore: new Set() })).toBeNull();
    expect(b.warnings).toEqual([
      expect.stringMatching(/^remote cache entry for harbor ignored: its signature does not match/),
    ]);

    // The genuine entry back, but other bytes under the object's name.
    await a.cache.publish(KEY, sample);
    await blobs.getBlockBlobClient(objectName(sample.output)).upload('swapped!', 8);
    const c = await machine(container);
    expect(await c.cache.restore({ key: KEY, shot: SHOT, ignore: new Set() })).toBeNull();
    expect(c.store.hasObject(sample.output)).toBe(false);
    expect(c.actionCache.samples(KEY)).toEqual([]);
    expect(c.warnings).toEqual([
      expect.stringMatching(
        /^remote cache object sha256:[0-9a-f]{12}… for harbor ignored: its bytes do not match/,
      ),
    ]);
  });

  it('that is down answers "not here" with one warning, and never throws', async () => {
    const a = await machine('nowhere', {
      connectionString: azurite.connectionString.replace(/:\d+\//, ':9/'),
    });
    const sample = await sampleIn(a.store, 'bytes');
    expect(await a.cache.restore({ key: KEY, shot: SHOT, ignore: new Set() })).toBeNull();
    await a.cache.publish(KEY, sample);
    expect(await a.claims.tryAcquire(KEY)).not.toBeNull();
    expect(a.warnings).toEqual([
      expect.stringMatching(
        /^the remote cache failed while looking up a shot \(ECONNREFUSED\); building with the local store only$/,
      ),
    ]);
  });
});

describe('claims on Blob', () => {
  it('are exclusive across machines, given back on release, and honoured by a reader', async () => {
    const container = await newContainer();
    const a = await machine(container);
    const b = await machine(container);
    const laptop = await machine(container, { mode: 'read' });
    const held = await a.claims.tryAcquire(KEY);
    expect(held).not.toBeNull();
    expect(await b.claims.tryAcquire(KEY)).toBeNull();
    expect(await laptop.claims.tryAcquire(KEY)).toBeNull();
    expect((await b.claims.owner(KEY))?.pid).toBe(process.pid);
    await held!.release();
    const next = await b.claims.tryAcquire(KEY);
    expect(next).not.toBeNull();
    await next!.release();
    expect(await azurite.container(container).getBlobClient(`claims/${KEY}.json`).exists()).toBe(false);
  });

  it('are kept alive by their owner, and taken over once the owner stops refreshing', async () => {
    const container = await newContainer();
    const clockA = new FakeClock(0);
    const clockB = new FakeClock(0);
    const a = await machine(container, { clock: clockA });
    const b = await machine(container, { clock: clockB });
    const held = await a.claims.tryAcquire(KEY);
    expect(held).not.toBeNull();
    // A refreshes every second (of its clock) while B watches for 8 seconds: never stale.
    for (let t = 0; t < 8; t++) {
      expect(await b.claims.tryAcquire(KEY)).toBeNull();
      await clockA.advance(1_000);
      await new Promise((r) => setTimeout(r, 30)); // let A's refresh reach Azurite
      await clockB.advance(1_000);
    }
    // A stops refreshing (a machine that died without releasing): stale after 5 s of B's watching.
    const c = await machine(container, { clock: clockB });
    await held!.release().catch(() => undefined); // (the release below is from a lost claim's point of view)
    await azurite
      .container(container)
      .getBlockBlobClient(`claims/${KEY}.json`)
      .upload('{"pid":1,"host":"dead"}', 23);
    expect(await c.claims.tryAcquire(KEY)).toBeNull();
    await clockB.advance(5_000);
    const taken = await c.claims.tryAcquire(KEY);
    expect(taken).not.toBeNull();
    expect(await b.claims.tryAcquire(KEY)).toBeNull(); // the new owner's claim is live
    await taken!.release();
  });
});
