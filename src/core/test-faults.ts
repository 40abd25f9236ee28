/**
 * TEST-ONLY fault switch for the durable-write primitives. Never set it outside tests: it kills the process
 * or makes disk writes fail on purpose.
 *
 * The command line reads ONE environment variable, `SORA_BUILD_TEST_FAULTS`, once at start (cli/main.ts) and
 * hands its parsed value to `installTestFaults`; nothing else reads it. Every durable write of the process
 * (atomic writes, journal appends, store ingests, out/ placements; the action cache, the lockfile and the
 * quota ledger are atomic writes of their own kind) calls `beforeDurableWrite` as it starts and
 * `afterDurableWrite` once its data is on disk. When the variable is unset both are a single comparison
 * against `undefined`, so production pays nothing.
 *
 * Grammar: a comma-separated list of
 *   crash-at-write:N        SIGKILL as the N-th durable write (counted from 1, over all kinds) starts: the
 *                           side effects before it happened, the write did not
 *   crash-after-write:N     SIGKILL as soon as the N-th durable write is on disk, before anything else
 *   enospc:KIND[:COUNT]     writes of KIND fail with ENOSPC (the first COUNT of them; every one by default)
 *   eio:KIND[:COUNT]        the same with EIO
 *   eacces:KIND[:COUNT]     the same with EACCES (what an unwritable folder gives, which root never sees)
 * KIND is one of DURABLE_WRITE_KINDS. Example: `SORA_BUILD_TEST_FAULTS=crash-at-write:7`,
 * `SORA_BUILD_TEST_FAULTS=enospc:journal:1,eio:lockfile`.
 */
import type { Result } from './result.ts';
import { fail, ok } from './result.ts';

export const DURABLE_WRITE_KINDS = [
  /** Journal appends and compactions (scheduler/journal.ts). */
  'journal',
  /** Verified downloads moved into the content-addressed store (Store.ingest). */
  'store',
  /** A video placed under out/ (Store.materialise). */
  'out',
  /** Samples recorded per shot key (cache/action-cache.ts). */
  'action-cache',
  /** The committed lockfile (cache/lockfile.ts). */
  'lockfile',
  /** The shared per-minute create ledger (scheduler/create-ledger.ts). */
  'ledger',
  /** Single-flight claims per shot key. */
  'claim',
  /** Every other atomic write (memos, estimates, prepared reference images). */
  'other',
] as const;

export type DurableWriteKind = (typeof DURABLE_WRITE_KINDS)[number];

export type InjectedErrorCode = 'ENOSPC' | 'EIO' | 'EACCES';

const ERRORS: Readonly<Record<InjectedErrorCode, { errno: number; message: string }>> = {
  ENOSPC: { errno: -28, message: 'no space left on device' },
  EIO: { errno: -5, message: 'i/o error' },
  EACCES: { errno: -13, message: 'permission denied' },
};

export interface TestFaultPlan {
  /** Kill as the N-th durable write starts. */
  readonly crashAtWrite: number | null;
  /** Kill as soon as the N-th durable write has finished. */
  readonly crashAfterWrite: number | null;
  /** Errors per kind; `count` null fails every write of that kind. */
  readonly errors: readonly {
    readonly kind: DurableWriteKind;
    readonly code: InjectedErrorCode;
    readonly count: number | null;
  }[];
}

const positive = (s: string | undefined): number | null =>
  s !== undefined && /^[1-9][0-9]*$/.test(s) ? Number(s) : null;

/** Parses the variable's value; every problem is reported at once. */
export function parseTestFaults(spec: string): Result<TestFaultPlan, string[]> {
  const problems: string[] = [];
  let crashAtWrite: number | null = null;
  let crashAfterWrite: number | null = null;
  const errors: TestFaultPlan['errors'][number][] = [];
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [name, arg, count, ...extra] = item.split(':');
    if (name === 'crash-at-write' || name === 'crash-after-write') {
      const n = positive(arg);
      if (n === null || count !== undefined) {
        problems.push(`Expected '${name}:N' with N a positive integer, but got '${item}'.`);
      } else if (name === 'crash-at-write') crashAtWrite = n;
      else crashAfterWrite = n;
    } else if (name === 'enospc' || name === 'eio' || name === 'eacces') {
      const kind = DURABLE_WRITE_KINDS.find((k) => k === arg);
      const times = count === undefined ? null : positive(count);
      if (kind === undefined || (count !== undefined && times === null) || extra.length > 0) {
        problems.push(
          `Expected '${name}:KIND[:COUNT]' with KIND one of ${DURABLE_WRITE_KINDS.join(', ')}, but got '${item}'.`,
        );
      } else errors.push({ kind, code: name.toUpperCase() as InjectedErrorCode, count: times });
    } else {
      problems.push(
        `Unknown test fault '${item}'; expected crash-at-write:N, crash-after-write:N, or enospc|eio|eacces:KIND[:COUNT].`,
      );
    }
  }
  return problems.length > 0 ? fail(problems) : ok({ crashAtWrite, crashAfterWrite, errors });
}

interface Active {
  readonly plan: TestFaultPlan;
  readonly kill: () => void;
  /** Writes started so far, over all kinds. */
  writes: number;
  /** Injected errors left per entry of `plan.errors` (Infinity for "every one"). */
  readonly left: number[];
}

/** Undefined unless a test set the variable: the whole cost of the switch in production. */
let active: Active | undefined;

/**
 * Arms the faults for this process (the CLI's only reader of the variable calls it), or disarms them with
 * `undefined`. `kill` ends the process at once without cleanup (the CLI passes a SIGKILL to itself).
 */
export function installTestFaults(plan: TestFaultPlan | undefined, kill: () => void): void {
  active =
    plan === undefined
      ? undefined
      : { plan, kill, writes: 0, left: plan.errors.map((e) => e.count ?? Infinity) };
}

/**
 * Called as a durable write starts. Returns the write's ordinal, for `afterDurableWrite` (0 when the switch
 * is off); may kill the process or throw an injected error shaped like Node's own (code, errno, syscall,
 * path), so the caller's error handling is what is tested.
 */
export function beforeDurableWrite(kind: DurableWriteKind, path: string): number {
  if (active === undefined) return 0;
  const ordinal = ++active.writes;
  if (active.plan.crashAtWrite === ordinal) active.kill();
  const index = active.plan.errors.findIndex((e, i) => e.kind === kind && (active?.left[i] ?? 0) > 0);
  const entry = active.plan.errors[index];
  if (entry !== undefined) {
    active.left[index] = (active.left[index] ?? 1) - 1;
    const { errno, message } = ERRORS[entry.code];
    throw Object.assign(new Error(`${entry.code}: ${message}, write '${path}'`), {
      code: entry.code,
      errno,
      syscall: 'write',
      path,
    });
  }
  return ordinal;
}

/** Called once the write that `beforeDurableWrite` numbered is on disk. */
export function afterDurableWrite(ordinal: number): void {
  if (active !== undefined && active.plan.crashAfterWrite === ordinal) active.kill();
}
