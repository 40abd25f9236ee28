/**
 * The emulator's jobs on disk. The embedded emulator lives only as long as one command, but a real service
 * keeps a video for 24 hours: after a build, `videos list` must show its videos, `videos download` must find
 * a pinned one, and a thumbnail asked for later must still be downloadable. With a state folder each job is
 * written there as one JSON file (to a temp name, then renamed, before the response that names it is sent),
 * with the reference image it was made from stored once by its digest. A later emulator on the same folder
 * (the next command, or a second process) knows those jobs until they expire, and renders their assets again
 * on demand: a render is a pure function of the job, so only the job is kept.
 *
 * Layout under the folder: `jobs/<id>.json` (`{version: 1, job}`) and `images/<sha256>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VideoJob } from './job-store.ts';
import { EXPIRY_MS } from './job-store.ts';

const VERSION = 1;
/** The ids the APIs make: `video_…`, `task_…`, and UUIDs (Vertex operations, Runway tasks, fal requests). */
const ID = /^((video|task)_[0-9a-z]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const DIGEST = /^[0-9a-f]{64}$/;

export class JobArchive {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Every job still within 24 h of its creation at `now`; older files are deleted on the way. */
  async load(now: number): Promise<VideoJob[]> {
    const dir = join(this.#dir, 'jobs');
    await mkdir(dir, { recursive: true });
    await mkdir(join(this.#dir, 'images'), { recursive: true });
    const jobs: VideoJob[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      const job = parseJob(await readFile(join(dir, name), 'utf8').catch(() => ''));
      if (job === undefined) continue;
      if (now >= job.createdAt + EXPIRY_MS) await rm(join(dir, name), { force: true });
      else jobs.push(job);
    }
    return jobs;
  }

  /**
   * A job another process wrote after this one loaded, or undefined. Synchronous because lookups are (a small
   * file, read only when an id is not already known).
   */
  read(id: string): VideoJob | undefined {
    if (!ID.test(id)) return undefined;
    try {
      return parseJob(readFileSync(join(this.#dir, 'jobs', `${id}.json`), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** The ids on disk now (for a list, which must show jobs other processes made). */
  ids(): string[] {
    try {
      return readdirSync(join(this.#dir, 'jobs'))
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }

  async save(job: VideoJob): Promise<void> {
    await this.#write(join('jobs', `${job.id}.json`), JSON.stringify({ version: VERSION, job }));
  }

  async remove(id: string): Promise<void> {
    if (ID.test(id)) await rm(join(this.#dir, 'jobs', `${id}.json`), { force: true });
  }

  /** Keeps an image by its digest (once); returns the digest. */
  async saveImage(bytes: Buffer): Promise<string> {
    const digest = createHash('sha256').update(bytes).digest('hex');
    await this.#write(join('images', digest), bytes);
    return digest;
  }

  /** The path of a kept image, or undefined for a malformed digest. */
  imagePath(digest: string): string | undefined {
    return DIGEST.test(digest) ? join(this.#dir, 'images', digest) : undefined;
  }

  /** Writes to a temp name and renames: a reader never sees half a file, even if this process dies. */
  async #write(relative: string, data: string | Buffer): Promise<void> {
    const path = join(this.#dir, relative);
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
}

function parseJob(text: string): VideoJob | undefined {
  try {
    const parsed = JSON.parse(text) as { version?: unknown; job?: VideoJob };
    // Another version's file is left alone, not misread.
    if (parsed.version !== VERSION || typeof parsed.job?.id !== 'string') return undefined;
    return parsed.job;
  } catch {
    return undefined;
  }
}
