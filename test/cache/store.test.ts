import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { existsSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src/cache/store.ts';
import { asSha256 } from '../../src/core/brand.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { fail, ok } from '../../src/core/result.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array | string) => asSha256(createHash('sha256').update(b).digest('hex'));

function webStream(chunks: Uint8Array[], options: { errorAfter?: number } = {}): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (options.errorAfter !== undefined && i === options.errorAfter) {
        controller.error(new Error('socket hang up'));
        return;
      }
      const next = chunks[i++];
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function tmpFiles(): Promise<string[]> {
  return readdir(join(dir, 'tmp')).catch(() => []);
}

describe('Store.ingest', () => {
  it('stores a web stream under cas/sha256/ab/cdef… read-only, and reports the digest and length', async () => {
    const store = Store.open(dir);
    const body = new TextEncoder().encode('hello video bytes');
    const result = await store.ingest(webStream([body.subarray(0, 5), body.subarray(5)]), {
      expected: { bytes: body.length },
    });
    const digest = sha(body);
    expect(result).toEqual({
      ok: true,
      value: { digest, bytes: body.length, created: true, verified: undefined },
    });
    const path = join(dir, 'cas', 'sha256', digest.slice(0, 2), digest.slice(2));
    expect(store.objectPath(digest)).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('hello video bytes');
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect(store.hasObject(digest)).toBe(true);
    expect(await tmpFiles()).toEqual([]);
  });

  it('accepts a Node Readable and a file path, and discards the temp when the object exists', async () => {
    const store = Store.open(dir);
    const first = await store.ingest(Readable.from([Buffer.from('same')]));
    const src = join(dir, 'src.bin');
    await writeFile(src, 'same');
    const second = await store.ingest({ path: src });
    expect(first.ok && first.value.created).toBe(true);
    expect(second).toEqual({
      ok: true,
      value: { digest: sha('same'), bytes: 4, created: false, verified: undefined },
    });
    expect(await tmpFiles()).toEqual([]);
  });

  it('reports a truncated source as data and leaves nothing behind', async () => {
    const store = Store.open(dir);
    const result = await store.ingest(webStream([new Uint8Array(10)]), { expected: { bytes: 25 } });
    expect(result).toEqual({
      ok: false,
      error: { reason: 'truncated', expectedBytes: 25, receivedBytes: 10 },
    });
    expect(await tmpFiles()).toEqual([]);
    expect(await store.listObjects()).toEqual([]);
  });

  it('stops reading a source longer than expected', async () => {
    const store = Store.open(dir);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(1000));
      },
    });
    const result = await store.ingest(endless, { expected: { bytes: 2500 } });
    expect(result).toEqual({
      ok: false,
      error: { reason: 'too-long', expectedBytes: 2500, receivedBytes: 3000 },
    });
    expect(pulled).toBeLessThan(10);
    expect(await tmpFiles()).toEqual([]);
  });

  it('reports a stream that errors mid-way (connection reset) and a digest mismatch', async () => {
    const store = Store.open(dir);
    const broken = await store.ingest(webStream([new Uint8Array(4), new Uint8Array(4)], { errorAfter: 1 }));
    expect(broken).toEqual({
      ok: false,
      error: { reason: 'stream-error', message: 'socket hang up', receivedBytes: 4 },
    });
    const wrong = await store.ingest(Readable.from([Buffer.from('abc')]), {
      expected: { sha256: sha('abd') },
    });
    expect(wrong).toEqual({
      ok: false,
      error: { reason: 'digest-mismatch', expected: sha('abd'), actual: sha('abc') },
    });
    expect(await tmpFiles()).toEqual([]);
    expect(await store.listObjects()).toEqual([]);
  });

  it('runs verify on the complete temp file and stores only what it accepts', async () => {
    const store = Store.open(dir);
    const seen: string[] = [];
    const verify = async (path: string) => {
      const text = await readFile(path, 'utf8');
      seen.push(text);
      return text.startsWith('MP4') ? ok({ length: text.length }) : fail({ why: 'not an mp4' });
    };
    const good = await store.ingest(Readable.from([Buffer.from('MP4 data')]), { verify });
    const bad = await store.ingest(Readable.from([Buffer.from('<html>')]), { verify });
    expect(seen).toEqual(['MP4 data', '<html>']);
    expect(good.ok && good.value.verified).toEqual({ length: 8 });
    expect(bad).toEqual({ ok: false, error: { reason: 'verify-failed', error: { why: 'not an mp4' } } });
    expect((await store.listObjects()).map((o) => o.digest)).toEqual([sha('MP4 data')]);
    expect(await tmpFiles()).toEqual([]);
  });

  it('removes the temp file and rejects when aborted', async () => {
    const store = Store.open(dir);
    const controller = new AbortController();
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(10));
        controller.abort(new Error('interrupted'));
      },
    });
    await expect(store.ingest(stream, { signal: controller.signal })).rejects.toThrow('interrupted');
    expect(await tmpFiles()).toEqual([]);
  });

  it('applies backpressure: the source is read no faster than the disk is written (64 MiB in 64 KiB chunks)', async () => {
    const store = Store.open(dir);
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const total = 1024;
    let sent = 0;
    let maxAhead = 0;
    const { readdirSync } = await import('node:fs');
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          // The stream pulls once on construction, before ingest has created tmp/.
          const temp = existsSync(join(dir, 'tmp')) ? readdirSync(join(dir, 'tmp'))[0] : undefined;
          const written = temp === undefined ? 0 : statSync(join(dir, 'tmp', temp)).size;
          maxAhead = Math.max(maxAhead, sent * chunk.length - written);
          if (sent++ === total) return c.close();
          c.enqueue(chunk.slice());
        },
      },
      { highWaterMark: 1 },
    );
    const result = await store.ingest(stream, { expected: { bytes: total * chunk.length } });
    expect(result).toMatchObject({ ok: true, value: { bytes: 64 * 1024 * 1024 } });
    // Never more than a couple of chunks in memory, whatever the total size.
    expect(maxAhead).toBeLessThanOrEqual(3 * chunk.length);
  });

  it('flushes a large body while it arrives, and a failed source leaves no flush or temp behind', async () => {
    const store = Store.open(dir);
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(fileHandle, 'datasync');
    try {
      const mib = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(1024 * 1024).fill(i));
      const body = mib(48);
      const whole = await store.ingest(webStream(body), { expected: { bytes: 48 * 1024 * 1024 } });
      expect(whole).toMatchObject({ ok: true, value: { digest: sha(Buffer.concat(body)) } });
      const duringFirst = datasync.mock.calls.length;
      // 48 MiB in 16 MiB windows: flushed in the background at least once before the final fsync.
      expect(duringFirst).toBeGreaterThanOrEqual(1);

      // Two failures, as many as there are flush slots: each must give its slot back.
      for (let i = 0; i < 2; i++) {
        const broken = await store.ingest(webStream(mib(40), { errorAfter: 36 }));
        expect(broken).toMatchObject({ ok: false, error: { reason: 'stream-error' } });
        expect(await tmpFiles()).toEqual([]);
      }
      const before = datasync.mock.calls.length;
      const again = await store.ingest(webStream(mib(48).reverse()));
      expect(again.ok).toBe(true);
      expect(datasync.mock.calls.length).toBeGreaterThan(before);

      // A background flush that fails (a disk hiccup) neither fails the ingest nor goes unhandled: the
      // final fsync is what reports the disk's state.
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        datasync.mockImplementation(() => Promise.reject(new Error('EIO: background flush')));
        const body = mib(40).map((b) => b.map((x) => x ^ 0x5a));
        const flaky = await store.ingest(webStream(body));
        await new Promise((resolve) => setImmediate(resolve));
        expect(flaky).toMatchObject({ ok: true, value: { digest: sha(Buffer.concat(body)) } });
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    } finally {
      datasync.mockRestore();
    }
  });

  it('rejects bad options with TypeErrors', async () => {
    const store = Store.open(dir);
    expect(() => Store.open('')).toThrow(TypeError);
    expect(() => store.objectPath(asSha256('../../etc/passwd'))).toThrow(/64 characters/);
    await expect(store.ingest(Readable.from([]), { expected: { bytes: -1 } })).rejects.toThrow(TypeError);
  });
});

