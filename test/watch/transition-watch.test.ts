import { describe, expect, it } from 'vitest';
import { INITIAL_CHANGE, INITIAL_WATCH_STATE, transitionWatch } from '../../src/watch/transition-watch.ts';
import type { WatchEvent, WatchState, WatchTransition } from '../../src/watch/transition-watch.ts';

const idle = (iteration: number): WatchState => ({ kind: 'idle', iteration });
const debouncing = (iteration: number, ...changes: string[]): WatchState => ({
  kind: 'debouncing',
  iteration,
  changes,
});
const building = (iteration: number, ...changes: string[]): WatchState => ({
  kind: 'building',
  iteration,
  changes,
});
const pendingChange = (iteration: number, changes: string[], pending: string[]): WatchState => ({
  kind: 'building-with-pending-change',
  iteration,
  changes,
  pending,
});
const stopping = (iteration: number, buildRunning: boolean): WatchState => ({
  kind: 'stopping',
  iteration,
  buildRunning,
});
const changed = (path: string): WatchEvent => ({ type: 'file-changed', path });
const START: WatchEvent = { type: 'start' };
const ELAPSED: WatchEvent = { type: 'debounce-elapsed' };
const FINISHED: WatchEvent = { type: 'build-finished' };
const STOP: WatchEvent = { type: 'stop' };

const cases: [string, WatchState, WatchEvent, WatchTransition][] = [
  [
    'start builds everything as iteration 1',
    INITIAL_WATCH_STATE,
    START,
    {
      state: building(1, INITIAL_CHANGE),
      effects: [{ type: 'start-build', iteration: 1, changes: [INITIAL_CHANGE] }],
    },
  ],
  ['start is ignored once running', idle(3), START, { state: idle(3), effects: [] }],
  [
    'a change while idle starts the quiet period',
    idle(2),
    changed('storyboard.yaml'),
    { state: debouncing(2, 'storyboard.yaml'), effects: [{ type: 'schedule-debounce' }] },
  ],
  [
    'a further change restarts the timer and accumulates, sorted',
    debouncing(2, 'storyboard.yaml'),
    changed('refs/mug.png'),
    {
      state: debouncing(2, 'refs/mug.png', 'storyboard.yaml'),
      effects: [{ type: 'schedule-debounce' }],
    },
  ],
  [
    'the same file saved twice is one change',
    debouncing(2, 'storyboard.yaml'),
    changed('storyboard.yaml'),
    { state: debouncing(2, 'storyboard.yaml'), effects: [{ type: 'schedule-debounce' }] },
  ],
  [
    'quiet period over: build the next iteration',
    debouncing(2, 'refs/mug.png', 'storyboard.yaml'),
    ELAPSED,
    {
      state: building(3, 'refs/mug.png', 'storyboard.yaml'),
      effects: [{ type: 'start-build', iteration: 3, changes: ['refs/mug.png', 'storyboard.yaml'] }],
    },
  ],
  ['a stale timer while idle does nothing', idle(2), ELAPSED, { state: idle(2), effects: [] }],
  [
    'a stale timer while building does nothing',
    building(3, 'a'),
    ELAPSED,
    { state: building(3, 'a'), effects: [] },
  ],
  ['a build that settles returns to idle', building(3, 'a'), FINISHED, { state: idle(3), effects: [] }],
  [
    'a change during a build supersedes its wait',
    building(3, 'storyboard.yaml'),
    changed('storyboard.yaml'),
    {
      state: pendingChange(3, ['storyboard.yaml'], ['storyboard.yaml']),
      effects: [{ type: 'abort-build' }],
    },
  ],
  [
    'more changes while the superseded build settles accumulate without another abort',
    pendingChange(3, ['storyboard.yaml'], ['storyboard.yaml']),
    changed('sora.config.yaml'),
    { state: pendingChange(3, ['storyboard.yaml'], ['sora.config.yaml', 'storyboard.yaml']), effects: [] },
  ],
  [
    'the superseded build settles: debounce the pending changes',
    pendingChange(3, ['a'], ['b', 'c']),
    FINISHED,
    { state: debouncing(3, 'b', 'c'), effects: [{ type: 'schedule-debounce' }] },
  ],
  [
    'stop while idle exits at once',
    idle(4),
    STOP,
    { state: stopping(4, false), effects: [{ type: 'exit' }] },
  ],
  [
    'stop while debouncing cancels the timer and exits',
    debouncing(4, 'a'),
    STOP,
    { state: stopping(4, false), effects: [{ type: 'cancel-debounce' }, { type: 'exit' }] },
  ],
  [
    'stop while building aborts the build and waits for it',
    building(4, 'a'),
    STOP,
    { state: stopping(4, true), effects: [{ type: 'abort-build' }] },
  ],
  [
    'stop while a superseded build settles waits without a second abort',
    pendingChange(4, ['a'], ['b']),
    STOP,
    { state: stopping(4, true), effects: [] },
  ],
  [
    'the build settles while stopping: exit',
    stopping(4, true),
    FINISHED,
    { state: stopping(4, false), effects: [{ type: 'exit' }] },
  ],
  [
    'changes while stopping are ignored',
    stopping(4, true),
    changed('a'),
    { state: stopping(4, true), effects: [] },
  ],
  ['a second stop is ignored', stopping(4, true), STOP, { state: stopping(4, true), effects: [] }],
  [
    'a stale finish after exit does nothing',
    stopping(4, false),
    FINISHED,
    { state: stopping(4, false), effects: [] },
  ],
];

describe('transitionWatch', () => {
  it.each(cases)('%s', (_name, state, event, expected) => {
    expect(transitionWatch(state, event)).toEqual(expected);
  });

  it('a burst of saves during the quiet period yields exactly one build', () => {
    let state = transitionWatch(INITIAL_WATCH_STATE, START).state;
    state = transitionWatch(state, FINISHED).state;
    const builds: number[] = [];
    for (let i = 0; i < 25; i++) state = transitionWatch(state, changed('storyboard.yaml')).state;
    const t = transitionWatch(state, ELAPSED);
    for (const e of t.effects) if (e.type === 'start-build') builds.push(e.iteration);
    expect(builds).toEqual([2]);
    expect(t.state).toEqual(building(2, 'storyboard.yaml'));
  });

  it('never leaves a build running when it exits', () => {
    // Walk every event from every state; whenever `exit` is emitted, no build may still be running.
    const states: WatchState[] = [
      idle(1),
      debouncing(1, 'a'),
      building(1, 'a'),
      pendingChange(1, ['a'], ['b']),
      stopping(1, true),
      stopping(1, false),
    ];
    const events = [START, changed('a'), ELAPSED, FINISHED, STOP];
    for (const s of states)
      for (const e of events) {
        const t = transitionWatch(s, e);
        if (t.effects.some((x) => x.type === 'exit')) {
          expect(t.state.kind).toBe('stopping');
          expect(t.state.kind === 'stopping' && t.state.buildRunning).toBe(false);
        }
      }
  });
});
