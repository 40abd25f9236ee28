import { describe, expect, it } from 'vitest';
import { fitSegments } from '../../src/reporter/ansi.ts';
import {
  displayPath,
  formatBytes,
  formatCost,
  formatDuration,
  formatElapsed,
  summaryLine,
} from '../../src/reporter/format.ts';

describe('format helpers', () => {
  it.each([
    [0, '0s'],
    [40, '0s'],
    [420, '0.4s'],
    [1_500, '1.5s'],
    [2_000, '2s'],
    [9_949, '9.9s'],
    [9_960, '10s'],
    [59_400, '59s'],
    [65_000, '1m 05s'],
    [3_725_000, '1h 02m'],
    [-5, '0s'],
  ])('formatDuration(%i) is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    [999, '0s'],
    [41_999, '41s'],
    [70_490, '1m 10s'],
    [7_260_000, '2h 01m'],
  ])('formatElapsed(%i) is %s, never rounding up', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [23_456, '23.5 kB'],
    [999_999, '1.0 MB'],
    [1_234_567, '1.2 MB'],
    [2_000_000_000, '2.0 GB'],
  ])('formatBytes(%i) is %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('keeps an unknown price unknown, never $0', () => {
    expect(formatCost(null)).toBe('cost unknown');
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(1.005 + 0.8)).toBe('$1.81');
    expect(summaryLine({ built: 1, fresh: 5, cached: 2, failed: 3, blocked: 4, costUsd: null })).toBe(
      'built 1 · fresh 5 · cached 2 · failed 3 · blocked 4 · cost unknown',
    );
  });

  it('shows paths inside cwd relative with /, others as they are', () => {
    expect(displayPath('/proj/out/a.mp4', '/proj')).toBe('out/a.mp4');
    expect(displayPath('/projects/a.mp4', '/proj')).toBe('/projects/a.mp4');
    expect(displayPath('/proj', '/proj')).toBe('/proj');
  });

  it('cuts styled segments to a width, keeping styles and ending with …', () => {
    expect(fitSegments([{ text: 'abc' }, { text: 'defg', style: 'red' }], 7)).toEqual([
      { text: 'abc' },
      { text: 'defg', style: 'red' },
    ]);
    expect(fitSegments([{ text: 'abc' }, { text: 'defg', style: 'red' }], 5)).toEqual([
      { text: 'abc' },
      { text: 'd', style: 'red' },
      { text: '…' },
    ]);
  });
});