describe('Store.materialise', () => {
  async function stored(store: Store, text: string) {
    const result = await store.ingest(Readable.from([Buffer.from(text)]));
    if (!result.ok) throw new Error('ingest failed');
    return result.value.digest;
  }

  it('hardlinks into out/, creating folders, then is a no-op', async () => {
    const store = Store.open(dir);
    const digest = await stored(store, 'video one');
    const dest = join(dir, 'out', 'social', 'teaser.mp4');
    expect(await store.materialise(digest, dest)).toEqual({ ok: true, value: { method: 'hardlink' } });
    expect((await stat(dest)).ino).toBe((await stat(store.objectPath(digest))).ino);
    expect(await store.materialise(digest, dest)).toEqual({ ok: true, value: { method: 'unchanged' } });
    expect((await readdir(join(dir, 'out', 'social'))).sort()).toEqual(['teaser.mp4']);
  });

  it('replaces a different existing file, and treats an identical copy as unchanged', async () => {
    const store = Store.open(dir);
    const a = await stored(store, 'video a');
    const dest = join(dir, 'out', 'a.mp4');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'out'));
    await writeFile(dest, 'video a');
    expect(await store.materialise(a, dest)).toEqual({ ok: true, value: { method: 'unchanged' } });
    await writeFile(dest, 'old video');
    expect(await store.materialise(a, dest)).toEqual({ ok: true, value: { method: 'hardlink' } });
    expect(await readFile(dest, 'utf8')).toBe('video a');
    expect(await readdir(join(dir, 'out'))).toEqual(['a.mp4']);
  });

  // Needs a second file system: /dev/shm is a tmpfs on Linux CI machines.
  const otherDevice = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
  it.runIf(otherDevice)(
    'copies across devices (no hardlink possible), writable, then is a no-op',
    async () => {
      const store = Store.open(dir);
      const digest = await stored(store, 'cross device');
      const outDir = await mkdtemp('/dev/shm/sora-out-');
      try {
        const dest = join(outDir, 'x.mp4');
        expect(await store.materialise(digest, dest)).toEqual({ ok: true, value: { method: 'copy' } });
        expect(await readFile(dest, 'utf8')).toBe('cross device');
        expect((await stat(dest)).mode & 0o777).toBe(0o644);
        expect(await store.materialise(digest, dest)).toEqual({ ok: true, value: { method: 'unchanged' } });
        expect(await readdir(outDir)).toEqual(['x.mp4']);
      } finally {
        await rm(outDir, { recursive: true, force: true });
      }
    },
  );

  it('reports a missing object as data', async () => {
    const store = Store.open(dir);
    const digest = sha('never stored');
    expect(await store.materialise(digest, join(dir, 'out', 'x.mp4'))).toEqual({
      ok: false,
      error: { reason: 'missing-object', digest },
    });
  });

  it('marks use through atime only, for LRU gc', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const store = Store.open(dir, { clock });
    const digest = await stored(store, 'lru');
    const mtimeBefore = (await stat(store.objectPath(digest))).mtimeMs;
    await store.materialise(digest, join(dir, 'out', 'lru.mp4'));
    const info = await stat(store.objectPath(digest));
    expect(info.atimeMs).toBe(Date.UTC(2030, 0, 1));
    expect(Math.abs(info.mtimeMs - mtimeBefore)).toBeLessThan(1);
    expect(await store.listObjects()).toEqual([{ digest, bytes: 3, lastUsedMs: Date.UTC(2030, 0, 1) }]);
  });
});

describe('Store listing and removal', () => {
  it('lists objects sorted by digest with sizes, totals them, removes them', async () => {
    const store = Store.open(dir);
    for (const text of ['a', 'bb', 'ccc']) await store.ingest(Readable.from([Buffer.from(text)]));
    await writeFile(join(dir, 'cas', 'sha256', 'README'), 'not an object');
    const listed = await store.listObjects();
    expect(listed.map((o) => o.digest)).toEqual([sha('a'), sha('bb'), sha('ccc')].sort());
    expect(await store.totalSize()).toBe(6);
    expect(await store.removeObject(sha('bb'))).toBe(true);
    expect(await store.removeObject(sha('bb'))).toBe(false);
    expect(store.hasObject(sha('bb'))).toBe(false);
    expect(await store.totalSize()).toBe(4);
  });
});
