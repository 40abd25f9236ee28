/**
 * The watch session's file watcher on chokidar. It watches the *folders* of the wanted files (one level deep)
 * and filters events down to the wanted files, because:
 * - a file that does not exist yet (a `sora.config.yaml` not written yet, a reference image the manifest
 *   names before it is saved) must be noticed when it appears;
 * - editors that save by writing a temp file and renaming it over the original replace the inode, which a
 *   watch on the file itself can lose;
 * - everything else in those folders (out/, .sora-build/, other files) is ignored before chokidar stats it.
 *
 * Every report goes through one check: the file's (mtime, size) — or its absence — differs from the last one
 * reported. A light poll of the few watched files (every `pollMs`) runs the same check, because native file
 * events can be lost or coalesced under load (a save must never be missed: the storyboard would silently
 * stop rebuilding), and the check keeps the poll and the events from reporting one save twice.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import type { FileWatcher } from './watch-session.ts';

export interface ChokidarWatcherOptions {
  /**
   * How often the watched files are also checked directly, in ms; 0 turns the poll off.
   * @default 1000
   */
  readonly pollMs?: number;
  /**
   * How long a file's (mtime, size) must hold still before a change is reported, in ms.
   * @default 30
   */
  readonly settleMs?: number;
}

export class ChokidarWatcher implements FileWatcher {
  #files = new Set<string>();
  #dirs = new Set<string>();
  readonly #watcher: FSWatcher;
  #listener: ((path: string) => void) | undefined;
  /** Last reported (mtime, size) per file, `missing` when absent. */
  readonly #known = new Map<string, string>();
  readonly #poll: NodeJS.Timeout | undefined;
  readonly #settleMs: number;
  readonly #checking = new Map<string, Promise<void>>();
  readonly #recheck = new Set<string>();

  constructor(options: ChokidarWatcherOptions = {}) {
    const pollMs = options.pollMs ?? 1000;
    this.#settleMs = options.settleMs ?? 30;
    this.#watcher = watch([], {
      ignoreInitial: true,
      depth: 0,
      persistent: true,
      // Only the wanted files and their folders; the sets change as the manifest changes.
      ignored: (p: string) => {
        const abs = path.resolve(p);
        return !this.#files.has(abs) && !this.#dirs.has(abs);
      },
    });
    this.#watcher.on('all', (event, p) => {
      if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
      const abs = path.resolve(p);
      if (this.#files.has(abs)) void this.#check(abs);
    });
    // A watcher error (e.g. a folder removed) must not crash the session; the next setPaths re-adds.
    this.#watcher.on('error', () => {});
    if (pollMs > 0) {
      this.#poll = setInterval(() => {
        for (const f of this.#files) void this.#check(f);
      }, pollMs);
      this.#poll.unref();
    }
  }

  /**
   * Reports `file` if it differs from what was last reported (or seen when it started being watched), once
   * its (mtime, size) has held still for `settleMs`: an event can arrive between an editor's truncate and its
   * write, and reporting then would build from half a file and report the rest as a second save.
   * One check per file at a time; a request during a check makes it run once more.
   */
  #check(file: string): Promise<void> {
    const running = this.#checking.get(file);
    if (running !== undefined) {
      this.#recheck.add(file);
      return running;
    }
    const run = (async () => {
      do {
        this.#recheck.delete(file);
        let sig = await signature(file);
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, this.#settleMs));
          const again = await signature(file);
          if (again === sig) break;
          sig = again;
        }
        if (this.#files.has(file) && this.#known.get(file) !== sig) {
          this.#known.set(file, sig);
          this.#listener?.(file);
        }
      } while (this.#recheck.has(file));
    })().finally(() => this.#checking.delete(file));
    this.#checking.set(file, run);
    return run;
  }

  setPaths(paths: readonly string[]): Promise<void> {
    const files = new Set(paths.map((p) => path.resolve(p)));
    const dirs = new Set([...files].map((f) => path.dirname(f)));
    const added = [...dirs].filter((d) => !this.#dirs.has(d));
    const removed = [...this.#dirs].filter((d) => !dirs.has(d));
    this.#files = files;
    this.#dirs = dirs;
    for (const f of [...this.#known.keys()]) if (!files.has(f)) this.#known.delete(f);
    const baseline = Promise.all(
      [...files]
        .filter((f) => !this.#known.has(f))
        .map(async (f) => {
          this.#known.set(f, await signature(f));
        }),
    );
    if (removed.length > 0) this.#watcher.unwatch(removed);
    if (added.length > 0) this.#watcher.add(added);
    return Promise.all([baseline, this.#whenWatching(added)]).then(() => undefined);
  }

  onChange(listener: (path: string) => void): void {
    this.#listener = listener;
  }

  close(): Promise<void> {
    clearInterval(this.#poll);
    return this.#watcher.close();
  }

  /** Resolves once chokidar has set up the new folders (it adds them asynchronously), or after 2 s. */
  async #whenWatching(dirs: readonly string[]): Promise<void> {
    if (dirs.length === 0) return;
    for (let i = 0; i < 200; i++) {
      const watched = this.#watcher.getWatched();
      if (dirs.every((d) => Object.hasOwn(watched, d))) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function signature(file: string): Promise<string> {
  try {
    const st = await stat(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}
