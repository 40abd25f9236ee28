import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/plan/canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys by code unit at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { z: [3, { y: true, x: null }], B: 'é' }, _: -0 })).toBe(
      '{"_":0,"a":{"B":"é","z":[3,{"x":null,"y":true}]},"b":1}',
    );
  });

  it('does not depend on insertion order', () => {
    const one: Record<string, number> = {};
    const two: Record<string, number> = {};
    for (const k of ['m', 'a', 'Z', '10', '9', 'aa']) one[k] = k.length;
    for (const k of ['aa', '9', '10', 'Z', 'a', 'm']) two[k] = k.length;
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    // Integer-like keys would come first in insertion-agnostic JS order; code-unit order puts "10" < "9".
    expect(canonicalJson(one)).toBe('{"10":2,"9":1,"Z":1,"a":1,"aa":2,"m":1}');
  });

  it('escapes strings exactly as JSON.stringify does', () => {
    expect(canonicalJson({ s: 'quote " backslash \\ newline \n tab \t nul \u0000 emoji 🎬' })).toBe(
      '{"s":"quote \\" backslash \\\\ newline \\n tab \\t nul \\u0000 emoji 🎬"}',
    );
  });

  it.each([
    [{ a: undefined }, '$.a is undefined'],
    [[1, undefined], '$[1] is undefined'],
    [{ n: Number.NaN }, '$.n is NaN, not a finite number'],
    [{ n: Infinity }, '$.n is Infinity, not a finite number'],
    [{ n: -Infinity }, '$.n is -Infinity, not a finite number'],
    [{ big: 1n }, '$.big is bigint'],
    [{ f: () => 1 }, '$.f is function'],
    [{ d: new Date(0) }, '$.d is not a plain object'],
    [{ m: new Map() }, '$.m is not a plain object'],
  ])('refuses %o', (value, message) => {
    expect(() => canonicalJson(value)).toThrow(new RegExp(message.replace(/[$.[\]]/g, '\\$&')));
  });

  it('accepts null-prototype objects', () => {
    const o = Object.create(null) as Record<string, number>;
    o.b = 2;
    o.a = 1;
    expect(canonicalJson(o)).toBe('{"a":1,"b":2}');
  });
});
