/**
 * Transport faults between sora-build and the service, each ending in exactly one video per shot: a paid,
 * finished job is kept (the journal remembers it) while its downloads fail, polls fail, or List cannot tell
 * whether a create went through; once the network heals, the next build finishes it without a new create.
 * The real CLI runs as a child process against the emulator through the fault proxy (test/support/).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { moneyProject, storyboard } from '../support/money-project.ts';
import type { MoneyProject } from '../support/money-project.ts';
import { ROUTES } from '../support/fault-proxy.ts';

vi.setConfig({ testTimeout: 120_000 });

const STORYBOARD = storyboard({ shots: 2 });
const ONE_EACH = { 'Shot s1.': 1, 'Shot s2.': 1 };
/** What a shot whose paid job is kept says, and one whose lost create cannot be looked up. */
const KEPT = /paid for and kept; the next build downloads it/;
const NOT_CREATED = /List could not be read[^\n]*nothing was created again/;

let project: MoneyProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** Two builds under the fault (both fail, neither creates again), then one healed build that completes. */
async function faultyThenHealed(p: MoneyProject, heal: () => void, says: RegExp): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const faulty = await p.build();
    expect(faulty.signal).toBeNull();
    expect(faulty.code, faulty.stdout + faulty.stderr).toBe(1);
    expect(faulty.stdout + faulty.stderr).toMatch(says);
  }
  const paidWhileFaulty = await p.videosPerPrompt();
  heal();
  const healed = await p.build();
  expect(healed.code, healed.stdout + healed.stderr).toBe(0);
  expect(healed.stdout).toMatch(/built 2 · fresh 0 · cached 0 · failed 0/);
  expect(paidWhileFaulty).toEqual(ONE_EACH);
  expect(await p.videosPerPrompt()).toEqual(ONE_EACH);
  expect(await p.integrityProblems()).toEqual([]);
  const again = await p.build();
  expect(again.stdout).toMatch(/built 0 · fresh 2 · cached 0 · failed 0/);
  expect(await p.secretLeaks()).toEqual([]);
}

describe('transport faults end with one video per shot', () => {
  it('every download truncated (the emulator cuts the body short), then healed', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    p.emulator.setFaults({ truncateDownloadRate: 1 });
    await faultyThenHealed(p, () => p.emulator.setFaults({ truncateDownloadRate: 0 }), KEPT);
  });

  it('every download corrupted at full length (the proxy flips bytes), then healed', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    p.proxy.setRules([{ ...ROUTES.content, fault: 'corrupt' }]);
    await faultyThenHealed(p, () => p.proxy.heal(), KEPT);
  });

  it('every poll failing with 500s and connection resets, then healed', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    p.proxy.setRules([
      { ...ROUTES.poll, fault: 'status-500', times: 3 },
      { ...ROUTES.poll, fault: 'reset' },
    ]);
    await faultyThenHealed(p, () => p.proxy.heal(), KEPT);
  });

  it('a create whose response is lost while List answers 500, then healed', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    p.emulator.setFaults({ lostCreateResponseRate: 1 });
    p.proxy.setRules([{ ...ROUTES.list, fault: 'status-500' }]);
    await faultyThenHealed(
      p,
      () => {
        p.emulator.setFaults({ lostCreateResponseRate: 0 });
        p.proxy.heal();
      },
      NOT_CREATED,
    );
  });

  it('a create whose response the proxy drops while List resets connections, then healed', async () => {
    project = await moneyProject({ storyboard: STORYBOARD });
    const p = project;
    p.proxy.setRules([
      { ...ROUTES.create, fault: 'drop-response' },
      { ...ROUTES.list, fault: 'reset' },
    ]);
    await faultyThenHealed(p, () => p.proxy.heal(), NOT_CREATED);
  });
});
