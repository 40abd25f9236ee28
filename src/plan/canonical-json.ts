/**
 * Canonical JSON: one byte sequence per value, so a hash of it can be a cache key (design.md section 4).
 *
 * - object keys sorted by UTF-16 code unit (never by insertion order, never locale-aware);
 * - no whitespace;
 * - strings and numbers as `JSON.stringify` writes them (its escaping and number formatting are specified
 *   by ECMA-262, hence identical on every machine);
 * - anything JSON cannot round-trip is refused with a TypeError rather than silently changed:
 *   `undefined` (JSON.stringify drops it, or writes `null` in arrays), NaN and ±Infinity (written as
 *   `null`), bigint, functions, symbols, and objects that are not plain (Map, Set, Date, class instances:
 *   their JSON form depends on `toJSON` or loses data). A TypeError here is a bug in whoever built the value.
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value);
  } catch (error) {
    if (error instanceof RefusedValue) {
      throw new TypeError(`canonicalJson: $${error.path.join('')} ${error.problem}`);
    }
    throw error;
  }
}

/**
 * Thrown by `write` and annotated with the path on the way out, so the success path (every key of every
 * plan) builds no path strings at all.
 */
class RefusedValue extends Error {
  readonly path: string[] = [];
  readonly problem: string;
  constructor(problem: string) {
    super(problem);
    this.problem = problem;
  }
}

function write(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new RefusedValue(`is ${value}, not a finite number`);
      // -0 and 0 are the same number in JSON; JSON.stringify(-0) is "0".
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += within(i, value[i]);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new RefusedValue('is not a plain object');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0) out += ',';
        out += `${JSON.stringify(k)}:${within(k, record[k])}`;
      }
      return `${out}}`;
    }
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new RefusedValue(`is ${typeof value}, which JSON cannot represent`);
  }
}

/** `write`, naming `at` (an array index or an object key) in the path of a refused value. */
function within(at: number | string, value: unknown): string {
  try {
    return write(value);
  } catch (error) {
    if (error instanceof RefusedValue) error.path.unshift(typeof at === 'number' ? `[${at}]` : `.${at}`);
    throw error;
  }
}
