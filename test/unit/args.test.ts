import { expect, it } from 'vitest';
import { parseUsd } from '../../src/cli/args.ts';

it.each([
  ['5', 5],
  ['12.50', 12.5],
  ['$5', 5],
  [' 0 ', 0],
  ['', undefined],
  ['$', undefined],
  ['-1', undefined],
  ['lots', undefined],
  ['Infinity', undefined],
])('parseUsd(%j) is %j: every --max-cost accepts the same spellings', (text, expected) => {
  expect(parseUsd(text)).toBe(expected);
});
