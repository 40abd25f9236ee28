import { describe, expect, it } from 'vitest';
import { DispatchGate } from '../../src/engine/dispatch-gate.ts';
import { Semaphore } from '../../src/engine/semaphore.ts';

const tick = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('DispatchGate', () => {
  it('gives turns one at a time, highest priority first, FIFO among equals', async () => {
    const gate = new DispatchGate({ maxInFlight: 4 });
    const order: string[] = [];
    const first = await gate.turn(0);
    const waiting = [
      ['low', 1],
      ['high-a', 9],
      ['mid', 5],
      ['high-b', 9],
    ].map(([name, priority]) =>
      gate.turn(priority as number).then((end) => {
        order.push(name as string);
        end();
      }),
    );
    await tick();
    expect(order).toEqual([]);
    expect(gate.waiting).toBe(4);
    first();
    await Promise.all(waiting);
    expect(order).toEqual(['high-a', 'high-b', 'mid', 'low']);
  });

  it('holds a turn until max_in_flight permits allow another job', async () => {
    const gate = new DispatchGate({ maxInFlight: 2 });
    gate.takePermit();
    gate.takePermit();
    let acquired = false;
    const pending = gate.acquirePermit().then(() => (acquired = true));
    await tick();
    expect(acquired).toBe(false);
    gate.releasePermit();
    await pending;
    expect(acquired).toBe(true);
    expect(gate.inFlight).toBe(2);
  });

  it('drops an aborted waiter without giving it a turn', async () => {
    const gate = new DispatchGate({ maxInFlight: 1 });
    const end = await gate.turn(0);
    const controller = new AbortController();
    const aborted = gate.turn(5, controller.signal);
    const next = gate.turn(1);
    controller.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    end();
    await expect(next).resolves.toBeTypeOf('function');
  });

  it('rejects a bad max_in_flight', () => {
    expect(() => new DispatchGate({ maxInFlight: 0 })).toThrow(
      'Expected `maxInFlight` to be an integer >= 1, got 0',
    );
  });
});

describe('Semaphore', () => {
  it('bounds concurrent holders and wakes waiters in order', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    await sem.acquire();
    const order: number[] = [];
    const c = sem.acquire().then((release) => {
      order.push(3);
      return release;
    });
    void sem.acquire().then(() => order.push(4));
    await tick();
    expect(order).toEqual([]);
    a();
    a(); // releasing twice is harmless
    (await c)();
    await tick();
    expect(order).toEqual([3, 4]);
  });
});
