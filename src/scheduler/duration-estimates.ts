import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite } from '../cache/atomic-write.ts';

/**
 * Learned render durations per (model, size, seconds): an exponential moving average of create-to-completed
 * times, persisted at `<cacheDir>/durations.json`, feeding the poll policy's `estimateMs`.
 *
 * An EMA (new = old + alpha * (sample - old)) follows a service that gets faster or slower within a few
 * renders while one outlier moves it only by `alpha`. Concurrent processes: each write re-reads the file
 * and changes only its own entry, so two processes lose at most one sample of the same entry to a race;
 * that is acceptable for an estimate and avoids a lock.
 */
export interface DurationEstimatesOptions {
  /**
   * Weight of each new sample.
   * @default 0.3
   */
  readonly alpha?: number;
}

export interface RenderKind {
  /** The manifest's model name. */
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
}

interface Entry {
  /** The moving average, milliseconds. */
  readonly ms: number;
  /** Samples seen (capped in practice by nothing; informative only). */
  readonly samples: number;
}

interface DurationsFile {
  readonly version: 1;
  readonly estimates: Readonly<Record<string, Entry>>;
}

export class DurationEstimates {
  readonly path: string;
  readonly alpha: number;
  #estimates: Record<string, Entry>;

  private constructor(path: string, alpha: number, estimates: Record<string, Entry>) {
    this.path = path;
    this.alpha = alpha;
    this.#estimates = estimates;
  }

  /** Loads `<cacheDir>/durations.json` (sync; a missing or unreadable file means nothing learned yet). */
  static open(cacheDir: string, options: DurationEstimatesOptions = {}): DurationEstimates {
    const alpha = options.alpha ?? 0.3;
    if (!(alpha > 0 && alpha <= 1))
      throw new TypeError(`Expected \`alpha\` to be in (0, 1], got ${String(alpha)}`);
    const path = join(cacheDir, 'durations.json');
    return new DurationEstimates(path, alpha, readEstimates(path));
  }

  /** The learned create-to-completed time in ms, or null when this kind was never rendered here. */
  estimate(kind: RenderKind): number | null {
    return this.#estimates[keyOf(kind)]?.ms ?? null;
  }

  /** Folds one observed duration into the average and persists it. */
  async record(kind: RenderKind, durationMs: number): Promise<number> {
    if (!(durationMs > 0) || !Number.isFinite(durationMs)) {
      throw new TypeError(
        `Expected \`durationMs\` to be a positive finite number, got ${String(durationMs)}`,
      );
    }
    const key = keyOf(kind);
    const onDisk = readEstimates(this.path);
    const previous = onDisk[key] ?? this.#estimates[key];
    const ms = previous === undefined ? durationMs : previous.ms + this.alpha * (durationMs - previous.ms);
    const entry: Entry = { ms: Math.round(ms), samples: (previous?.samples ?? 0) + 1 };
    this.#estimates = { ...onDisk, [key]: entry };
    const file: DurationsFile = { version: 1, estimates: sortKeys(this.#estimates) };
    await atomicWrite(this.path, `${JSON.stringify(file, null, 2)}\n`);
    return entry.ms;
  }
}

function keyOf(kind: RenderKind): string {
  return `${kind.model} ${kind.size} ${kind.seconds}`;
}

function sortKeys(record: Record<string, Entry>): Record<string, Entry> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function readEstimates(path: string): Record<string, Entry> {
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as Partial<DurationsFile>;
    if (file.version !== 1 || typeof file.estimates !== 'object' || file.estimates === null) return {};
    const out: Record<string, Entry> = {};
    for (const [key, entry] of Object.entries(file.estimates)) {
      if (entry && entry.ms > 0 && Number.isFinite(entry.ms) && Number.isInteger(entry.samples))
        out[key] = entry;
    }
    return out;
  } catch {
    return {};
  }
}
