/**
 * Runs the watch state machine (transition-watch.ts): performs its effects (debounce timer, builds, aborts,
 * exit) and feeds what happens back in as events. Everything with side effects is injected — the file
 * watcher, the iteration (reload + replan + build), the debounce clock — so the loop is tested with fakes and
 * the CLI wires chokidar and the BuildEngine in.
 *
 * Never prints: it reports through `onNotice`, and the CLI formats.
 */
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { unreachable } from '../core/unreachable.ts';
import type { ChangeSet, WatchEffect, WatchEvent, WatchState } from './transition-watch.ts';
import { INITIAL_WATCH_STATE, transitionWatch } from './transition-watch.ts';

/** The file watcher as the session needs it (chokidar in production, a fake in tests). */
export interface FileWatcher {
  /** Makes the watched set exactly `paths` (absolute); resolves once the new paths are being watched. */
  setPaths(paths: readonly string[]): void | Promise<void>;
  /** Registers the callback for a change, addition or removal of a watched file (absolute path). */
  onChange(listener: (path: string) => void): void;
  close(): Promise<void>;
}

export interface IterationRequest {
  readonly iteration: number;
  /** Display paths of the changes that triggered it (`(initial build)` for the first). */
  readonly changes: ChangeSet;
  /** Aborted when a newer change supersedes this build, or on Ctrl-C. */
  readonly signal: AbortSignal;
}

export interface IterationResult {
  /**
   * Absolute paths to watch from now on (manifest, config, reference images). `undefined` keeps the current
   * set (e.g. when the manifest could not be read, so its references are unknown).
   */
  readonly watchPaths: readonly string[] | undefined;
}

export type WatchNotice =
  /** A build iteration starts. */
  | { readonly type: 'iteration-started'; readonly iteration: number; readonly changes: ChangeSet }
  /** It settled; `superseded` when a newer change aborted the wait. */
  | { readonly type: 'iteration-finished'; readonly iteration: number; readonly superseded: boolean }
  /** Idle again, watching this many files. */
  | { readonly type: 'watching'; readonly files: number }
  /** A change arrived during a build: the build stops waiting and the change is queued. */
  | { readonly type: 'change-queued'; readonly path: string }
  /** An iteration threw (a bug); the loop keeps watching. */
  | { readonly type: 'iteration-crashed'; readonly iteration: number; readonly error: unknown }
  | { readonly type: 'stopping' };

export interface WatchSessionOptions {
  readonly watcher: FileWatcher;
  /** Reload, replan, build; must resolve (not reject) when its signal aborts. */
  readonly runIteration: (request: IterationRequest) => Promise<IterationResult>;
  /** Absolute path -> the path shown to the user (relative to the project root). */
  readonly displayPath: (absPath: string) => string;
  readonly onNotice?: (notice: WatchNotice) => void;
  /**
   * Watched from the start, so an edit during the first build is not missed (the manifest and config).
   * @default []
   */
  readonly initialPaths?: readonly string[];
  /**
   * Quiet period after the last change before building.
   * @default 150
   */
  readonly debounceMs?: number;
  /**
   * Clock for the quiet period. Debouncing is about a person's saves, so it runs on real time even when the
   * build runs on a scaled clock.
   * @default systemClock
   */
  readonly debounceClock?: Clock;
}

export class WatchSession {
  readonly #options: WatchSessionOptions;
  readonly #debounceMs: number;
  readonly #debounceClock: Clock;
  #state: WatchState = INITIAL_WATCH_STATE;
  #debounce: AbortController | undefined;
  #build: AbortController | undefined;
  #watchCount = 0;
  #resolveDone: () => void = () => {};
  readonly #done: Promise<void> = new Promise((resolve) => (this.#resolveDone = resolve));
  #started = false;

