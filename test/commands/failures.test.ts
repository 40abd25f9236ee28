import { describe, expect, it } from 'vitest';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Failures } from '../../src/cache/failures.ts';
import { asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import { withTempDir } from './cli-harness.ts';

const KEY = asShotKey('ab'.repeat(32));

describe('Failures', () => {
  it('records, replaces, reads back and clears the last failure of a key', async () => {
    await withTempDir(async (cacheDir) => {
      const failures = Failures.open(cacheDir);
      expect(failures.last(KEY)).toBeUndefined();
      const first = {
        key: KEY,
        shot: asShotId('mug'),
        reason: 'generation-failed',
        message: 'the job failed: internal_error',
        at: 1000,
        videoId: asVideoId('video_1'),
      };
      await failures.record(first);
      await failures.record({
        ...first,
        reason: 'moderation-blocked',
        message: 'blocked',
        at: 2000,
        videoId: null,
      });
      expect(failures.last(KEY)).toEqual({
        ...first,
        reason: 'moderation-blocked',
        message: 'blocked',
        at: 2000,
        videoId: null,
      });
      expect(await Failures.open(cacheDir).lastAsync(KEY)).toEqual(failures.last(KEY));
      expect(await readdir(path.join(cacheDir, 'failures', 'ab'))).toEqual([`${KEY}.json`]);
      await failures.clear(KEY);
      expect(failures.last(KEY)).toBeUndefined();
    });
  });

  it('treats an unreadable record as absent', async () => {
    await withTempDir(async (cacheDir) => {
      const file = path.join(cacheDir, 'failures', 'ab', `${KEY}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, '{"version": 2}');
      expect(Failures.open(cacheDir).last(KEY)).toBeUndefined();
    });
  });
});
