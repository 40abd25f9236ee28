import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scavenge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A process of its own (with no --expose-gc), so nothing else allocates beside the download: a web stream
// of freshly allocated 64 KiB chunks, as fetch delivers them, ingested while the process's ArrayBuffer
// memory is sampled at every chunk.
const CHILD = `
const { Store } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../src/cache/store.ts')).href)});
const store = Store.open(process.argv[1]);
const total = 192 * 16;
let sent = 0;
const base = process.memoryUsage().arrayBuffers;
let peak = base;
const body = new ReadableStream({
  pull(c) {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    if (sent++ === total) return c.close();
    c.enqueue(new Uint8Array(64 * 1024).fill(sent & 255));
  },
});
const got = await store.ingest(body, { expected: { bytes: total * 64 * 1024 } });
if (!got.ok) throw new Error(JSON.stringify(got.error));
process.stdout.write(JSON.stringify({ growthMiB: (peak - base) / 2 ** 20, gcExposed: typeof globalThis.gc }));
`;

it('keeps a large download flat in memory: dropped chunks are collected while young', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, dir], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const { growthMiB, gcExposed } = JSON.parse(r.stdout) as { growthMiB: number; gcExposed: string };
  // 192 MiB went through; V8 left alone lets about 64 MiB of dropped chunks pile up before collecting.
  expect(growthMiB).toBeLessThan(16);
  // Nothing leaks into the program's own global scope.
  expect(gcExposed).toBe('undefined');
});
