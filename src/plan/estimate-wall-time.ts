import type { QuotaConfig } from '../config/types.ts';

/** One generation for the simulation: its expected duration, priority and the jobs it waits for. */
export interface SimulatedJob {
  /** Expected time from create to a completed video, ms. */
  readonly durationMs: number;
  /** Higher starts first among ready jobs (the critical-path length). */
  readonly priority: number;
  /** Tie-breaker among equal priorities (the shot id), so the estimate is deterministic. */
  readonly name: string;
  /** Indices of jobs that must complete before this one can be created (parents being generated). */
  readonly after: readonly number[];
}

const WINDOW_MS = 60_000;

/**
 * The wall time of generating `jobs` under a quota, by simulating what the scheduler does (design.md
 * section 6): a job is created when its parents are done, at most `maxInFlight` are queued or rendering at
 * once, at most `createsPerMinute` creates fall in any sliding 60 s window, and among ready jobs the longest
 * critical path goes first.
 *
 * Event-driven with two binary heaps (ready jobs by priority, running jobs by completion time): each job is
 * pushed and popped once, so O(n log n) for n jobs. Polling and download time are folded into
 * `durationMs` by the caller's estimate.
 */
export function estimateWallTime(jobs: readonly SimulatedJob[], quota: QuotaConfig): number {
  const perMinute = Math.max(1, Math.floor(quota.createsPerMinute));
  const maxInFlight = Math.max(1, Math.floor(quota.maxInFlight));
  const waiting = jobs.map((j) => j.after.length);
  const dependants: number[][] = jobs.map(() => []);
  jobs.forEach((j, i) => {
    for (const p of j.after) dependants[p]!.push(i);
  });

  const ready = new Heap<number>((a, b) => {
    const ja = jobs[a]!;
    const jb = jobs[b]!;
    if (ja.priority !== jb.priority) return ja.priority > jb.priority;
    return ja.name < jb.name;
  });
  const running = new Heap<{ at: number; job: number }>((a, b) => a.at < b.at);
  jobs.forEach((_, i) => {
    if (waiting[i] === 0) ready.push(i);
  });

  // Create times in order; the k-th create may not happen before create k - perMinute plus a minute.
  const creates: number[] = [];
  let now = 0;
  let end = 0;
  while (ready.size > 0 || running.size > 0) {
    const canCreate = ready.size > 0 && running.size < maxInFlight;
    const k = creates.length;
    const nextCreate = canCreate
      ? Math.max(now, k >= perMinute ? creates[k - perMinute]! + WINDOW_MS : 0)
      : Infinity;
    const nextFinish = running.size > 0 ? running.peek()!.at : Infinity;
    if (nextFinish <= nextCreate) {
      // Completions first: a finished parent may release a dependant with a longer critical path.
      now = nextFinish;
      while (running.size > 0 && running.peek()!.at === now) {
        const done = running.pop()!.job;
        end = Math.max(end, now);
        for (const d of dependants[done]!) if (--waiting[d]! === 0) ready.push(d);
      }
    } else {
      now = nextCreate;
      const job = ready.pop()!;
      creates.push(now);
      running.push({ at: now + Math.max(0, jobs[job]!.durationMs), job });
    }
  }
  return end;
}

/** A small binary heap; `before(a, b)` is true when `a` comes out first. */
class Heap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.#before(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.#before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}
