import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { WatchSession } from '../../src/watch/watch-session.ts';
import type {
  FileWatcher,
  IterationRequest,
  IterationResult,
  WatchNotice,
} from '../../src/watch/watch-session.ts';

const tick = () => new Promise((r) => setImmediate(r));

class FakeWatcher implements FileWatcher {
  paths: readonly string[] = [];
  listener: ((path: string) => void) | undefined;
  closed = false;
  setPaths(paths: readonly string[]): void {
    this.paths = [...paths];
  }
  onChange(listener: (path: string) => void): void {
    this.listener = listener;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  change(path: string): void {
    this.listener!(path);
  }
}

/** Iterations the test completes by hand; each resolves early (like the engine) when its signal aborts. */
class Iterations {
  readonly requests: { request: IterationRequest; finish: (r?: IterationResult) => void }[] = [];
  run = (request: IterationRequest): Promise<IterationResult> => {
    let resolve: (r: IterationResult) => void = () => {};
    const promise = new Promise<IterationResult>((r) => (resolve = r));
    request.signal.addEventListener('abort', () => resolve({ watchPaths: undefined }), { once: true });
    this.requests.push({ request, finish: (r) => resolve(r ?? { watchPaths: undefined }) });
    return promise;
  };
  get log(): string[] {
    return this.requests.map((r) => `#${r.request.iteration} ${r.request.changes.join(',')}`);
  }
}

async function setup() {
  const clock = new FakeClock();
  const watcher = new FakeWatcher();
  const iterations = new Iterations();
  const notices: WatchNotice[] = [];
  const session = new WatchSession({
    watcher,
    runIteration: iterations.run,
    displayPath: (p) => p.replace('/p/', ''),
    onNotice: (n) => notices.push(n),
    debounceMs: 150,
    debounceClock: clock,
    initialPaths: ['/p/storyboard.yaml', '/p/sora.config.yaml'],
  });
  const done = session.run();
  await tick(); // the initial paths are watched before the first build starts
  return { clock, watcher, iterations, notices, session, done };
}

describe('WatchSession', () => {
  it('builds once at start, then once per burst of changes after the quiet period', async () => {
    const { clock, watcher, iterations, notices } = await setup();
    expect(watcher.paths).toEqual(['/p/storyboard.yaml', '/p/sora.config.yaml']);
    expect(iterations.log).toEqual(['#1 (initial build)']);
    iterations.requests[0]!.finish({ watchPaths: ['/p/storyboard.yaml', '/p/refs/a.png'] });
    await tick();
    expect(watcher.paths).toEqual(['/p/storyboard.yaml', '/p/refs/a.png']);
    expect(notices.at(-1)).toEqual({ type: 'watching', files: 2 });

    for (let i = 0; i < 10; i++) {
      watcher.change('/p/storyboard.yaml');
      await clock.advance(100); // each save within the quiet period restarts it
    }
    expect(iterations.log).toEqual(['#1 (initial build)']);
    watcher.change('/p/refs/a.png');
    await clock.advance(149);
    expect(iterations.requests.length).toBe(1);
    await clock.advance(1);
    expect(iterations.log).toEqual(['#1 (initial build)', '#2 refs/a.png,storyboard.yaml']);
  });

  it('a change during a build aborts its wait, then builds the change after the quiet period', async () => {
    const { clock, watcher, iterations, notices } = await setup();
    watcher.change('/p/storyboard.yaml');
    await tick();
    expect(iterations.requests[0]!.request.signal.aborted).toBe(true);
    expect(notices).toContainEqual({ type: 'change-queued', path: 'storyboard.yaml' });
    expect(notices).toContainEqual({ type: 'iteration-finished', iteration: 1, superseded: true });
    await clock.advance(150);
    expect(iterations.log).toEqual(['#1 (initial build)', '#2 storyboard.yaml']);
    expect(iterations.requests[1]!.request.signal.aborted).toBe(false);
  });

  it('keeps watching after an iteration throws', async () => {
    const clock = new FakeClock();
    const watcher = new FakeWatcher();
    const notices: WatchNotice[] = [];
    let calls = 0;
    const session = new WatchSession({
      watcher,
      runIteration: () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve({ watchPaths: ['/p/x'] });
      },
      displayPath: (p) => p,
      onNotice: (n) => notices.push(n),
      debounceClock: clock,
    });
    void session.run();
    await tick();
    expect(notices.map((n) => n.type)).toEqual([
      'iteration-started',
      'iteration-crashed',
      'iteration-finished',
      'watching',
    ]);
    watcher.change('/p/x');
    await clock.advance(150);
    await tick();
    expect(calls).toBe(2);
    expect(session.state).toEqual({ kind: 'idle', iteration: 2 });
  });

  it('stop during a build aborts it, waits for it to settle, closes the watcher and resolves', async () => {
    const { watcher, iterations, session, done, notices } = await setup();
    let resolved = false;
    void done.then(() => (resolved = true));
    session.stop();
    await tick();
    expect(iterations.requests[0]!.request.signal.aborted).toBe(true);
    await done;
    expect(resolved).toBe(true);
    expect(watcher.closed).toBe(true);
    expect(notices.filter((n) => n.type === 'stopping')).toHaveLength(1);
  });

  it('stop while debouncing cancels the pending build', async () => {
    const { clock, watcher, iterations, session, done } = await setup();
    iterations.requests[0]!.finish();
    await tick();
    watcher.change('/p/storyboard.yaml');
    session.stop();
    await done;
    await clock.advance(1000);
    expect(iterations.requests).toHaveLength(1);
  });

  it('rejects a negative quiet period', () => {
    expect(
      () =>
        new WatchSession({
          watcher: new FakeWatcher(),
          runIteration: () => Promise.resolve({ watchPaths: undefined }),
          displayPath: (p) => p,
          debounceMs: -1,
        }),
    ).toThrow('Expected `debounceMs` to be a number >= 0, got -1');
  });
});
