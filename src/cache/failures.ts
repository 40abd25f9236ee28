/**
 * The last failure per shot key, under `<cacheDir>/failures/<first 2 hex of key>/<key>.json`.
 *
 * Failures are never cached as results (design.md section 4: a rerun tries again), but `sora-build status`
 * must be able to say *why* a shot is not fresh after the process that tried it has exited, and watch must
 * not resubmit a rejected prompt. So the build records each failed key here; a later success of the same key
 * makes the record moot (readers compare with the lockfile) and `clear` removes it.
 *
 * One small JSON file per key, written atomically (temp file, rename), so concurrent processes never see a
 * torn record and the folder can be deleted at any time.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ShotId, ShotKey, VideoId } from '../core/brand.ts';

export interface FailureRecord {
  readonly key: ShotKey;
  /** The shot that asked for the key when it failed (a key can be shared, the id is for display). */
  readonly shot: ShotId;
  /** The failure's reason, e.g. `moderation-blocked`, `generation-failed`, `download-failed`. */
  readonly reason: string;
  /** One line for the user; never contains secrets (the engine's messages are redacted). */
  readonly message: string;
  /** Unix ms, from the build's clock. */
  readonly at: number;
  /** The remote job that failed, when there was one. */
  readonly videoId: VideoId | null;
}

interface FailureFile extends FailureRecord {
  readonly version: 1;
}

export class Failures {
  readonly #dir: string;

  private constructor(cacheDir: string) {
    this.#dir = path.join(cacheDir, 'failures');
  }

  static open(cacheDir: string): Failures {
    return new Failures(cacheDir);
  }

  #path(key: ShotKey): string {
    return path.join(this.#dir, key.slice(0, 2), `${key}.json`);
  }

  /** Replaces the key's record. */
  async record(failure: FailureRecord): Promise<void> {
    const file = this.#path(failure.key);
    await mkdir(path.dirname(file), { recursive: true });
    const body: FailureFile = {
      version: 1,
      key: failure.key,
      shot: failure.shot,
      reason: failure.reason,
      message: failure.message,
      at: failure.at,
      videoId: failure.videoId,
    };
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
    await rename(tmp, file);
  }

  /** The key's last failure, or undefined (also for an unreadable record: it is advisory). */
  last(key: ShotKey): FailureRecord | undefined {
    try {
      return parse(readFileSync(this.#path(key), 'utf8'));
    } catch {
      return undefined;
    }
  }

  async lastAsync(key: ShotKey): Promise<FailureRecord | undefined> {
    try {
      return parse(await readFile(this.#path(key), 'utf8'));
    } catch {
      return undefined;
    }
  }

  async clear(key: ShotKey): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

function parse(text: string): FailureRecord | undefined {
  const f = JSON.parse(text) as Partial<FailureFile>;
  if (
    f.version !== 1 ||
    typeof f.key !== 'string' ||
    typeof f.shot !== 'string' ||
    typeof f.reason !== 'string' ||
    typeof f.message !== 'string' ||
    typeof f.at !== 'number'
  )
    return undefined;
  return {
    key: f.key,
    shot: f.shot,
    reason: f.reason,
    message: f.message,
    at: f.at,
    videoId: typeof f.videoId === 'string' ? f.videoId : null,
  };
}
