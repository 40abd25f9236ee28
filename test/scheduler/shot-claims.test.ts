import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { FileShotClaims } from '../../src/scheduler/shot-claims.ts';
import { asShotKey } from '../../src/core/brand.ts';

const KEY = asShotKey('ab'.repeat(32));

async function withClaims(fn: (claims: FileShotClaims, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-claims-'));
  try {
    await fn(new FileShotClaims({ cacheDir: dir, staleMs: 60_000 }), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

describe('FileShotClaims', () => {
  it('gives a key to one holder at a time, and again once released', async () => {
    await withClaims(async (claims, dir) => {
      const first = await claims.tryAcquire(KEY);
      expect(first).not.toBeNull();
      expect(await claims.tryAcquire(KEY)).toBeNull();
      expect(await claims.owner(KEY)).toEqual({ pid: process.pid, host: hostname() });
      await first!.release();
      await first!.release();
      expect(await readdir(path.join(dir, 'claims'))).toEqual([]);
      const second = await claims.tryAcquire(KEY);
      expect(second).not.toBeNull();
      await second!.release();
    });
  });

  it('takes over a claim whose owner on this host is dead, or whose other-host owner stopped refreshing', async () => {
    await withClaims(async (claims, dir) => {
      const file = path.join(dir, 'claims', `${KEY}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({ pid: deadPid(), host: hostname(), nonce: 'dead' }));
      const taken = await claims.tryAcquire(KEY);
      expect(taken).not.toBeNull();
      await taken!.release();

      await writeFile(file, JSON.stringify({ pid: 1, host: 'another-machine', nonce: 'fresh' }));
      expect(await claims.tryAcquire(KEY)).toBeNull();
      const old = new Date(Date.now() - 120_000);
      await utimes(file, old, old);
      const again = await claims.tryAcquire(KEY);
      expect(again).not.toBeNull();
      await again!.release();
    });
  });

  it('treats a claim naming this very process that it does not hold as left by a dead run (pid reuse)', async () => {
    await withClaims(async (claims, dir) => {
      const file = path.join(dir, 'claims', `${KEY}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'earlier-run' }));
      const taken = await claims.tryAcquire(KEY);
      expect(taken).not.toBeNull();
      await taken!.release();
    });
  });
});
