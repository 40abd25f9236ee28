import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asShotKey, asVideoId } from '../../src/core/brand.ts';
import type { ShotId, ShotKey } from '../../src/core/brand.ts';
import { Failures } from '../../src/cache/failures.ts';
import { Journal } from '../../src/scheduler/journal.ts';
import { sha256Hex } from '../../src/plan/shot-key.ts';
import { systemClock } from '../../src/core/clock.ts';
import { emulatorProject } from './emulator-project.ts';
import type { EmulatorProject } from './emulator-project.ts';
import { pinAll, STORYBOARD } from './pinned-project.ts';

let p: EmulatorProject;

beforeEach(async () => {
  p = await emulatorProject();
  await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD);
});
afterEach(() => p.close());

async function edit(from: string, to: string): Promise<void> {
  const file = path.join(p.dir, 'storyboard.yaml');
  const text = await readFile(file, 'utf8');
  if (!text.includes(from)) throw new Error(`no '${from}' in the storyboard`);
  await writeFile(file, text.replace(from, to));
}

/** The current key of a shot, as status --json reports it. */
async function currentKey(shot: string): Promise<ShotKey> {
  const r = await p.run(['status', '--json']);
  const row = (JSON.parse(r.stdout) as { shots: { shot: string; key: string }[] }).shots.find(
    (s) => s.shot === shot,
  );
  return asShotKey(row!.key);
}

