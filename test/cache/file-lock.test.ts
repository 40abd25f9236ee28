import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLockStale, withFileLock } from '../../src/cache/file-lock.ts';
import { systemClock } from '../../src/core/clock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that is certainly dead: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

describe('withFileLock', () => {
  it('serialises critical sections of concurrent holders', async () => {
    const lock = join(dir, 'x.lock');
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        withFileLock(
          lock,
          async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await new Promise((r) => setTimeout(r, 5));
            order.push(i);
            inside--;
          },
          { clock: systemClock, retryMs: 1 },
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('releases the lock when the critical section throws', async () => {
    const lock = join(dir, 'x.lock');
    await expect(
      withFileLock(lock, () => Promise.reject(new Error('boom')), { clock: systemClock }),
    ).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock left by a dead process at once', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(
      lock,
      JSON.stringify({ pid: deadPid(), host: hostname(), nonce: 'dead', wallAt: Date.now() }),
    );
    const value = await withFileLock(lock, () => Promise.resolve(42), { clock: systemClock });
    expect(value).toBe(42);
    expect(await readdir(dir)).toEqual([]);
  });

  it('waits for a live holder, and gives up when aborted', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'live', wallAt: Date.now() }),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('gave up')), 30);
    await expect(
      withFileLock(lock, () => Promise.resolve(1), {
        clock: systemClock,
        retryMs: 2,
        signal: controller.signal,
      }),
    ).rejects.toThrow('gave up');
    expect(await readdir(dir)).toEqual(['x.lock']);
  });

  it('treats an old unreadable lock file (holder killed before writing) as stale', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect(
      await withFileLock(lock, () => Promise.resolve('ok'), { clock: systemClock, staleMs: 10_000 }),
    ).toBe('ok');
  });
});

describe('isLockStale', () => {
  const base = { staleMs: 10_000, wallNow: 100_000, host: 'here', fileMtimeMs: 100_000 };
  it.each([
    ['a live pid on this host, young', { pid: process.pid, host: 'here', nonce: 'n', wallAt: 99_000 }, false],
    [
      'a live pid, but older than staleMs',
      { pid: process.pid, host: 'here', nonce: 'n', wallAt: 80_000 },
      true,
    ],
    [
      'another host, young (cannot check its pid)',
      { pid: 1, host: 'there', nonce: 'n', wallAt: 99_000 },
      false,
    ],
  ] as const)('%s -> %s', (_name, lock, expected) => {
    expect(isLockStale(lock, base)).toBe(expected);
  });
  it('judges unreadable files by their mtime', () => {
    expect(isLockStale('unreadable', { ...base, fileMtimeMs: 95_000 })).toBe(false);
    expect(isLockStale('unreadable', { ...base, fileMtimeMs: 85_000 })).toBe(true);
  });
});

describe('withFileLock within one process', () => {
  it('queues same-process callers in memory: no clock sleep is needed (a FakeClock nobody advances)', async () => {
    const { FakeClock } = await import('../../src/core/clock.ts');
    const clock = new FakeClock();
    const lock = join(dir, 'journal.lock');
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        withFileLock(
          lock,
          async () => {
            await new Promise((r) => setTimeout(r, 2));
            order.push(i);
          },
          { clock },
        ),
      ),
    );
    expect(order).toEqual([1, 2, 3, 4]);
    expect(clock.pending).toBe(0);
  });

  it('a failing holder does not block the next one', async () => {
    const lock = join(dir, 'x.lock');
    const first = withFileLock(lock, () => Promise.reject(new Error('boom')), { clock: systemClock });
    const second = withFileLock(lock, () => Promise.resolve('next'), { clock: systemClock });
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe('next');
  });
});
