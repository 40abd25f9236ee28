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
  return write(value, '$');
}

function write(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${path} is ${value}, not a finite number`);
      // -0 and 0 are the same number in JSON; JSON.stringify(-0) is "0".
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) parts.push(write(value[i], `${path}[${i}]`));
        return `[${parts.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${path} is not a plain object`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const parts = keys.map((k) => `${JSON.stringify(k)}:${write(record[k], `${path}.${k}`)}`);
      return `{${parts.join(',')}}`;
    }
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${path} is ${typeof value}, which JSON cannot represent`);
  }
}
