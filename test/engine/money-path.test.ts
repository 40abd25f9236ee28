/**
 * The causes of "paid twice" and "paid result lost" found in issue 10, each as the scenario a user hits,
 * against the real emulator over loopback. Every test counts the emulator's paid requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BuildEngineOptions } from '../../src/engine/build-engine.ts';
import type { Journal } from '../../src/scheduler/journal.ts';
import type { VideoProvider } from '../../src/provider/types.ts';
import { ProviderError } from '../../src/provider/types.ts';
import { diskFull, engineProject, failedShots, override, storyboard } from './engine-harness.ts';
import type { EngineProject } from './engine-harness.ts';

let project: EngineProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const listUnreadable = (provider: VideoProvider): VideoProvider =>
  override(provider, {
    list: () => ({
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.reject(
            new ProviderError({ kind: 'server', message: 'list: 503 busy', status: 503, delivered: 'yes' }),
          ),
      }),
    }),
  });

/** A journal whose methods can be made to throw, over the real one. */
function journalWith(journal: Journal, overrides: Partial<Journal>): Journal {
  return override(journal, overrides);
}

describe('the money path', () => {
  it('retires a journal entry only once its sample is in the action cache', async () => {
    project = await engineProject();
    await project.write('storyboard.yaml', storyboard(['harbor']));
    const seen: string[] = [];
    const run = await project.buildOnce({
      wire: (o: BuildEngineOptions) => ({
        ...o,
        journal: journalWith(o.journal, {
          recordCompleted: async (id, at, output) => {
            // What the next build would find if the process died right after this record.
            const ac = o.actionCache;
            ac.invalidate();
            const key = (await o.journal.pending()).find((p) => p.intent.id === id)!.intent.key;
            seen.push(ac.samples(key).some((s) => s.output === output) ? 'recorded' : 'NOT recorded');
            return o.journal.recordCompleted(id, at, output);
          },
        }),
      }),
    });
    expect(run.outcome.built).toEqual(['harbor']);
    expect(seen).toEqual(['recorded']);
  });

  it('keeps a paid job whose every download is truncated, and the next build downloads it without a create', async () => {
    project = await engineProject({ emulator: { faults: { truncateDownloadRate: 1 } } });
    await project.write('storyboard.yaml', storyboard(['harbor', 'mug']));
    const first = await project.buildOnce();
    expect(failedShots(first)).toEqual({ harbor: 'download-corrupt', mug: 'download-corrupt' });
    for (const f of first.outcome.failed) {
      expect(f.hint).toMatch(/paid for and kept; the next build downloads it/);
      expect(f.videoId).not.toBeNull();
    }
    expect(project.creates()).toBe(2);
    // A second unhealed build resumes the same jobs: still no create.
    const again = await project.buildOnce();
    expect(failedShots(again)).toEqual({ harbor: 'download-corrupt', mug: 'download-corrupt' });
    expect(again.events.filter((e) => e.type === 'resumed')).toHaveLength(2);
    expect(project.creates()).toBe(2);

    project.emulator.setFaults({ truncateDownloadRate: 0 });
    const healed = await project.buildOnce();
    expect([...healed.outcome.built].sort()).toEqual(['harbor', 'mug']);
    expect(project.creates()).toBe(2);
    expect(existsSync(path.join(project.cacheDir, 'journal', 'journal.ndjson'))).toBe(false);
  });

  it('creates nothing while List cannot be read after a lost create response, and resumes the job once it can', async () => {
    project = await engineProject({ emulator: { faults: { lostCreateResponseRate: 1 } } });
    await project.write('storyboard.yaml', storyboard(['harbor']));
    const first = await project.buildOnce({ wrapProvider: listUnreadable });
    expect(failedShots(first)).toEqual({ harbor: 'unreconciled' });
    expect(first.outcome.failed[0]!.message).toMatch(/List could not be read/);
    expect(project.creates()).toBe(1);
    // Still unreadable: the next build does not create either.
    await project.buildOnce({ wrapProvider: listUnreadable });
    expect(project.creates()).toBe(1);

    project.emulator.setFaults({ lostCreateResponseRate: 0 });
    const healed = await project.buildOnce();
    expect(healed.outcome.built).toEqual(['harbor']);
    expect(healed.events).toContainEqual(expect.objectContaining({ type: 'reconciled', matched: true }));
    expect(project.creates()).toBe(1);
  });

  it('a journal that cannot be written fails the shot with the path and code, and never wedges the create lane', async () => {
    project = await engineProject({ maxInFlight: 1 });
    await project.write('storyboard.yaml', storyboard(['harbor', 'mug', 'teaser']));
    let refusals = 1;
    const { engine, events } = await project.engine({
      wire: (o) => ({
        ...o,
        journal: journalWith(o.journal, {
          recordIntent: (input) =>
            refusals-- > 0
              ? Promise.reject(diskFull(path.join(o.journal.dir, 'journal.ndjson')))
              : o.journal.recordIntent(input),
        }),
      }),
    });
    try {
      const first = await project.build(engine, events);
      const failed = first.outcome.failed;
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ reason: 'local-io', code: 'ENOSPC' });
      expect(failed[0]!.message).toContain('journal.ndjson');
      expect(first.outcome.built).toHaveLength(2);
      // Nothing was sent for the refused shot (no intent, no request).
      expect(project.creates()).toBe(2);
      // The same engine (a watch session) builds it once the disk has room.
      const second = await project.build(engine, events);
      expect(second.outcome.built).toEqual([failed[0]!.shot]);
      expect(project.creates()).toBe(3);
    } finally {
      await engine.close({ abandon: false });
    }
  });

  it('retries a read in one layer: every request the engine repeats is reported', async () => {
    project = await engineProject();
    await project.write('storyboard.yaml', storyboard(['harbor']));
    let failures = 3;
    const run = await project.buildOnce({
      wrapProvider: (provider) =>
        override(provider, {
          retrieve: (id: Parameters<VideoProvider['retrieve']>[0], signal?: AbortSignal) =>
            failures-- > 0
              ? Promise.reject(
                  new ProviderError({
                    kind: 'server',
                    message: 'retrieve: 502',
                    status: 502,
                    delivered: 'yes',
                  }),
                )
              : provider.retrieve(id, signal),
        }),
    });
    expect(run.outcome.built).toEqual(['harbor']);
    expect(run.events.filter((e) => e.type === 'retry' && e.operation === 'retrieve')).toHaveLength(3);
  });

  it('a watch session survives a full disk: the paid job is kept, and the next save builds it without a create', async () => {
    project = await engineProject();
    await project.write('storyboard.yaml', storyboard(['harbor']));
    let full = true;
    const { engine, events } = await project.engine({
      wire: (o) => ({
        ...o,
        actionCache: override(o.actionCache, {
          addSample: (key, sample) =>
            full
              ? Promise.reject(diskFull(o.actionCache.pathFor(key)))
              : o.actionCache.addSample(key, sample),
        }),
      }),
    });
    try {
      const first = await project.build(engine, events, { retryFailedKeys: false });
      expect(first.outcome.failed).toHaveLength(1);
      expect(first.outcome.failed[0]).toMatchObject({ reason: 'local-io', code: 'ENOSPC' });
      expect(first.outcome.failed[0]!.message).toContain(path.join(project.cacheDir, 'ac'));
      expect(first.outcome.failed[0]!.hint).toMatch(/paid for and kept/);
      expect(project.creates()).toBe(1);

      full = false;
      const second = await project.build(engine, events, { retryFailedKeys: false });
      expect(second.outcome.built).toEqual(['harbor']);
      expect(second.events).toContainEqual(expect.objectContaining({ type: 'resumed' }));
      expect(project.creates()).toBe(1);
    } finally {
      await engine.close({ abandon: false });
    }
  });
});
