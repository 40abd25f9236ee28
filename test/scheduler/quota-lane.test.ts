import { describe, expect, it } from 'vitest';
import { Lane, QuotaLane } from '../../src/scheduler/quota-lane.ts';

/** A task the test finishes by hand. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('QuotaLane', () => {
  it('runs at most `concurrency` tasks, then higher priority first, FIFO among equals', async () => {
    const lane = new QuotaLane({ concurrency: 2 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const add = (name: string, priority?: number) => {
      const gate = deferred();
      gates.set(name, gate);
      return lane.add(
        async () => {
          started.push(name);
          await gate.promise;
          return name;
        },
        priority === undefined ? {} : { priority },
      );
    };
    const results = [
      add('a'),
      add('b'),
      add('low', -1),
      add('c'),
      add('critical', 5),
      add('d'),
      add('critical2', 5),
    ];
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([lane.running, lane.size]).toEqual([2, 5]);
    gates.get('a')!.resolve();
    await tick();
    expect(started).toEqual(['a', 'b', 'critical']);
    for (const name of ['b', 'critical', 'critical2', 'c', 'd', 'low']) {
      gates.get(name)!.resolve();
      await tick();
    }
    expect(started).toEqual(['a', 'b', 'critical', 'critical2', 'c', 'd', 'low']);
    expect(await Promise.all(results)).toEqual(['a', 'b', 'low', 'c', 'critical', 'd', 'critical2']);
    await lane.onIdle();
  });

  it('removes an aborted waiting task and rejects it with the reason; a running one gets the signal', async () => {
    const lane = new Lane({ concurrency: 1 });
    const gate = deferred();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const running = lane.add(
      async (signal) => {
        seen = signal;
        await gate.promise;
        return signal?.aborted;
      },
      { signal: controller.signal },
    );
    const waiting = lane.add(() => Promise.resolve('never'), { signal: controller.signal });
    await tick();
    controller.abort(new Error('Ctrl-C'));
    await expect(waiting).rejects.toThrow('Ctrl-C');
    expect(lane.size).toBe(0);
    gate.resolve();
    expect(await running).toBe(true);
    expect(seen).toBe(controller.signal);
    await expect(lane.add(() => Promise.resolve(1), { signal: controller.signal })).rejects.toThrow('Ctrl-C');
  });

  it('onIdle waits for running and waiting tasks; failures do not stop the lane', async () => {
    const lane = new QuotaLane({ concurrency: 1 });
    const done: string[] = [];
    const failing = lane.add(() => Promise.reject(new Error('job failed')));
    const after = lane.add(() => {
      done.push('after');
      return Promise.resolve();
    });
    let idle = false;
    const idlePromise = lane.onIdle().then(() => (idle = true));
    await expect(failing).rejects.toThrow('job failed');
    await after;
    await idlePromise;
    expect([done, idle]).toEqual([['after'], true]);
  });

  it('clear() rejects waiting tasks (--fail-fast) and a raised concurrency starts more at once', async () => {
    const lane = new QuotaLane({ concurrency: 1 });
    const gate = deferred();
    const first = lane.add(() => gate.promise);
    const second = lane.add(() => Promise.resolve());
    lane.clear(new Error('fail-fast'));
    await expect(second).rejects.toThrow('fail-fast');
    gate.resolve();
    await first;

    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const tasks = gates.map((g) =>
      lane.add(async () => {
        started++;
        await g.promise;
      }),
    );
    await tick();
    expect(started).toBe(1);
    lane.concurrency = 3;
    await tick();
    expect(started).toBe(3);
    for (const g of gates) g.resolve();
    await Promise.all(tasks);
  });

  it('rejects bad options with precise TypeErrors', () => {
    expect(() => new QuotaLane({ concurrency: 0 })).toThrow(
      'Expected `concurrency` to be an integer >= 1 or Infinity, got 0',
    );
    expect(() => new QuotaLane({ concurrency: 1.5 })).toThrow(TypeError);
    expect(() =>
      new QuotaLane({ concurrency: 1 }).add(() => Promise.resolve(), { priority: Number.NaN }),
    ).toThrow('Expected `priority` to be a number, got NaN');
    expect(new QuotaLane({ concurrency: Infinity }).concurrency).toBe(Infinity);
  });
});
