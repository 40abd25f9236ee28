import { describe, expect, it } from 'vitest';
import { FakeClock, ScaledClock, clockFromSpec, systemClock } from '../../src/core/clock.ts';

describe('FakeClock', () => {
  it('wakes sleepers in time order and only when time reaches them', async () => {
    const clock = new FakeClock(1000);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(150);
    expect(woke).toEqual(['a@1100']);
    await clock.advance(51);
    expect(woke).toEqual(['a@1100', 'b@1300']);
    expect(clock.now()).toBe(1300);
  });

  it('rejects a sleep when its signal is aborted and forgets the sleeper', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });
});

describe('ScaledClock', () => {
  it('runs speed times faster than real time from its epoch', async () => {
    const clock = new ScaledClock({ speed: 1000 });
    const before = clock.now();
    await clock.sleep(5000); // 5 ms real
    expect(clock.now() - before).toBeGreaterThanOrEqual(4000);
  });

  it('agrees across instances that share an epoch', () => {
    const epoch = Date.now() - 10;
    const a = new ScaledClock({ speed: 60, epoch });
    const b = new ScaledClock({ speed: 60, epoch });
    expect(Math.abs(a.now() - b.now())).toBeLessThan(600);
    expect(a.now() - Date.now()).toBeGreaterThanOrEqual(500);
  });

  it('rejects a speed that is not a positive number', () => {
    expect(() => new ScaledClock({ speed: 0 })).toThrow(TypeError);
  });
});

describe('clockFromSpec', () => {
  it('parses scaled specs and falls back to the system clock', () => {
    expect(clockFromSpec(undefined)).toBe(systemClock);
    const c = clockFromSpec('scaled:120:1700000000000');
    expect(c).toBeInstanceOf(ScaledClock);
    expect((c as ScaledClock).speed).toBe(120);
    expect(() => clockFromSpec('fast')).toThrow('SORA_BUILD_CLOCK');
  });
});
