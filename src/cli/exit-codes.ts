/** Exit codes (design.md section 8). */
export const ExitCode = {
  /** All requested shots are fresh. */
  Ok: 0,
  /** A shot failed. */
  Failed: 1,
  /** Invalid usage, manifest or config. */
  Usage: 2,
  /** Refused by policy: --frozen would generate, over --max-cost, unknown price under a budget. */
  Policy: 3,
  /** Interrupted; the journal is kept. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
