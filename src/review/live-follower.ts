/**
 * Follows the live logs (`<cacheDir>/live/<pid>.ndjson`, written by every build and watch: see
 * src/reporter/live-log.ts) of every sora-build process on the project, and folds their events for one
 * manifest into the phase of each shot being worked on. The folder is watched (fs.watch), not polled; a
 * check every few seconds only notices processes that died without finishing (kill -9), whose shots are
 * then no longer shown as in progress and whose logs are removed.
 */
import { watch, mkdirSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import type { BuildEvent } from '../core/events.ts';
import type { LiveLine } from '../reporter/live-log.ts';
import { isProcessAlive, liveDir, livePid } from '../reporter/live-log.ts';

/** What a build is doing with a shot right now. */
export type LivePhase = 'waiting' | 'submitting' | 'queued' | 'rendering' | 'downloading';

export interface LiveShot {
  readonly phase: LivePhase;
  /** 0-100 while rendering, when the API gives a figure. */
  readonly progress: number | null;
}

export interface LiveSnapshot {
  /** Whether a build of this manifest is running in some process. */
  readonly building: boolean;
  readonly shots: Readonly<Record<string, LiveShot>>;
}

export interface LiveFollowerOptions {
  readonly cacheDir: string;
  /** Absolute path of the manifest whose builds are followed. */
  readonly manifest: string;
  /** Called after events changed the snapshot (throttled by the caller if needed). */
  readonly onChange: (snapshot: LiveSnapshot) => void;
  /** Called when a shot reached a final state (built, cached, failed, blocked) or a build ended. */
  readonly onSettled: () => void;
  /** @default isProcessAlive */
  readonly alive?: (pid: number) => boolean;
  /** How often processes are checked for having died. @default 2000 */
  readonly deadCheckMs?: number;
}

interface Followed {
  offset: number;
  partial: string;
  building: boolean;
  readonly shots: Map<string, LiveShot>;
}

export class LiveFollower {
  readonly #options: LiveFollowerOptions;
  readonly #dir: string;
  readonly #files = new Map<string, Followed>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LiveFollowerOptions) {
    this.#options = options;
    this.#dir = liveDir(options.cacheDir);
  }

  start(): void {
    mkdirSync(this.#dir, { recursive: true });
    this.#watcher = watch(this.#dir, (_type, name) => {
      if (typeof name === 'string' && livePid(name) !== undefined) this.#read(name);
    });
    this.#watcher.on('error', () => undefined);
    for (const name of readdirSync(this.#dir)) if (livePid(name) !== undefined) this.#read(name);
    this.#timer = setInterval(() => this.#checkDead(), this.#options.deadCheckMs ?? 2000);
    this.#timer.unref();
    this.#checkDead();
  }

  close(): void {
    this.#watcher?.close();
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  snapshot(): LiveSnapshot {
    const shots: Record<string, LiveShot> = {};
    let building = false;
    for (const f of this.#files.values()) {
      building ||= f.building;
      for (const [id, s] of f.shots) shots[id] = s;
    }
    return { building, shots };
  }

  #read(name: string): void {
    const file = path.join(this.#dir, name);
    let followed = this.#files.get(name);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      this.#forget(name);
      return;
    }
    if (followed === undefined || size < followed.offset) {
      // New, or truncated by a new process that reused the pid: read from the start.
      followed = { offset: 0, partial: '', building: false, shots: new Map() };
      this.#files.set(name, followed);
    }
    if (size === followed.offset) return;
    const buffer = Buffer.alloc(size - followed.offset);
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const n = readSync(fd, buffer, 0, buffer.length, followed.offset);
      followed.offset += n;
      followed.partial += buffer.subarray(0, n).toString('utf8');
    } catch {
      return;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const lines = followed.partial.split('\n');
    followed.partial = lines.pop() ?? '';
    let changed = false;
    let settled = false;
    for (const text of lines) {
      let line: LiveLine;
      try {
        line = JSON.parse(text) as LiveLine;
      } catch {
        continue;
      }
      if (line.manifest !== this.#options.manifest) continue;
      const r = fold(followed, line.event);
      changed ||= r.changed;
      settled ||= r.settled;
    }
    if (changed) this.#options.onChange(this.snapshot());
    if (settled) this.#options.onSettled();
  }

  #forget(name: string): void {
    const f = this.#files.get(name);
    this.#files.delete(name);
    if (f !== undefined && (f.building || f.shots.size > 0)) {
      this.#options.onChange(this.snapshot());
      this.#options.onSettled();
    }
  }

  /** Reads what a dead process left, drops it from the snapshot and removes its log. */
  #checkDead(): void {
    const alive = this.#options.alive ?? isProcessAlive;
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = livePid(name);
      if (pid === undefined || alive(pid)) continue;
      this.#read(name);
      try {
        rmSync(path.join(this.#dir, name), { force: true });
      } catch {
        // Removed by someone else.
      }
      this.#forget(name);
    }
  }
}

/** Applies one event to a process's state; says whether the snapshot changed and whether a shot settled. */
function fold(f: Followed, event: BuildEvent): { changed: boolean; settled: boolean } {
  const set = (
    shot: string,
    phase: LivePhase,
    progress: number | null = null,
  ): { changed: boolean; settled: boolean } => {
    f.shots.set(shot, { phase, progress });
    return { changed: true, settled: false };
  };
  switch (event.type) {
    case 'build-started':
      f.building = true;
      f.shots.clear();
      return { changed: true, settled: false };
    case 'shot-planned':
      return event.state === 'fresh' || event.state === 'cached'
        ? { changed: false, settled: false }
        : set(event.shot, 'waiting');
    case 'quota-wait':
      return set(event.shot, 'waiting');
    case 'create-sent':
      return set(event.shot, 'submitting');
    case 'job-submitted':
      return set(event.shot, 'queued');
    case 'resumed':
      return set(event.shot, 'rendering');
    case 'job-progress':
      return event.status === 'queued'
        ? set(event.shot, 'queued')
        : set(event.shot, 'rendering', event.progress);
    case 'job-completed':
    case 'download-started':
    case 'download-finished':
    case 'asset-derived':
      return set(event.shot, 'downloading');
    case 'shot-built':
    case 'shot-cached':
    case 'shot-failed':
    case 'shot-blocked':
      f.shots.delete(event.shot);
      return { changed: true, settled: true };
    case 'interrupted':
    case 'build-finished':
      f.building = false;
      f.shots.clear();
      return { changed: true, settled: true };
    case 'reconciled':
    case 'retry':
    case 'diagnostic':
      return { changed: false, settled: false };
  }
}
