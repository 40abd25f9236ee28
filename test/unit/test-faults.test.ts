/** The test-only fault switch (src/core/test-faults.ts): its grammar, and what its hooks do when armed. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  afterDurableWrite,
  beforeDurableWrite,
  installTestFaults,
  parseTestFaults,
} from '../../src/core/test-faults.ts';
import type { TestFaultPlan } from '../../src/core/test-faults.ts';

afterEach(() => installTestFaults(undefined, () => {}));

const plan = (spec: string): TestFaultPlan => {
  const parsed = parseTestFaults(spec);
  if (!parsed.ok) throw new Error(parsed.error.join(' '));
  return parsed.value;
};

describe('parseTestFaults', () => {
  it.each([
    ['crash-at-write:7', { crashAtWrite: 7, crashAfterWrite: null, errors: [] }],
    ['crash-after-write:3', { crashAtWrite: null, crashAfterWrite: 3, errors: [] }],
    [
      'enospc:journal:1, eio:lockfile,eacces:out:2',
      {
        crashAtWrite: null,
        crashAfterWrite: null,
        errors: [
          { kind: 'journal', code: 'ENOSPC', count: 1 },
          { kind: 'lockfile', code: 'EIO', count: null },
          { kind: 'out', code: 'EACCES', count: 2 },
        ],
      },
    ],
  ])('%s', (spec, expected) => {
    expect(parseTestFaults(spec)).toEqual({ ok: true, value: expected });
  });

  it('reports every bad item at once', () => {
    const parsed = parseTestFaults('crash-at-write:0,enospc:disk,bogus,eio:store:x');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toHaveLength(4);
      expect(parsed.error[1]).toContain("but got 'enospc:disk'");
    }
  });
});

describe('the hooks', () => {
  it('cost nothing and do nothing when disarmed', () => {
    expect(beforeDurableWrite('journal', '/x')).toBe(0);
    afterDurableWrite(0);
  });

  it('kill at the N-th write, before or after it, counting every kind', () => {
    const kills: string[] = [];
    installTestFaults(plan('crash-at-write:2,crash-after-write:3'), () => kills.push('kill'));
    const first = beforeDurableWrite('store', '/a');
    afterDurableWrite(first);
    expect(kills).toEqual([]);
    const second = beforeDurableWrite('lockfile', '/b');
    expect(kills).toEqual(['kill']);
    afterDurableWrite(second);
    afterDurableWrite(beforeDurableWrite('journal', '/c'));
    expect(kills).toEqual(['kill', 'kill']);
  });

  it('throw errors shaped like Node’s, only for the chosen kind and only COUNT times', () => {
    installTestFaults(plan('enospc:journal:1'), () => {});
    expect(beforeDurableWrite('store', '/s')).toBe(1);
    let thrown: unknown;
    try {
      beforeDurableWrite('journal', '/cache/journal.ndjson');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: '/cache/journal.ndjson',
      message: "ENOSPC: no space left on device, write '/cache/journal.ndjson'",
    });
    expect(beforeDurableWrite('journal', '/cache/journal.ndjson')).toBe(3);
  });
});
