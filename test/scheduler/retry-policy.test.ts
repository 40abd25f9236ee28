import { describe, expect, it } from 'vitest';
import type { ProviderErrorKind } from '../../src/provider/types.ts';
import { createRecovery, isRetryable, retryDelay } from '../../src/scheduler/retry-policy.ts';

describe('retryDelay', () => {
  it.each([
    // server hints are honoured as given, clamped to [0, maxRetryAfterMs]
    { attempt: 1, retryAfterMs: 2500, expected: 2500 },
    { attempt: 7, retryAfterMs: 30_000, expected: 30_000 },
    { attempt: 1, retryAfterMs: -50, expected: 0 },
    { attempt: 1, retryAfterMs: 86_400_000, expected: 600_000 },
    // exponential backoff with equal jitter: [d/2, d)
    { attempt: 1, jitter: 0, expected: 500 },
    { attempt: 1, jitter: 0.5, expected: 750 },
    { attempt: 2, jitter: 0, expected: 1000 },
    { attempt: 3, jitter: 0.999, expected: 3998 },
    { attempt: 10, jitter: 0, expected: 30_000 },
    { attempt: 10, jitter: 0.5, expected: 45_000 },
    { attempt: 5000, jitter: 0, expected: 30_000 },
  ])(
    'attempt $attempt, retry-after $retryAfterMs, jitter $jitter -> $expected ms',
    ({ attempt, retryAfterMs, jitter, expected }) => {
      expect(retryDelay({ attempt, retryAfterMs, jitter: () => jitter ?? 0.3 })).toBe(expected);
    },
  );

  it('grows with the attempt and honours custom bounds', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) =>
      retryDelay({ attempt, baseMs: 100, maxMs: 1000, jitter: () => 0 }),
    );
    expect(delays).toEqual([50, 100, 200, 400, 500]);
    expect(retryDelay({ attempt: 1, retryAfterMs: 9000, maxRetryAfterMs: 5000 })).toBe(5000);
  });

  it('rejects bad options with precise TypeErrors', () => {
    expect(() => retryDelay({ attempt: 0 })).toThrow('Expected `attempt` to be an integer >= 1, got 0');
    expect(() => retryDelay({ attempt: 1, baseMs: -1 })).toThrow(
      'Expected `baseMs` to be a finite number >= 0, got -1',
    );
    expect(() => retryDelay({ attempt: 1, jitter: () => 1 })).toThrow(
      'Expected `jitter()` to return a number in [0, 1), got 1',
    );
  });
});

const kinds: ProviderErrorKind[] = [
  'rate-limited',
  'auth',
  'not-found',
  'invalid-request',
  'moderation-blocked',
  'server',
  'connection',
];

describe('isRetryable and createRecovery', () => {
  // kind, delivered -> create, read, download, createRecovery
  const table: [ProviderErrorKind, 'no' | 'maybe' | 'yes', boolean, boolean, CreateRow][] = [
    ['connection', 'no', true, true, 'retry'],
    ['connection', 'maybe', false, true, 'reconcile'],
    ['rate-limited', 'yes', true, true, 'retry'],
    ['server', 'yes', false, true, 'reconcile'],
    ['server', 'maybe', false, true, 'reconcile'],
    ['auth', 'yes', false, false, 'give-up'],
    ['not-found', 'yes', false, false, 'give-up'],
    ['invalid-request', 'yes', false, false, 'give-up'],
    ['moderation-blocked', 'yes', false, false, 'give-up'],
  ];
  type CreateRow = 'retry' | 'reconcile' | 'give-up';
  it.each(table)(
    '%s (delivered %s): create %s, read/download %s, create recovery %s',
    (kind, delivered, create, read, recovery) => {
      const error = { kind, delivered };
      expect(isRetryable(error, 'create')).toBe(create);
      expect(isRetryable(error, 'read')).toBe(read);
      expect(isRetryable(error, 'download')).toBe(read);
      expect(createRecovery(error)).toBe(recovery);
    },
  );

  it('never retries a create that may have reached the server, whatever the kind', () => {
    for (const kind of kinds.filter((k) => k !== 'rate-limited')) {
      expect(isRetryable({ kind, delivered: 'maybe' }, 'create')).toBe(false);
      expect(isRetryable({ kind, delivered: 'yes' }, 'create')).toBe(false);
    }
  });
});