  constructor(options: WatchSessionOptions) {
    const debounceMs = options.debounceMs ?? 150;
    if (!Number.isFinite(debounceMs) || debounceMs < 0)
      throw new TypeError(`Expected \`debounceMs\` to be a number >= 0, got ${debounceMs}`);
    this.#options = options;
    this.#debounceMs = debounceMs;
    this.#debounceClock = options.debounceClock ?? systemClock;
  }

  /** The machine's current state (for tests and the status line). */
  get state(): WatchState {
    return this.#state;
  }

  /**
   * Starts the loop (the initial build runs at once) and resolves when it has stopped: after `stop()`, once
   * any running build has settled.
   */
  run(): Promise<void> {
    if (this.#started) throw new Error('internal error: WatchSession.run() called twice');
    this.#started = true;
    this.#options.watcher.onChange((p) =>
      this.#dispatch({ type: 'file-changed', path: this.#options.displayPath(p) }),
    );
    const initial = this.#options.initialPaths ?? [];
    this.#watchCount = initial.length;
    // Watch the manifest and config before the first build, so an edit during it is not missed.
    void Promise.resolve(initial.length > 0 ? this.#options.watcher.setPaths(initial) : undefined).then(
      () => this.#dispatch({ type: 'start' }),
      () => this.#dispatch({ type: 'start' }),
    );
    return this.#done;
  }

  /** Ctrl-C: stop waiting for the running build (its jobs keep going into the cache) and exit. */
  stop(): void {
    this.#dispatch({ type: 'stop' });
  }

  #dispatch(event: WatchEvent): void {
    const { state, effects } = transitionWatch(this.#state, event);
    this.#state = state;
    if (event.type === 'stop' && effects.length > 0) this.#options.onNotice?.({ type: 'stopping' });
    if (event.type === 'file-changed' && state.kind === 'building-with-pending-change')
      this.#options.onNotice?.({ type: 'change-queued', path: event.path });
    for (const effect of effects) this.#perform(effect);
  }

  #perform(effect: WatchEffect): void {
    switch (effect.type) {
      case 'schedule-debounce': {
        this.#debounce?.abort();
        const controller = new AbortController();
        this.#debounce = controller;
        this.#debounceClock.sleep(this.#debounceMs, controller.signal).then(
          () => {
            if (this.#debounce === controller) this.#debounce = undefined;
            this.#dispatch({ type: 'debounce-elapsed' });
          },
          () => {}, // cancelled: a later change restarted the timer, or stop
        );
        return;
      }
      case 'cancel-debounce':
        this.#debounce?.abort();
        this.#debounce = undefined;
        return;
      case 'start-build':
        this.#startBuild(effect.iteration, effect.changes);
        return;
      case 'abort-build':
        this.#build?.abort(new Error('superseded by a newer change'));
        return;
      case 'exit':
        void this.#exit();
        return;
      default:
        unreachable(effect);
    }
  }

  #startBuild(iteration: number, changes: ChangeSet): void {
    const controller = new AbortController();
    this.#build = controller;
    this.#options.onNotice?.({ type: 'iteration-started', iteration, changes });
    const settle = (): void => {
      if (this.#build === controller) this.#build = undefined;
      this.#options.onNotice?.({
        type: 'iteration-finished',
        iteration,
        superseded: controller.signal.aborted,
      });
      this.#dispatch({ type: 'build-finished' });
      if (this.#state.kind === 'idle')
        this.#options.onNotice?.({ type: 'watching', files: this.#watchCount });
    };
    this.#options
      .runIteration({ iteration, changes, signal: controller.signal })
      .then(async (result) => {
        if (result.watchPaths !== undefined) {
          this.#watchCount = result.watchPaths.length;
          await this.#options.watcher.setPaths(result.watchPaths);
        }
      })
      .then(settle, (error: unknown) => {
        // A bug in one iteration must not end the session: the user's edits are still worth watching.
        this.#options.onNotice?.({ type: 'iteration-crashed', iteration, error });
        settle();
      });
  }

  async #exit(): Promise<void> {
    try {
      await this.#options.watcher.close();
    } finally {
      this.#resolveDone();
    }
  }
}
