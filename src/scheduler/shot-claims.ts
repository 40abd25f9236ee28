/**
 * Single-flight per shot key across processes (design.md section 4, "Claims"). Before a process creates, or
 * resumes, the job of a key it claims the key; a process that finds the key claimed by a live owner waits
 * for that owner's result (through the action cache) instead of creating.
 *
 * `ShotClaims` is the interface; `FileShotClaims` implements it for one machine with files under
 * `<cacheDir>/claims/`. A shared backend (a blob store with conditional writes: create-if-absent, replace-
 * if-unchanged) implements the same three steps across machines: create exclusively, refresh while alive,
 * take over only what is provably dead or stale.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ShotKey } from '../core/brand.ts';
import { afterDurableWrite, beforeDurableWrite } from '../core/test-faults.ts';

/** Who holds a claim. */
export interface ClaimOwner {
  readonly pid: number;
  readonly host: string;
}

/** A held claim; `release` gives it back (idempotent) and stops its refreshes. */
export interface ShotClaim {
  readonly key: ShotKey;
  release(): Promise<void>;
}

export interface ShotClaims {
  /**
   * Takes the claim on `key` when nobody holds it or its holder is dead (or, on another host, has not
   * refreshed it within the stale time). Returns null while a live owner holds it: never waits.
   */
  tryAcquire(key: ShotKey): Promise<ShotClaim | null>;
  /** The current holder of `key`'s claim, if any (for messages). */
  owner(key: ShotKey): Promise<ClaimOwner | null>;
}

export interface FileShotClaimsOptions {
  /** Absolute cache folder (`config.cacheDir`). */
  readonly cacheDir: string;
  /**
   * Real milliseconds between refreshes of a held claim (its file's mtime).
   * @default 5_000
   */
  readonly refreshMs?: number;
  /**
   * Real milliseconds without a refresh after which another host's claim (whose pid cannot be checked) is
   * stale. A claim of this host is judged by whether its pid is alive.
   * @default 60_000
   */
  readonly staleMs?: number;
}

interface ClaimFile extends ClaimOwner {
  readonly nonce: string;
}

const HOST = hostname();
/** Nonces of the claims this process holds: a claim naming our own pid but none of these is a dead run's. */
const heldHere = new Set<string>();

export class FileShotClaims implements ShotClaims {
  readonly dir: string;
  readonly #refreshMs: number;
  readonly #staleMs: number;

  constructor(options: FileShotClaimsOptions) {
    if (typeof options.cacheDir !== 'string' || options.cacheDir === '') {
      throw new TypeError(
        `Expected \`cacheDir\` to be a non-empty path, got ${JSON.stringify(options.cacheDir)}`,
      );
    }
    this.dir = join(options.cacheDir, 'claims');
    this.#refreshMs = options.refreshMs ?? 5_000;
    this.#staleMs = options.staleMs ?? 60_000;
  }

  #path(key: ShotKey): string {
    return join(this.dir, `${key}.json`);
  }

  async tryAcquire(key: ShotKey): Promise<ShotClaim | null> {
    const path = this.#path(key);
    await mkdir(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      const mine: ClaimFile = { pid: process.pid, host: HOST, nonce: randomBytes(8).toString('hex') };
      try {
        // The claim is written whole to a temp file, then linked into place: link(2) fails with EEXIST when
        // the name is taken, so exactly one process creates it, and a kill can never leave a claim file
        // half-written (an empty claim would be judged only by its age, stalling the next build).
        const ordinal = beforeDurableWrite('claim', path); // test-only fault hook; free when unset
        const temp = `${path}.${mine.nonce}.tmp`;
        try {
          await writeFile(temp, JSON.stringify(mine), { mode: 0o644 });
          await link(temp, path);
        } finally {
          await unlink(temp).catch(() => undefined);
        }
        afterDurableWrite(ordinal);
        return this.#held(key, path, mine.nonce);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readClaim(path);
      if (current === 'gone') continue;
      if (!(await this.#isStale(path, current))) return null;
      // Take over: move the stale file aside under a unique name (only one taker's rename succeeds), and
      // check it is the one judged stale; if a live owner replaced it meanwhile, it is not ours to remove.
      const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
      try {
        await rename(path, aside);
      } catch {
        continue;
      }
      const moved = await readClaim(aside);
      if (
        current !== 'unreadable' &&
        moved !== 'unreadable' &&
        moved !== 'gone' &&
        moved.nonce !== current.nonce
      ) {
        // Someone else's fresh claim: put it back unless the place was taken again.
        await rename(aside, path).catch(() => unlink(aside).catch(() => undefined));
        return null;
      }
      await unlink(aside).catch(() => undefined);
    }
    return null;
  }

  async owner(key: ShotKey): Promise<ClaimOwner | null> {
    const current = await readClaim(this.#path(key));
    return current === 'gone' || current === 'unreadable' ? null : { pid: current.pid, host: current.host };
  }

  async #isStale(path: string, claim: ClaimFile | 'unreadable'): Promise<boolean> {
    if (claim !== 'unreadable' && claim.host === HOST) {
      // Our own pid: a run that died and whose pid came back to us (containers reuse pids).
      if (claim.pid === process.pid) return !heldHere.has(claim.nonce);
      if (!isAlive(claim.pid)) return true;
    }
    // Claims are linked into place whole, so an unreadable one is debris (an older sora-build killed while
    // writing it, a damaged disk), never a live owner's: take it over at once.
    if (claim === 'unreadable') return true;
    // Another host, or a pid now used by an unrelated process: judged by the last refresh (a live owner
    // refreshes every `refreshMs`).
    const info = await stat(path).catch(() => undefined);
    return info === undefined || Date.now() - info.mtimeMs > this.#staleMs;
  }

  #held(key: ShotKey, path: string, nonce: string): ShotClaim {
    heldHere.add(nonce);
    const refresh = setInterval(() => {
      const now = new Date();
      void utimes(path, now, now).catch(() => undefined);
    }, this.#refreshMs);
    refresh.unref();
    let released: Promise<void> | undefined;
    return {
      key,
      release: () => {
        released ??= (async () => {
          clearInterval(refresh);
          heldHere.delete(nonce);
          const current = await readClaim(path);
          if (current !== 'gone' && current !== 'unreadable' && current.nonce === nonce) {
            await unlink(path).catch(() => undefined);
          }
        })();
        return released;
      },
    };
  }
}

async function readClaim(path: string): Promise<ClaimFile | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const v = JSON.parse(text) as Partial<ClaimFile>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string') {
      return { pid: v.pid, host: v.host, nonce: v.nonce };
    }
  } catch {
    // half-written: fall through
  }
  return 'unreadable';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
