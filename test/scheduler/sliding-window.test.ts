import { describe, expect, it } from 'vitest';
import { SlidingWindow } from '../../src/scheduler/sliding-window.ts';

/** True when no window of length `windowMs` holds more than `limit` of `times`. */
function respects(times: number[], limit: number, windowMs: number): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.every((t, i) => i + limit >= sorted.length || sorted[i + limit]! - t >= windowMs);
}

describe('SlidingWindow', () => {
  it.each([
    { events: [], now: 0, expected: 0 },
    { events: [0], now: 10, expected: 10 },
    { events: [0, 5], now: 10, expected: 60_000 },
    { events: [0, 5], now: 60_000, expected: 60_000 },
    { events: [0, 30_000], now: 40_000, expected: 60_000 },
    { events: [0, 30_000], now: 61_000, expected: 61_000 },
    // a reservation in the future counts
    { events: [100_000], now: 0, expected: 0 },
    { events: [50_000, 100_000], now: 0, expected: 0 },
    { events: [30_000, 50_000], now: 0, expected: 90_000 },
  ])(
    'limit 2 per minute, events $events, now $now -> next slot at $expected',
    ({ events, now, expected }) => {
      const window = new SlidingWindow({ limit: 2, windowMs: 60_000, events });
      expect(window.nextSlotAt(now)).toBe(expected);
    },
  );

  it('grants back-to-back slots that never exceed the limit in any window', () => {
    const window = new SlidingWindow({ limit: 3, windowMs: 1000 });
    const times = Array.from({ length: 10 }, (_, i) => {
      const at = window.nextSlotAt(i * 10);
      window.record(at);
      return at;
    });
    expect(times).toEqual([0, 10, 20, 1000, 1010, 1020, 2000, 2010, 2020, 3000]);
    expect(respects(times, 3, 1000)).toBe(true);
    expect(respects(times, 3, 1001)).toBe(false);
  });

  it('takes a lower limit per call (adaptive lowering) and prunes old events', () => {
    const window = new SlidingWindow({ limit: 4, windowMs: 1000, events: [0, 100, 200] });
    expect(window.nextSlotAt(300)).toBe(300);
    expect(window.nextSlotAt(300, 2)).toBe(1100);
    window.prune(1150);
    expect(window.toJSON()).toEqual([200]);
    expect(window.eventsAt(1150)).toEqual([200]);
  });

  it('rejects bad options with precise TypeErrors', () => {
    expect(() => new SlidingWindow({ limit: 0, windowMs: 1 })).toThrow(
      'Expected `limit` to be an integer >= 1, got 0',
    );
    expect(() => new SlidingWindow({ limit: 1.5, windowMs: 1 })).toThrow(TypeError);
    expect(() => new SlidingWindow({ limit: 1, windowMs: -5 })).toThrow(
      'Expected `windowMs` to be a positive finite number, got -5',
    );
    expect(() => new SlidingWindow({ limit: 1, windowMs: 1, events: [Number.NaN] })).toThrow(TypeError);
  });
});
