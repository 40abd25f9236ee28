/**
 * The watch loop as an explicit state machine (style.md, habit 10). `transitionWatch` is pure: it takes the
 * current state and one event and returns the next state and the effects to perform, as data. The runner
 * (watch-session.ts) owns the timer, the file watcher and the build engine, and feeds their happenings back
 * in as events. Table tests drive it without a file system or a clock.
 *
 *   start ─▶ building #1 (the initial build)
 *
 *   ┌──────┐ file-changed ┌────────────┐ debounce-elapsed ┌──────────┐
 *   │ idle │─────────────▶│ debouncing │─────────────────▶│ building │
 *   └──────┘              └────────────┘  (iteration + 1) └──────────┘
 *      ▲                    │  ▲   ▲                        │      │
 *      │                    └──┘   │ build-finished         │      │ file-changed
 *      │            file-changed   │                        │      ▼ (abort-build)
 *      │         (restart timer)   │      ┌─────────────────────────────┐
 *      │                           └──────│ building-with-pending-change│◀─┐ file-changed
 *      │                                  └─────────────────────────────┘──┘ (accumulate)
 *      └──────────────── build-finished ────────────────────┘
 *
 *   stop (Ctrl-C): idle / debouncing ─▶ stopping + exit
 *                  building / building-with-pending-change ─▶ stopping + abort-build; build-finished ─▶ exit
 *
 * Why a change during a build aborts that build's *wait* instead of queueing behind it: the engine keeps every
 * submitted job running into the action cache (it was paid for) and a later build asking for the same key
 * awaits the running job instead of submitting again. So superseding costs nothing, and the changed shot's
 * new key is submitted as soon as the burst of saves settles, not after every unrelated shot has finished.
 * After the superseded build settles, the machine debounces again rather than building at once, because
 * the change that interrupted it may be the first save of a burst.
 */
import { unreachable } from '../core/unreachable.ts';

/** Files that changed, as display paths, sorted and without duplicates. */
export type ChangeSet = readonly string[];

export type WatchState =
  /** Waiting for a change. `iteration` is the number of the last build started (0 before the first). */
  | { readonly kind: 'idle'; readonly iteration: number }
  /** Saw changes; waiting for the quiet period to pass before building. */
  | { readonly kind: 'debouncing'; readonly iteration: number; readonly changes: ChangeSet }
  /** Build number `iteration` is running for `changes`. */
  | { readonly kind: 'building'; readonly iteration: number; readonly changes: ChangeSet }
  /** The running build was superseded by `pending` changes; waiting for it to settle. */
  | {
      readonly kind: 'building-with-pending-change';
      readonly iteration: number;
      readonly changes: ChangeSet;
      readonly pending: ChangeSet;
    }
  /** Ctrl-C: waiting for the running build (if any) to settle, then exiting. */
  | { readonly kind: 'stopping'; readonly iteration: number; readonly buildRunning: boolean };

export type WatchEvent =
  /** The loop starts: build everything once. */
  | { readonly type: 'start' }
  /** The watcher saw a change (add, change, unlink) of a watched file. */
  | { readonly type: 'file-changed'; readonly path: string }
  /** The quiet period after the last change has passed. */
  | { readonly type: 'debounce-elapsed' }
  /** The running build settled (completed, failed, was invalid, or was aborted). */
  | { readonly type: 'build-finished' }
  /** Ctrl-C or SIGTERM. */
  | { readonly type: 'stop' };

export type WatchEffect =
  /** (Re)start the quiet-period timer; it fires `debounce-elapsed`. */
  | { readonly type: 'schedule-debounce' }
  | { readonly type: 'cancel-debounce' }
  /** Reload the project, replan and build; fire `build-finished` when it settles. */
  | { readonly type: 'start-build'; readonly iteration: number; readonly changes: ChangeSet }
  /** Stop waiting for the running build (its jobs keep running into the cache). */
  | { readonly type: 'abort-build' }
  /** Close the engine (journal kept) and exit. */
  | { readonly type: 'exit' };

export interface WatchTransition {
  readonly state: WatchState;
  readonly effects: readonly WatchEffect[];
}

export const INITIAL_WATCH_STATE: WatchState = { kind: 'idle', iteration: 0 };

/** The label of the first build's change set. */
export const INITIAL_CHANGE = '(initial build)';
const addChange = (changes: ChangeSet, path: string): ChangeSet =>
  changes.includes(path) ? changes : [...changes, path].sort();

const stay = (state: WatchState): WatchTransition => ({ state, effects: [] });

export function transitionWatch(state: WatchState, event: WatchEvent): WatchTransition {
  switch (event.type) {
    case 'start':
      if (state.kind !== 'idle' || state.iteration !== 0) return stay(state);
      return {
        state: { kind: 'building', iteration: 1, changes: [INITIAL_CHANGE] },
        effects: [{ type: 'start-build', iteration: 1, changes: [INITIAL_CHANGE] }],
      };

    case 'file-changed':
      switch (state.kind) {
        case 'idle':
          return {
            state: { kind: 'debouncing', iteration: state.iteration, changes: [event.path] },
            effects: [{ type: 'schedule-debounce' }],
          };
        case 'debouncing':
          return {
            state: { ...state, changes: addChange(state.changes, event.path) },
            effects: [{ type: 'schedule-debounce' }],
          };
        case 'building':
          return {
            state: {
              kind: 'building-with-pending-change',
              iteration: state.iteration,
              changes: state.changes,
              pending: [event.path],
            },
            effects: [{ type: 'abort-build' }],
          };
        case 'building-with-pending-change':
          return stay({ ...state, pending: addChange(state.pending, event.path) });
        case 'stopping':
          return stay(state);
        default:
          return unreachable(state);
      }

    case 'debounce-elapsed':
      if (state.kind !== 'debouncing') return stay(state); // a timer that lost a race with a cancel
      return {
        state: { kind: 'building', iteration: state.iteration + 1, changes: state.changes },
        effects: [{ type: 'start-build', iteration: state.iteration + 1, changes: state.changes }],
      };

    case 'build-finished':
      switch (state.kind) {
        case 'building':
          return stay({ kind: 'idle', iteration: state.iteration });
        case 'building-with-pending-change':
          return {
            state: { kind: 'debouncing', iteration: state.iteration, changes: state.pending },
            effects: [{ type: 'schedule-debounce' }],
          };
        case 'stopping':
          return state.buildRunning
            ? { state: { ...state, buildRunning: false }, effects: [{ type: 'exit' }] }
            : stay(state);
        case 'idle':
        case 'debouncing':
          return stay(state);
        default:
          return unreachable(state);
      }

    case 'stop':
      switch (state.kind) {
        case 'idle':
          return {
            state: { kind: 'stopping', iteration: state.iteration, buildRunning: false },
            effects: [{ type: 'exit' }],
          };
        case 'debouncing':
          return {
            state: { kind: 'stopping', iteration: state.iteration, buildRunning: false },
            effects: [{ type: 'cancel-debounce' }, { type: 'exit' }],
          };
        case 'building':
          return {
            state: { kind: 'stopping', iteration: state.iteration, buildRunning: true },
            effects: [{ type: 'abort-build' }],
          };
        case 'building-with-pending-change':
          // The build was already told to stop waiting when the change came in.
          return stay({ kind: 'stopping', iteration: state.iteration, buildRunning: true });
        case 'stopping':
          return stay(state);
        default:
          return unreachable(state);
      }

    default:
      return unreachable(event);
  }
}