describe('sora-build status', () => {
  it('a project that never built: every shot missing or blocked', async () => {
    const r = await p.run(['status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'shot              state    detail',
        'harbor            missing  never built',
        'lighthouse        missing  never built',
        'lighthouse-night  blocked  waits for its parent lighthouse to be rebuilt',
        '',
        '3 shots: 2 missing, 1 blocked',
        '',
      ].join('\n'),
    );
    expect(p.log()).toEqual([]); // offline
  });

  it('fresh, stale (why), blocked, missing, failed and in flight', async () => {
    await pinAll({ dir: p.dir });
    const fresh = await p.run(['status']);
    expect(fresh.stdout).toContain('harbor            fresh  video_harbor_1\n');
    expect(fresh.stdout).toContain('3 shots: 3 fresh\n');

    await edit('misty harbor at dawn', 'misty harbor at dusk');
    await edit('as the fog lifts', 'as the storm breaks');
    await writeFile(
      path.join(p.dir, 'storyboard.yaml'),
      (await readFile(path.join(p.dir, 'storyboard.yaml'), 'utf8')) +
        '  pier:\n    prompt: A wooden pier.\n    seconds: 8\n',
    );
    const stale = await p.run(['status']);
    expect(stale.stdout).toBe(
      [
        'shot              state    detail',
        'harbor            stale    prompt changed',
        'lighthouse        stale    prompt changed',
        'lighthouse-night  blocked  waits for its parent lighthouse to be rebuilt',
        'pier              missing  never built',
        '',
        '4 shots: 2 stale, 1 missing, 1 blocked',
        '',
      ].join('\n'),
    );

    // A failure recorded for lighthouse's new key, a job in flight for harbor's new key.
    const failures = Failures.open(p.cacheDir);
    await failures.record({
      key: await currentKey('lighthouse'),
      shot: 'lighthouse' as ShotId,
      reason: 'moderation-blocked',
      message: 'the prompt was refused by moderation',
      at: Date.UTC(2026, 10, 25, 12, 0),
      videoId: asVideoId('video_refused'),
    });
    const remoteId = await p.createVideo('A wooden pier at dusk.');
    const journal = Journal.open({ cacheDir: p.cacheDir, clock: systemClock });
    const intent = await journal.recordIntent({
      shot: 'harbor' as ShotId,
      key: await currentKey('harbor'),
      provider: 'local',
      request: {
        operation: 'create',
        model: 'sora-2',
        size: '1280x720',
        seconds: 4,
        promptSha256: sha256Hex('x'),
        parentVideoId: null,
      },
      at: Date.UTC(2026, 10, 25, 12, 1),
    });
    await journal.recordSubmitted(intent.id, asVideoId(remoteId), Date.UTC(2026, 10, 25, 12, 1));
    p.emulator.clearLog();

    const offline = await p.run(['status']);
    expect(offline.stdout).toContain(
      `harbor            in flight  ${remoteId} (submitted 2026-11-25 12:01 UTC)\n`,
    );
    expect(offline.stdout).toContain(
      'lighthouse        failed     moderation-blocked: the prompt was refused by moderation (2026-11-25 12:00 UTC)\n',
    );
    expect(offline.stdout).toContain('lighthouse-night  blocked    its parent lighthouse failed\n');
    expect(offline.stdout).toContain('4 shots: 1 missing, 1 in flight, 1 failed, 1 blocked\n');
    expect(p.log()).toEqual([]);

    const remote = await p.run(['status', '--remote']);
    expect(remote.stdout).toContain(`harbor            in flight  ${remoteId} completed 100%\n`);
    expect(p.log()).toEqual([`GET /v1/videos/${remoteId}`]);
  });

  it('rejects extra arguments; reports an invalid manifest with exit 2', async () => {
    expect((await p.run(['status', 'a.yaml', 'b.yaml'])).code).toBe(2);
    await writeFile(
      path.join(p.dir, 'storyboard.yaml'),
      'version: 1\nshots:\n  harbor:\n    prompt: x\n    seconds: 5\n',
    );
    const r = await p.run(['status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('storyboard.yaml:5:');
  });
});

describe('sora-build why', () => {
  it('unknown shot: exit 2 with a did-you-mean', async () => {
    const r = await p.run(['why', 'harbour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "sora-build why: there is no shot 'harbour' in storyboard.yaml; did you mean 'harbor'?\n",
    );
  });

  it('a shot never built says so', async () => {
    const r = await p.run(['why', 'harbor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('harbor was never built: storyboard.lock has no entry for it.\n');
  });

  it('a fresh shot says nothing changed', async () => {
    const entries = await pinAll({ dir: p.dir });
    const r = await p.run(['why', 'harbor']);
    expect(r.stdout).toBe(
      `harbor is fresh: its key matches storyboard.lock (${entries.get('harbor' as ShotId)!.key.slice(0, 12)}).\n`,
    );
  });

  it('shows the old and new prompt when the old text was recorded, and other fields', async () => {
    await pinAll({ dir: p.dir, recordPrompts: true });
    await edit('misty harbor at dawn.', 'misty harbor at dusk.\n    seconds: 8');
    const r = await p.run(['why', 'harbor']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'harbor: prompt changed, seconds changed',
        '2 key fields differ from storyboard.lock:',
        '  prompt',
        '    - Wide establishing shot of a misty harbor at dawn.',
        '    + Wide establishing shot of a misty harbor at dusk.',
        '  seconds',
        '    - 4',
        '    + 8',
        '',
      ].join('\n'),
    );
  });

  it('says the old prompt was not recorded, and --remote asks the provider for it', async () => {
    const ids = new Map<string, string>();
    ids.set('harbor', await p.createVideo('Wide establishing shot of a misty harbor at dawn.'));
    await pinAll({ dir: p.dir, videoId: (shot) => ids.get(shot) ?? `video_${shot}` });
    await edit('misty harbor at dawn.', 'misty harbor at dusk.');
    const local = await p.run(['why', 'harbor']);
    expect(local.stdout).toContain(
      '  prompt\n      (old text not recorded)\n    + Wide establishing shot of a misty harbor at dusk.\n',
    );
    p.emulator.clearLog();
    const remote = await p.run(['why', 'harbor', '--remote']);
    expect(remote.stdout).toContain('    - Wide establishing shot of a misty harbor at dawn.\n');
    expect(p.log()).toEqual([`GET /v1/videos/${ids.get('harbor')}`]);
  });

  it('a child whose parent will be rebuilt is blocked, with the parent as the change', async () => {
    await pinAll({ dir: p.dir });
    await edit('as the fog lifts', 'as the storm breaks');
    const r = await p.run(['why', 'lighthouse-night']);
    expect(r.stdout).toMatch(
      /^lighthouse-night: blocked until lighthouse is rebuilt\n1 key field differs from storyboard\.lock:\n {2}parent\n {4}- remix_of output sha256:[0-9a-f]{12}\n {4}\+ lighthouse will be rebuilt first\n$/,
    );
  });
});
