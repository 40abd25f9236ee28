/**
 * The live log: every build and watch also writes its `BuildEvent`s, as NDJSON, to
 * `<cacheDir>/live/<pid>.ndjson`, so another process on the machine (`sora-build review`) can follow a build
 * it did not start. A file per process (never shared, so no lock and no torn interleaving); each line is
 * `{"manifest": <absolute path>, "event": <BuildEvent>}`, because one process (watch, a test runner) may
 * build several manifests and a reader must tell them apart without keeping state per writer.
 *
 * Nothing is deleted on close: a reader may not have read the last lines yet. Files of processes that are
 * gone are removed by the next writer to open the folder and by the review server, after reading them.
 * Writing is best effort and synchronous (a line is on disk, in order, before the next event): a failure to
 * write the live log never fails a build; it only stops the live log.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { BuildEvent } from '../core/events.ts';
import type { Reporter } from './reporter.ts';

/** One line of a live log. */
export interface LiveLine {
  /** Absolute path of the manifest being built. */
  readonly manifest: string;
  readonly event: BuildEvent;
}

export function liveDir(cacheDir: string): string {
  return path.join(cacheDir, 'live');
}

/** The pid a live log file belongs to, or undefined for a name that is not `<pid>.ndjson`. */
export function livePid(fileName: string): number | undefined {
  const m = /^(\d+)\.ndjson$/.exec(fileName);
  return m === null ? undefined : Number(m[1]);
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the live logs of processes that no longer exist; returns how many. Never throws. */
export function pruneDeadLiveLogs(dir: string, alive: (pid: number) => boolean = isProcessAlive): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = livePid(name);
    if (pid === undefined || alive(pid)) continue;
    try {
      rmSync(path.join(dir, name), { force: true });
      removed++;
    } catch {
      // Another process removed it first, or the folder is read-only: nothing to do.
    }
  }
  return removed;
}

/** Live logs this process has started (truncated once, then appended to), and the ones open now. */
const started = new Set<string>();
const open = new Map<string, { fd: number | undefined; users: number }>();

/**
 * A reporter that appends each event to this process's live log. `close` releases it (the file is closed
 * when no build of the process uses it); the file stays for readers (see the module comment).
 */
export class LiveLogReporter implements Reporter {
  readonly #manifest: string;
  readonly #file: string;
  #open = true;

  private constructor(manifest: string, file: string) {
    this.#manifest = manifest;
    this.#file = file;
  }

  /**
   * Opens `<cacheDir>/live/<pid>.ndjson`; the first time in this process it is created or truncated (a pid
   * reused from a dead process starts from an empty file), and dead processes' logs are pruned.
   */
  static open(options: { cacheDir: string; manifest: string; pid: number }): LiveLogReporter {
    const file = path.join(liveDir(options.cacheDir), `${options.pid}.ndjson`);
    let entry = open.get(file);
    if (entry === undefined) {
      let fd: number | undefined;
      try {
        if (!started.has(file)) {
          mkdirSync(path.dirname(file), { recursive: true });
          pruneDeadLiveLogs(path.dirname(file));
        }
        fd = openSync(file, started.has(file) ? 'a' : 'w');
        started.add(file);
      } catch {
        fd = undefined;
      }
      entry = { fd, users: 0 };
      open.set(file, entry);
    }
    entry.users++;
    return new LiveLogReporter(options.manifest, file);
  }

  /** The live log carries events only. */
  note(): void {}

  handle(event: BuildEvent): void {
    const entry = this.#open ? open.get(this.#file) : undefined;
    if (entry?.fd === undefined) return;
    const line: LiveLine = { manifest: this.#manifest, event };
    try {
      writeSync(entry.fd, `${JSON.stringify(line)}\n`);
    } catch {
      closeQuietly(entry.fd);
      entry.fd = undefined;
    }
  }

  close(): Promise<void> {
    const entry = this.#open ? open.get(this.#file) : undefined;
    this.#open = false;
    if (entry !== undefined && --entry.users === 0) {
      if (entry.fd !== undefined) closeQuietly(entry.fd);
      open.delete(this.#file);
    }
    return Promise.resolve();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

/** One reporter that hands every event to each of `reporters`, in order. */
export function teeReporter(...reporters: readonly Reporter[]): Reporter {
  return {
    handle(event) {
      for (const r of reporters) r.handle(event);
    },
    // A note is for the person reading the first reporter; the others (the live log) carry events only.
    note(text) {
      reporters[0]?.note(text);
    },
    async close() {
      for (const r of reporters) await r.close();
    },
  };
}
