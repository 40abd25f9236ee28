/**
 * The watch session's file watcher on chokidar. It watches the *folders* of the wanted files (one level deep)
 * and filters events down to the wanted files, because:
 * - a file that does not exist yet (a `sora.config.yaml` not written yet, a reference image the manifest
 *   names before it is saved) must be noticed when it appears;
 * - editors that save by writing a temp file and renaming it over the original replace the inode, which a
 *   watch on the file itself can lose;
 * - everything else in those folders (out/, .sora-build/, other files) is ignored before chokidar stats it.
 */
import path from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import type { FileWatcher } from './watch-session.ts';

export class ChokidarWatcher implements FileWatcher {
  #files = new Set<string>();
  #dirs = new Set<string>();
  readonly #watcher: FSWatcher;
  #listener: ((path: string) => void) | undefined;

  constructor() {
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
      if (this.#files.has(abs)) this.#listener?.(abs);
    });
    // A watcher error (e.g. a folder removed) must not crash the session; the next setPaths re-adds.
    this.#watcher.on('error', () => {});
  }

  setPaths(paths: readonly string[]): Promise<void> {
    const files = new Set(paths.map((p) => path.resolve(p)));
    const dirs = new Set([...files].map((f) => path.dirname(f)));
    const added = [...dirs].filter((d) => !this.#dirs.has(d));
    const removed = [...this.#dirs].filter((d) => !dirs.has(d));
    this.#files = files;
    this.#dirs = dirs;
    if (removed.length > 0) this.#watcher.unwatch(removed);
    if (added.length === 0) return Promise.resolve();
    this.#watcher.add(added);
    return this.#whenWatching(added);
  }

  onChange(listener: (path: string) => void): void {
    this.#listener = listener;
  }

  close(): Promise<void> {
    return this.#watcher.close();
  }

  /** Resolves once chokidar has set up the new folders (it adds them asynchronously), or after 2 s. */
  async #whenWatching(dirs: readonly string[]): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const watched = this.#watcher.getWatched();
      if (dirs.every((d) => Object.hasOwn(watched, d))) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
