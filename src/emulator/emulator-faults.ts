/**
 * Faults the emulator injects on demand, set at start (`startEmulator({faults})`) or at run time
 * (`handle.setFaults`, `POST /__emulator/faults`). Every rate is a probability in [0, 1] drawn from the
 * emulator's seeded generator, so a fixed `seed` gives the same faults on the same request sequence.
 */
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';

/**
 * Answer the Videos API like an OpenAI-compatible gateway in front of another model (gateway-shape.ts):
 * `litellm` (ids `video_<base64>`, status `processing`, no progress), `new-api` (ids `task_<32>`, status
 * `unknown` before a job is handed upstream), `upper-case` (a one-api fork's task states: `NOT_START`,
 * `IN_PROGRESS`, `SUCCESS`, `FAILURE`, progress `"40%"`). In each, remix is refused, a moderated job reports
 * `completed` and only its content request fails, and there is no extensions route. `off` is the service.
 */
export type GatewayShape = 'off' | 'litellm' | 'new-api' | 'upper-case';
export const GATEWAY_SHAPES: readonly GatewayShape[] = ['off', 'litellm', 'new-api', 'upper-case'];

export interface EmulatorFaults {
  /** Share of accepted jobs that fail while rendering (`error.code` `internal_error`). @default 0 */
  readonly jobFailureRate: number;
  /**
   * Words (case-insensitive substrings) that make a job fail at the end of its queue time with
   * `error.code` `moderation_blocked`, as the service does for prompts its moderation refuses. @default []
   */
  readonly moderationWords: readonly string[];
  /**
   * Words that are refused synchronously instead: the create answers 400 `moderation_blocked` and no job is
   * made (the service does either, depending on which check catches the prompt). @default []
   */
  readonly moderationRejectWords: readonly string[];
  /** Share of API requests answered 500 `server_error` without being processed. @default 0 */
  readonly serverErrorRate: number;
  /** Share of API requests whose connection is destroyed before anything is processed or answered. @default 0 */
  readonly dropConnectionRate: number;
  /** Share of content downloads that promise the full Content-Length and then cut the body off. @default 0 */
  readonly truncateDownloadRate: number;
  /**
   * Share of create, remix and extend requests that ARE processed (the job exists and counts against the
   * quota) but whose response connection is destroyed: the "did my create go through?" case. @default 0
   */
  readonly lostCreateResponseRate: number;
  /** Delay before every API response, in emulator-clock milliseconds. @default 0 */
  readonly latencyMs: number;
  /**
   * When larger than a video's real size, the served MP4 is padded to exactly this many bytes with a
   * trailing `free` box (still a valid MP4), for download benchmarks. 0 turns it off. @default 0
   */
  readonly largeVideoBytes: number;
  /** Answer like a gateway (see GatewayShape). @default 'off' */
  readonly gateway: GatewayShape;
}

export const NO_FAULTS: EmulatorFaults = {
  jobFailureRate: 0,
  moderationWords: [],
  moderationRejectWords: [],
  serverErrorRate: 0,
  dropConnectionRate: 0,
  truncateDownloadRate: 0,
  lostCreateResponseRate: 0,
  latencyMs: 0,
  largeVideoBytes: 0,
  gateway: 'off',
};

const RATES = [
  'jobFailureRate',
  'serverErrorRate',
  'dropConnectionRate',
  'truncateDownloadRate',
  'lostCreateResponseRate',
] as const;
const WORD_LISTS = ['moderationWords', 'moderationRejectWords'] as const;
const COUNTS = ['latencyMs', 'largeVideoBytes'] as const;

/**
 * Checks a partial fault set (from code or from JSON) and merges it over `base`. Reports every problem at
 * once, each saying what was expected and what was found.
 */
export function mergeFaults(base: EmulatorFaults, partial: unknown): Result<EmulatorFaults, string[]> {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    return fail([`Expected the faults to be an object, but got ${JSON.stringify(partial)}.`]);
  }
  const problems: string[] = [];
  const out: Record<string, unknown> = { ...base };
  const known = new Set<string>([...RATES, ...WORD_LISTS, ...COUNTS, 'gateway']);
  for (const [key, value] of Object.entries(partial)) {
    if (!known.has(key)) {
      problems.push(`Unknown fault '${key}'; expected one of ${[...known].join(', ')}.`);
      continue;
    }
    if (value === undefined) continue;
    if (key === 'gateway') {
      if (typeof value !== 'string' || !(GATEWAY_SHAPES as readonly string[]).includes(value)) {
        problems.push(
          `Expected 'gateway' to be one of ${GATEWAY_SHAPES.join(', ')}, but got ${JSON.stringify(value)}.`,
        );
      } else out[key] = value;
    } else if ((RATES as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        problems.push(`Expected '${key}' to be a number from 0 to 1, but got ${JSON.stringify(value)}.`);
      } else out[key] = value;
    } else if ((WORD_LISTS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || !value.every((w) => typeof w === 'string' && w.length > 0)) {
        problems.push(
          `Expected '${key}' to be an array of non-empty strings, but got ${JSON.stringify(value)}.`,
        );
      } else out[key] = [...(value as string[])];
    } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      problems.push(`Expected '${key}' to be a non-negative integer, but got ${JSON.stringify(value)}.`);
    } else out[key] = value;
  }
  return problems.length > 0 ? fail(problems) : ok(out as unknown as EmulatorFaults);
}

/** The first configured word the prompt contains (case-insensitive), if any. */
export function findWord(prompt: string, words: readonly string[]): string | undefined {
  const lower = prompt.toLowerCase();
  return words.find((w) => lower.includes(w.toLowerCase()));
}
