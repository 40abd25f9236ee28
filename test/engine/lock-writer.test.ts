import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LockWriter } from '../../src/engine/lock-writer.ts';
import { asSha256, asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import type { LockEntry } from '../../src/cache/types.ts';
import type { ShotId } from '../../src/core/brand.ts';

const entry = (id: string): LockEntry => ({
  shot: asShotId(id),
  key: asShotKey('ab'.repeat(32)),
  output: asSha256('cd'.repeat(32)),
  bytes: 1000,
  videoId: asVideoId(`video_${id}`),
  model: 'sora-2',
  size: '1280x720',
  seconds: 4,
  keyFormat: 1,
  family: 'openai-videos',
  promptSha256: asSha256('ef'.repeat(32)),
  referenceSha256: null,
  parentRelation: null,
  parentOutput: null,
});

describe('LockWriter', () => {
  it('reports a failed write to its caller only; the writes after it still happen', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-lock-writer-'));
    try {
      await writeFile(path.join(dir, 'not-a-folder'), '');
      const writer = new LockWriter();
      const shots = new Map<ShotId, LockEntry>([[asShotId('harbor'), entry('harbor')]]);
      const bad = writer.write(path.join(dir, 'not-a-folder', 'storyboard.lock'), shots);
      const good = writer.write(path.join(dir, 'storyboard.lock'), shots);
      const error = (await bad.catch((e: unknown) => e)) as NodeJS.ErrnoException;
      expect(['ENOTDIR', 'EEXIST']).toContain(error.code);
      await good;
      expect(await readFile(path.join(dir, 'storyboard.lock'), 'utf8')).toContain('harbor');
      await writer.idle();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
