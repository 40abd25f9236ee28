/**
 * A provider that cannot list its jobs (Veo, Runway, fal) cannot find the job of a create whose answer was
 * lost: the shot is `unreconciled` and nothing is sent again, on this build and the next, until the user
 * says to create it anew (`--resubmit-unreconciled`), knowing it may have been billed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildEngineOptions } from '../../src/engine/build-engine.ts';
import type { JobProvider } from '../../src/provider/job-api.ts';
import { LegacyJobProvider } from '../../src/provider/legacy-job-provider.ts';
import type { VideoProvider } from '../../src/provider/types.ts';
import { engineProject, failedShots, storyboard } from './engine-harness.ts';
import type { EngineProject } from './engine-harness.ts';

let project: EngineProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** The real adapter over the emulator, minus `list`. */
const unlistable = {
  wire: (o: BuildEngineOptions): BuildEngineOptions => ({
    ...o,
    provider: async (): Promise<JobProvider> => {
      const p = new LegacyJobProvider({ legacy: (await o.provider()) as VideoProvider, type: 'openai' });
      return {
        name: p.name,
        type: p.type,
        family: p.family,
        submit: (request, options) => p.submit(request, options),
        poll: (handle, signal) => p.poll(handle, signal),
        fetch: (output, signal) => p.fetch(output, signal),
        close: () => p.close(),
      };
    },
  }),
};

describe('a provider without List', () => {
  it('reports a lost create as unreconciled, never resends it, and creates anew only when told to', async () => {
    project = await engineProject({ emulator: { faults: { lostCreateResponseRate: 1 } } });
    await project.write('storyboard.yaml', storyboard(['harbor']));
    const first = await project.buildOnce(unlistable);
    expect(failedShots(first)).toEqual({ harbor: 'unreconciled' });
    const failure = first.outcome.failed[0]!;
    expect(failure.message).toMatch(/cannot list its jobs/);
    expect(failure.hint).toBe(
      "look for the job in the provider's console; to create it anew (which may pay twice) run `sora-build build --shot harbor --resubmit-unreconciled`",
    );
    expect(project.creates()).toBe(1);

    project.emulator.setFaults({ lostCreateResponseRate: 0 });
    const again = await project.buildOnce(unlistable);
    expect(failedShots(again)).toEqual({ harbor: 'unreconciled' });
    expect(project.creates()).toBe(1);

    const told = await project.buildOnce(unlistable, { resubmitUnreconciled: true });
    expect(told.outcome.built).toEqual(['harbor']);
    expect(project.creates()).toBe(2);
  });
});
