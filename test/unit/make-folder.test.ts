import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder } from '../../src/core/make-folder.ts';
import { withTempDir } from '../commands/cli-harness.ts';

describe('makeFolder', () => {
  it('creates every missing folder, and is fine when they exist', async () => {
    await withTempDir(async (dir) => {
      const deep = path.join(dir, 'a', 'b', 'c');
      await makeFolder(deep);
      await makeFolder(deep);
      expect((await stat(deep)).isDirectory()).toBe(true);
    });
  });

  it('fails, and ends, where a file is in the way', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'file'), 'x');
      await expect(makeFolder(path.join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
      await expect(makeFolder(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    });
  });

  it('ends with an error under /proc/self, where recursive mkdir spins forever', async () => {
    await expect(makeFolder('/proc/self/sora-build/analysis')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
