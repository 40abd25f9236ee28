/**
 * Serialises the lockfile writes of one engine. Each write waits for the one before it to settle, whatever
 * its outcome, so a failed write (a full disk) fails only the shots it was pinning and never poisons the
 * writes after it; each caller gets its own write's outcome.
 */
import type { ShotId } from '../core/brand.ts';
import type { LockEntry } from '../cache/types.ts';
import { writeLockfile } from '../cache/lockfile.ts';

export class LockWriter {
  #last: Promise<unknown> = Promise.resolve();

  /** Writes `entries` (a snapshot is taken now) to `path` after every earlier write has settled. */
  write(path: string, entries: ReadonlyMap<ShotId, LockEntry>): Promise<void> {
    const snapshot = new Map(entries);
    const next = this.#last.then(
      () => writeLockfile(path, { version: 1, shots: snapshot }),
      () => writeLockfile(path, { version: 1, shots: snapshot }),
    );
    this.#last = next.catch(() => undefined);
    return next.then(() => undefined);
  }

  /** Settles once every write started so far has. */
  async idle(): Promise<void> {
    await this.#last;
  }
}
