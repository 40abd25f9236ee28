import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/core/clock.ts';
import { CreateLedger, addStrike, effectiveLimit } from '../../src/scheduler/create-ledger.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function respects(times: number[], limit: number, windowMs: number): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.every((t, i) => i + limit >= sorted.length || sorted[i + limit]! - t >= windowMs);
}

/** Drives a FakeClock while real file I/O happens: alternate a real tick with a fake step. */
async function drive<T>(clock: FakeClock, work: Promise<T>, stepMs: number): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  while (!done) {
    await new Promise((r) => setTimeout(r, 1));
    if (!done && clock.pending > 0) await clock.advance(stepMs);
  }
  return result;
}

describe('CreateLedger', () => {
  it('grants slots at once while the window has room, then waits on the clock', async () => {
    const clock = new FakeClock(1_000_000);
    const ledger = CreateLedger.open({ cacheDir: dir, provider: 'emulator', clock, marginMs: 0 });
    const first = await ledger.acquireCreateSlot({ limit: 2 });
    const second = await ledger.acquireCreateSlot({ limit: 2 });
    expect([first.at, second.at]).toEqual([1_000_000, 1_000_000]);
    expect(await ledger.nextFreeAt({ limit: 2 })).toBe(1_060_000);
    expect(await ledger.nextFreeAt({ limit: 3 })).toBe(1_000_000);
    const third = await drive(clock, ledger.acquireCreateSlot({ limit: 2 }), 1000);
    expect(third).toEqual({ at: 1_060_000, waitedMs: 60_000, effectiveLimit: 2 });
    const file = JSON.parse(await readFile(join(dir, 'quota', 'emulator.json'), 'utf8')) as {
      events: number[];
    };
    // pruned to the window: the first two have left it
    expect(file.events).toEqual([1_060_000]);
  });

  it('two ledgers on the same files (two processes) never exceed the limit together', async () => {
    const clock = new FakeClock(0);
    const a = CreateLedger.open({ cacheDir: dir, provider: 'azure', clock, marginMs: 0 });
    const b = CreateLedger.open({ cacheDir: dir, provider: 'azure', clock, marginMs: 0 });
    const grants: number[] = [];
    const take = async (ledger: CreateLedger, n: number) => {
      for (let i = 0; i < n; i++)
        grants.push((await ledger.acquireCreateSlot({ limit: 3, windowMs: 1000 })).at);
    };
    await drive(clock, Promise.all([take(a, 6), take(b, 6), take(a, 3)]), 25);
    expect(grants).toHaveLength(15);
    expect(respects(grants, 3, 1000)).toBe(true);
    // and the window was used: 15 creates at 3 per second need 4 s; fake time also passes while one
    // instance does file I/O and the other sleeps, so allow slack, but not a lost slot per window
    expect(Math.max(...grants)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...grants)).toBeLessThan(7000);
  });

  it('a real second process sharing the ledger never pushes the pair over the limit', async () => {
    const script = join(dir, 'child.ts');
    const module = resolve('src/scheduler/create-ledger.ts');
    const clockModule = resolve('src/core/clock.ts');
    await writeFile(
      script,
      `import { CreateLedger } from ${JSON.stringify(module)};
import { systemClock } from ${JSON.stringify(clockModule)};
const ledger = CreateLedger.open({ cacheDir: process.argv[2], provider: 'p', clock: systemClock, marginMs: 0, lockRetryMs: 2 });
const times = [];
for (let i = 0; i < 4; i++) times.push((await ledger.acquireCreateSlot({ limit: 3, windowMs: 300 })).at);
process.stdout.write(JSON.stringify(times));
`,
    );
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const ledger = CreateLedger.open({
      cacheDir: dir,
      provider: 'p',
      clock: systemClock,
      marginMs: 0,
      lockRetryMs: 2,
    });
    const mine: number[] = [];
    for (let i = 0; i < 4; i++) mine.push((await ledger.acquireCreateSlot({ limit: 3, windowMs: 300 })).at);
    expect(await exited).toBe(0);
    const theirs = JSON.parse(out) as number[];
    expect(theirs).toHaveLength(4);
    expect(respects([...mine, ...theirs], 3, 300)).toBe(true);
  });

  it('penalise blocks every instance until retry-after, and a streak of 429s lowers the rate', async () => {
    const clock = new FakeClock(0);
    const a = CreateLedger.open({ cacheDir: dir, provider: 'p', clock, marginMs: 0 });
    const b = CreateLedger.open({ cacheDir: dir, provider: 'p', clock, marginMs: 0 });
    expect(await a.penalise({ retryAfterMs: 5000 })).toEqual({
      blockedUntil: 5000,
      penalty: { streak: 1, lastAt: 0 },
    });
    const slot = await drive(clock, b.acquireCreateSlot({ limit: 4 }), 500);
    expect(slot).toEqual({ at: 5000, waitedMs: 5000, effectiveLimit: 4 });
    await a.penalise({ retryAfterMs: 0 });
    await a.penalise({ retryAfterMs: 0 });
    expect((await b.acquireCreateSlot({ limit: 4 })).effectiveLimit).toBe(2);
  });

  it('rejects bad options and gives up waiting when aborted, recording nothing', async () => {
    const clock = new FakeClock(0);
    expect(() => CreateLedger.open({ cacheDir: '', provider: 'p', clock })).toThrow(TypeError);
    expect(() => CreateLedger.open({ cacheDir: dir, provider: 'p', clock, marginMs: -1 })).toThrow(
      'Expected `marginMs` to be a finite number >= 0, got -1',
    );
    const ledger = CreateLedger.open({ cacheDir: dir, provider: '../escape', clock, marginMs: 0 });
    expect(ledger.path).toBe(join(dir, 'quota', '%2E%2E%2Fescape.json'));
    await expect(ledger.acquireCreateSlot({ limit: 0 })).rejects.toThrow(TypeError);
    await ledger.acquireCreateSlot({ limit: 1 });
    const controller = new AbortController();
    const waiting = ledger.acquireCreateSlot({ limit: 1, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('Ctrl-C'));
    await expect(waiting).rejects.toThrow('Ctrl-C');
    expect((await ledger.snapshot()).events).toEqual([0]);
  });
});

describe('adaptive limit (pure)', () => {
  const W = 60_000;
  it.each([
    { strikes: [], now: 0, expected: 5, why: 'no 429' },
    { strikes: [0], now: 1000, expected: 5, why: 'a lone 429 only pauses' },
    { strikes: [0, 10_000], now: 20_000, expected: 4, why: 'two in a row lower by one' },
    { strikes: [0, 10_000, 20_000, 30_000, 40_000, 50_000], now: 55_000, expected: 1, why: 'floor 1' },
    { strikes: [0, 10_000, 20_000], now: 20_000 + W, expected: 4, why: 'one clean window recovers one step' },
    {
      strikes: [0, 10_000, 20_000],
      now: 20_000 + 2 * W,
      expected: 5,
      why: 'two clean windows recover fully',
    },
    { strikes: [0, 90_000], now: 95_000, expected: 5, why: '429s more than a window apart are no streak' },
  ])('$why', ({ strikes, now, expected }) => {
    let penalty = { streak: 0, lastAt: 0 };
    for (const at of strikes) penalty = addStrike(penalty, at, W);
    expect(effectiveLimit(5, penalty, now, W)).toBe(expected);
  });
});
