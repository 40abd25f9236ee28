import { describe, expect, it } from 'vitest';
import { decideShot } from '../../src/plan/decide-shot.ts';
import type { DecideShotInput, ShotDecision } from '../../src/plan/decide-shot.ts';
import { asSha256, asShotId, asShotKey, asVideoId } from '../../src/core/brand.ts';
import type { LockEntry, Sample } from '../../src/cache/types.ts';

const KEY = asShotKey('aa'.repeat(32));
const OTHER_KEY = asShotKey('bb'.repeat(32));
const PINNED = asSha256('11'.repeat(32));
const SAMPLE_A = asSha256('22'.repeat(32));
const SAMPLE_B = asSha256('33'.repeat(32));

const entry = (key = KEY): LockEntry => ({
  shot: asShotId('mug'),
  key,
  output: PINNED,
  bytes: 10,
  videoId: asVideoId('video_pinned'),
  model: 'sora-2',
  size: '1280x720',
  seconds: 4,
  keyFormat: 1,
  family: 'emulator',
  promptSha256: asSha256('44'.repeat(32)),
  referenceSha256: null,
  parentRelation: null,
  parentOutput: null,
});
const sample = (output: typeof SAMPLE_A): Sample => ({
  output,
  bytes: 10,
  videoId: asVideoId(`video_${output.slice(0, 4)}`),
  provider: 'local',
  createdAt: 0,
  expiresAt: null,
  costUsd: null,
  assets: {},
});

type Row = [
  name: string,
  input: Partial<Omit<DecideShotInput, 'samples' | 'hasObject'>> & {
    stored?: readonly string[];
    samples?: readonly Sample[];
  },
  expected: ShotDecision['kind'],
  chosen?: string,
];

const rows: Row[] = [
  ['never built', { pinned: null }, 'generate'],
  ['never built, --frozen', { pinned: null, frozen: true }, 'refuse'],
  ['pinned and stored', { pinned: entry(), stored: [PINNED] }, 'fresh', PINNED],
  [
    'pinned, stored, and other samples too',
    { pinned: entry(), stored: [PINNED, SAMPLE_A], samples: [sample(SAMPLE_A)] },
    'fresh',
    PINNED,
  ],
  ['pinned but not stored: restore', { pinned: entry() }, 'restore', PINNED],
  [
    'pinned but not stored, under --frozen: restore first',
    { pinned: entry(), frozen: true },
    'restore',
    PINNED,
  ],
  ['pinned, not stored, restore failed', { pinned: entry(), restoreFailed: true }, 'generate'],
  [
    'pinned, not stored, restore failed, --frozen',
    { pinned: entry(), restoreFailed: true, frozen: true },
    'refuse',
  ],
  [
    'pinned under another key, a sample of this key stored',
    { pinned: entry(OTHER_KEY), stored: [PINNED, SAMPLE_A], samples: [sample(SAMPLE_A)] },
    're-pin',
    SAMPLE_A,
  ],
  [
    'pinned under another key, nothing for this one',
    { pinned: entry(OTHER_KEY), stored: [PINNED] },
    'generate',
  ],
  [
    'unpinned, the newest stored sample wins',
    { pinned: null, stored: [SAMPLE_A, SAMPLE_B], samples: [sample(SAMPLE_A), sample(SAMPLE_B)] },
    're-pin',
    SAMPLE_B,
  ],
  [
    'unpinned, samples whose bytes left the store do not count',
    { pinned: null, stored: [SAMPLE_A], samples: [sample(SAMPLE_A), sample(SAMPLE_B)] },
    're-pin',
    SAMPLE_A,
  ],
  [
    'pinned object gone, another sample of the key stored: re-pin before restore (as plan says: cached)',
    { pinned: entry(), stored: [SAMPLE_A], samples: [sample(SAMPLE_A)] },
    're-pin',
    SAMPLE_A,
  ],
  ['--force with everything in place', { pinned: entry(), stored: [PINNED], forced: true }, 'generate'],
  ['--force under --frozen', { pinned: entry(), stored: [PINNED], forced: true, frozen: true }, 'refuse'],
];

describe('decideShot', () => {
  it.each(rows)('%s', (_name, row, expected, chosen) => {
    const stored = new Set(row.stored ?? []);
    const decision = decideShot({
      key: KEY,
      pinned: row.pinned ?? null,
      samples: () => row.samples ?? [],
      hasObject: (d) => stored.has(d),
      ...(row.forced === undefined ? {} : { forced: row.forced }),
      ...(row.frozen === undefined ? {} : { frozen: row.frozen }),
      ...(row.restoreFailed === undefined ? {} : { restoreFailed: row.restoreFailed }),
    });
    expect(decision.kind).toBe(expected);
    if (chosen !== undefined) {
      const output =
        decision.kind === 're-pin'
          ? decision.sample.output
          : 'entry' in decision
            ? decision.entry.output
            : null;
      expect(output).toBe(chosen);
    }
  });

  it('reads no sample when the pinned video is in place (a no-op build stays cheap)', () => {
    let reads = 0;
    decideShot({
      key: KEY,
      pinned: entry(),
      samples: () => {
        reads++;
        return [];
      },
      hasObject: () => true,
    });
    expect(reads).toBe(0);
  });
});
