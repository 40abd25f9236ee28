import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWrite } from '../../src/cache/atomic-write.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('atomicWrite', () => {
  it('creates missing folders, writes the bytes with the given mode, and leaves no temp file', async () => {
    const path = join(dir, 'a', 'b', 'file.json');
    await atomicWrite(path, '{"x":1}\n', { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('{"x":1}\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['file.json']);
  });

  it('replaces an existing file in one step (a reader sees old or new bytes, never a mix)', async () => {
    const path = join(dir, 'lock.json');
    await writeFile(path, 'old'.repeat(10_000));
    const readers: Promise<string>[] = [];
    const writing = atomicWrite(path, new TextEncoder().encode('new'.repeat(10_000)));
    for (let i = 0; i < 20; i++) readers.push(readFile(path, 'utf8'));
    await writing;
    for (const text of await Promise.all(readers)) {
      expect(['old'.repeat(10_000), 'new'.repeat(10_000)]).toContain(text);
    }
    expect(await readFile(path, 'utf8')).toBe('new'.repeat(10_000));
  });

  it('fails without leaving a temp when the folder cannot be created, and checks its options', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    await expect(atomicWrite(join(dir, 'plain', 'f.json'), 'y')).rejects.toThrow(/EEXIST|ENOTDIR/);
    await expect(atomicWrite(join(dir, 'f.json'), 'y', { mode: 0o1777 })).rejects.toThrow(TypeError);
    expect(await readdir(dir)).toEqual(['plain']);
  });
});
