import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurationEstimates } from '../../src/scheduler/duration-estimates.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'durations-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kind = { model: 'sora-2', size: '1280x720', seconds: 8 };

describe('DurationEstimates', () => {
  it('learns an exponential moving average per (model, size, seconds) and persists it', async () => {
    const estimates = DurationEstimates.open(dir);
    expect(estimates.estimate(kind)).toBeNull();
    expect(await estimates.record(kind, 100_000)).toBe(100_000);
    expect(await estimates.record(kind, 200_000)).toBe(130_000);
    expect(await estimates.record({ ...kind, seconds: 4 }, 50_000)).toBe(50_000);
    const reopened = DurationEstimates.open(dir);
    expect(reopened.estimate(kind)).toBe(130_000);
    expect(reopened.estimate({ ...kind, size: '720x1280' })).toBeNull();
    expect(JSON.parse(await readFile(join(dir, 'durations.json'), 'utf8'))).toEqual({
      version: 1,
      estimates: {
        'sora-2 1280x720 4': { ms: 50_000, samples: 1 },
        'sora-2 1280x720 8': { ms: 130_000, samples: 2 },
      },
    });
  });

  it('keeps entries written by another process meanwhile', async () => {
    const a = DurationEstimates.open(dir);
    const b = DurationEstimates.open(dir);
    await a.record(kind, 10_000);
    await b.record({ ...kind, model: 'sora-2-pro' }, 20_000);
    const fresh = DurationEstimates.open(dir);
    expect([fresh.estimate(kind), fresh.estimate({ ...kind, model: 'sora-2-pro' })]).toEqual([
      10_000, 20_000,
    ]);
  });

  it('ignores an unreadable file and rejects bad input', async () => {
    await writeFile(join(dir, 'durations.json'), '{oops');
    expect(DurationEstimates.open(dir).estimate(kind)).toBeNull();
    expect(() => DurationEstimates.open(dir, { alpha: 0 })).toThrow(
      'Expected `alpha` to be in (0, 1], got 0',
    );
    await expect(DurationEstimates.open(dir).record(kind, -1)).rejects.toThrow(TypeError);
  });
});
