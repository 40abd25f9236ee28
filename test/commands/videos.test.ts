import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { emulatorProject } from './emulator-project.ts';
import type { EmulatorProject } from './emulator-project.ts';
import { lockEntry, putActionCacheEntry, sha256, writeLock } from './store-fixture.ts';

let p: EmulatorProject;
let ids: string[];

beforeEach(async () => {
  p = await emulatorProject();
  ids = [];
  for (const prompt of ['harbor at dawn', 'lighthouse in fog', "someone else's video"])
    ids.push(await p.createVideo(prompt));
  // The first is pinned by the lockfile; the second is a take this project generated; the third is foreign.
  await writeLock(path.join(p.dir, 'storyboard.lock'), [lockEntry('harbor', sha256('a'), ids[0]!)]);
  await putActionCacheEntry(p.cacheDir, sha256('k'), [
    { output: sha256('a'), videoId: ids[0]! },
    { output: sha256('b'), videoId: ids[1]! },
  ]);
  p.emulator.clearLog();
});
afterEach(() => p.close());

describe('sora-build videos list', () => {
  it('lists every page, newest first, with the lockfile entries that pin them', async () => {
    const r = await p.run(['videos', 'list', '--page-size', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^id +status +model +size +secs +created \(UTC\) +expires \(UTC\) +used by$/);
    expect(lines.slice(1, 4).map((l) => l.split(/ +/)[0])).toEqual([ids[2], ids[1], ids[0]]);
    expect(lines[3]).toMatch(
      / completed +sora-2 +1280x720 +4 +\d{4}-\d\d-\d\d \d\d:\d\d +\d{4}-\d\d-\d\d \d\d:\d\d +harbor \(storyboard\.lock\)$/,
    );
    expect(lines[1]).toMatch(/ -$/);
    expect(r.stdout).toContain("\n3 remote videos on provider 'local', 1 pinned by a lockfile\n");
    // Two pages: the cursor was followed.
    expect(p.log()).toEqual([
      'GET /v1/videos?order=desc&limit=2',
      `GET /v1/videos?order=desc&limit=2&after=${ids[1]}`,
    ]);
  });

  it('--json gives the same facts as data', async () => {
    const r = await p.run(['videos', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      id: string;
      status: string;
      usedBy: unknown[];
      generatedHere: boolean;
    }[];
    expect(rows.map((x) => [x.id, x.status, x.usedBy, x.generatedHere])).toEqual([
      [ids[2], 'completed', [], false],
      [ids[1], 'completed', [], true],
      [ids[0], 'completed', [{ lockfile: 'storyboard.lock', shot: 'harbor' }], true],
    ]);
  });
});

describe('sora-build videos delete', () => {
  it('deletes, and names ids that are already deleted or unknown with exit 1', async () => {
    const r = await p.run(['videos', 'delete', ids[1]!, 'video_doesnotexist']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`deleted ${ids[1]}\n`);
    expect(r.stderr).toBe(
      'sora-build videos: not found (already deleted, expired or unknown): video_doesnotexist\n',
    );
    const again = await p.run(['videos', 'delete', ids[1]!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `sora-build videos: not found (already deleted, expired or unknown): ${ids[1]}\n`,
    );
  });

  it('warns when the deleted video was pinned by a lockfile', async () => {
    const r = await p.run(['videos', 'delete', ids[0]!]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: ${ids[0]} was pinned by harbor (storyboard.lock)`);
  });
});

describe('sora-build videos download', () => {
  it('downloads a video atomically to the requested file', async () => {
    const r = await p.run(['videos', 'download', ids[0]!, '-o', 'dl/harbor.mp4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = await readFile(path.join(p.dir, 'dl/harbor.mp4'));
    expect(r.stdout).toBe(`downloaded ${ids[0]} (video, ${bytes.length} bytes) to dl/harbor.mp4\n`);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const direct = await fetch(`${p.emulator.url}/v1/videos/${ids[0]}/content`, {
      headers: { authorization: `Bearer ${p.env.OPENAI_API_KEY}` },
    });
    expect(Buffer.from(await direct.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await readdir(path.join(p.dir, 'dl'))).toEqual(['harbor.mp4']); // no temp left behind
  });

  it('names the file after the id and variant by default', async () => {
    const r = await p.run(['videos', 'download', ids[1]!, '--variant', 'thumbnail']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`to ${ids[1]}\\.thumbnail\\.webp\\n$`));
    expect(
      (await readFile(path.join(p.dir, `${ids[1]}.thumbnail.webp`))).subarray(8, 12).toString('latin1'),
    ).toBe('WEBP');
  });

  it('fails with exit 1 for a deleted video, writing nothing', async () => {
    await p.run(['videos', 'delete', ids[1]!]);
    const r = await p.run(['videos', 'download', ids[1]!, '-o', 'gone.mp4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sora-build videos: ${ids[1]} not found (already deleted, expired or unknown)\n`);
    expect((await readdir(p.dir)).filter((f) => f.includes('gone'))).toEqual([]);
  });
});

describe('sora-build videos prune', () => {
  it('refuses without --yes when stdin is not a terminal, deleting nothing', async () => {
    const r = await p.run(['videos', 'prune']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('pass --yes to confirm');
    expect(p.log().filter((l) => l.startsWith('DELETE'))).toEqual([]);
  });

  it('asks on a terminal; no means nothing is deleted', async () => {
    const r = await p.run(['videos', 'prune'], { stdinIsTTY: true, stdin: 'n\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ids[1]);
    expect(r.stdout).toContain(
      `Delete 1 remote video no lockfile pins (kept: 1 not generated by this project (--all includes them))? [y/N] Nothing deleted.\n`,
    );
    expect(p.log().filter((l) => l.startsWith('DELETE'))).toEqual([]);
  });

  it("--yes deletes this project's unpinned videos only; --all also the foreign one; pinned ones stay", async () => {
    const r = await p.run(['videos', 'prune', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Deleted 1 remote video.\n');
    expect(p.log().filter((l) => l.startsWith('DELETE'))).toEqual([`DELETE /v1/videos/${ids[1]}`]);

    const dry = await p.run(['videos', 'prune', '--all', '--dry-run']);
    expect(dry.stdout).toContain('Would delete 1 remote video no lockfile pins.\n');
    const all = await p.run(['videos', 'prune', '--all', '--yes']);
    expect(all.code).toBe(0);
    expect(p.log().filter((l) => l.startsWith('DELETE'))).toEqual([
      `DELETE /v1/videos/${ids[1]}`,
      `DELETE /v1/videos/${ids[2]}`,
    ]);
    const left = await p.run(['videos', 'list', '--json']);
    expect((JSON.parse(left.stdout) as { id: string }[]).map((v) => v.id)).toEqual([ids[0]]);
    const nothing = await p.run(['videos', 'prune', '--yes', '--all']);
    expect(nothing.stdout).toBe('Nothing to prune: every finished remote video is pinned by a lockfile.\n');
  });
});

describe('sora-build videos usage', () => {
  it.each([
    [['videos'], 'expected a subcommand: list, delete, download or prune'],
    [['videos', 'remove', 'x'], "unknown subcommand 'remove'"],
    [['videos', 'delete'], 'delete needs at least one video id'],
    [['videos', 'download', 'a', 'b'], 'download needs exactly one video id'],
    [
      ['videos', 'list', '--page-size', '500'],
      'expected --page-size to be an integer from 1 to 100, got 500',
    ],
    [
      ['videos', 'download', 'a', '--variant', 'gif'],
      'expected --variant to be video, thumbnail or spritesheet, got gif',
    ],
  ])('%j exits 2', async (args, message) => {
    const r = await p.run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(p.log()).toEqual([]);
  });
});
