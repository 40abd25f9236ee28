/** Ends every exhaustive `switch` over a union: the compiler proves the default branch cannot run. */
export function unreachable(value: never): never {
  throw new Error(`internal error: unexpected value ${JSON.stringify(value)}`);
}
