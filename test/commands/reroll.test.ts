import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readLockfile } from '../../src/cache/lockfile.ts';
import type { ShotId } from '../../src/core/brand.ts';
import { emulatorProject } from './emulator-project.ts';
import type { EmulatorProject } from './emulator-project.ts';
import { pinAll, STORYBOARD } from './pinned-project.ts';

let p: EmulatorProject;

beforeEach(async () => {
  p = await emulatorProject();
  await writeFile(
    path.join(p.dir, 'sora.config.yaml'),
    (await readFile(path.join(p.dir, 'sora.config.yaml'), 'utf8')) +
      '    pricing: { sora-2: { usd_per_second: 0.1 } }\n',
  );
  await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD);
});
afterEach(() => p.close());

const lockOf = async (shot: string) => {
  const lock = await readLockfile(path.join(p.dir, 'storyboard.lock'));
  if (!lock.ok) throw new Error('bad lockfile');
  return lock.value.shots.get(shot as ShotId);
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('sora-build reroll', () => {
  it('generates a new take of a fresh shot, pins it, lists takes, and goes back to take 1 without any API call', async () => {
    await pinAll({ dir: p.dir });
    const before = await lockOf('harbor');
    p.emulator.clearLog();

    const r = await p.run(['reroll', 'harbor', '--yes', '--reporter', 'plain']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "Reroll: 1 new generation on provider 'local', estimated $0.40\n  harbor: sora-2 1280x720 4 s, $0.40\n",
    );
    const after = await lockOf('harbor');
    expect(after!.key).toBe(before!.key);
    expect(after!.output).not.toBe(before!.output);
    expect(p.log().filter((l) => l.startsWith('POST'))).toEqual(['POST /v1/videos']);
    expect(after!.videoId).toMatch(/^video_/);
    const out = await readFile(path.join(p.dir, 'out', 'harbor.mp4'));
    expect(sha(out)).toBe(after!.output);

    const listed = await p.run(['reroll', 'harbor', '--list']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines[0]).toBe(`harbor (key ${before!.key.slice(0, 12)}): 2 takes`);
    expect(lines[2]).toMatch(/^ {2}1 +video_harbor_1 /);
    expect(lines[3]).toMatch(new RegExp(`^\\* 2 +${after!.videoId} `));

    p.emulator.clearLog();
    const back = await p.run(['reroll', 'harbor', '--take', '1']);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(
      'harbor: pinned take 1 (video_harbor_1) in storyboard.lock; out/harbor.mp4 updated\n',
    );
    expect(p.emulator.requestLog()).toEqual([]); // zero requests
    expect(await lockOf('harbor')).toEqual(before);
    expect(sha(await readFile(path.join(p.dir, 'out', 'harbor.mp4')))).toBe(before!.output);

    const again = await p.run(['reroll', 'harbor', '--take', '1']);
    expect(again.stdout).toBe('harbor: take 1 (video_harbor_1) was already pinned\n');

    // The build recorded the prompt text locally, so `why` can show the old prompt after an edit.
    await writeFile(path.join(p.dir, 'storyboard.yaml'), STORYBOARD.replace('at dawn', 'at dusk'));
    const why = await p.run(['why', 'harbor']);
    expect(why.stdout).toContain(
      '    - Wide establishing shot of a misty harbor at dawn.\n    + Wide establishing shot of a misty harbor at dusk.\n',
    );
  });

  it('names the children made from the previous take', async () => {
    await pinAll({ dir: p.dir, takes: 2 });
    const r = await p.run(['reroll', 'lighthouse', '--take', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'lighthouse-night now needs a rebuild (made from the previous take): run `sora-build build`\n',
    );
    const status = await p.run(['status']);
    expect(status.stdout).toContain('lighthouse-night  stale  parent output changed\n');
  });

  it('take out of range, unknown shot, never built, not fresh', async () => {
    await pinAll({ dir: p.dir });
    const range = await p.run(['reroll', 'harbor', '--take', '3']);
    expect(range.code).toBe(2);
    expect(range.stderr).toBe(
      'sora-build reroll: harbor has 1 take for its current key, so there is no take 3 (see `sora-build reroll harbor --list`)\n',
    );
    const unknown = await p.run(['reroll', 'harbr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "sora-build reroll: there is no shot 'harbr' in storyboard.yaml; did you mean 'harbor'?\n",
    );

    await writeFile(
      path.join(p.dir, 'storyboard.yaml'),
      STORYBOARD.replace('misty harbor', 'foggy harbor') + '  pier:\n    prompt: A pier.\n',
    );
    p.emulator.clearLog();
    const never = await p.run(['reroll', 'pier', '--yes']);
    expect(never.code).toBe(1);
    expect(never.stderr).toBe(
      'sora-build reroll: pier was never built (no entry in storyboard.lock): nothing to reroll; run `sora-build build` first\n',
    );
    const stale = await p.run(['reroll', 'harbor', '--take', '1']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      'harbor is not fresh (stale): its inputs changed since storyboard.lock; run `sora-build build` first',
    );
    expect(p.emulator.requestLog()).toEqual([]);
  });

  it('asks before spending: refuses without --yes off a terminal, honours --max-cost, and a no', async () => {
    await pinAll({ dir: p.dir });
    p.emulator.clearLog();
    const noTty = await p.run(['reroll', 'harbor']);
    expect(noTty.code).toBe(3);
    expect(noTty.stderr).toBe(
      'sora-build reroll: this costs money; stdin is not a terminal, so pass --yes to confirm\n',
    );
    const budget = await p.run(['reroll', 'harbor', '--yes', '--max-cost', '0.30']);
    expect(budget.code).toBe(3);
    expect(budget.stderr).toBe('sora-build reroll: refused: the estimate ($0.40) is over --max-cost $0.30\n');
    const no = await p.run(['reroll', 'harbor'], { stdinIsTTY: true, stdin: 'no\n' });
    expect(no.code).toBe(0);
    expect(no.stdout).toContain('Generate it for $0.40? [y/N] Nothing generated.\n');
    expect(p.emulator.requestLog()).toEqual([]);
  });
});
