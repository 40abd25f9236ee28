/**
 * One way to give the arguments, for every command: the MANIFEST positionally or as `--manifest PATH`
 * (`-m`), beside SHOT operands for `why` and `reroll`; a "did you mean" for a mistyped command; problems
 * with the command line said as `sora-build CMD: ...`, never as a source diagnostic of `<command line>`.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, withTempDir } from './cli-harness.ts';
import { pinAll } from './pinned-project.ts';

const STORYBOARD = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  harbor: { prompt: A misty harbor at dawn. }
  pier: { prompt: A wooden pier in fog. }
`;

/** A pinned project in films/ (not the current folder), so every command must be told the manifest. */
async function withFilms<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const films = path.join(dir, 'films');
    await mkdir(films);
    await writeFile(path.join(films, 'promo.yaml'), STORYBOARD);
    // pinAll plans the default manifest of its folder; promo.yaml is that manifest through the config.
    await writeFile(path.join(films, 'sora.config.yaml'), 'version: 1\nmanifest: promo.yaml\n');
    await pinAll({ dir: films });
    return fn(dir);
  });
}

describe('the MANIFEST argument, the same in every command', () => {
  it.each([
    [['plan', 'films/promo.yaml']],
    [['plan', '--manifest', 'films/promo.yaml']],
    [['validate', '-m', 'films/promo.yaml']],
    [['status', 'films/promo.yaml']],
    [['status', '--manifest', 'films/promo.yaml']],
    [['why', 'harbor', 'films/promo.yaml']],
    [['why', 'films/promo.yaml', 'harbor']],
    [['why', 'harbor', '--manifest', 'films/promo.yaml']],
    [['reroll', 'harbor', 'films/promo.yaml', '--list']],
    [['reroll', 'harbor', 'pier', '-m', 'films/promo.yaml', '--list']],
    [['build', 'films/promo.yaml', '--reporter', 'plain']],
    [['build', '--manifest', 'films/promo.yaml', '--reporter', 'plain']],
  ])('sora-build %j reads films/promo.yaml', async (args) => {
    await withFilms(async (dir) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toBe('');
    });
  });

  it('a shot operand is never read as the manifest: reroll SHOT MANIFEST rerolls one shot', async () => {
    await withFilms(async (dir) => {
      const r = await runCli(['reroll', 'harbor', 'films/promo.yaml', '--list'], { cwd: dir });
      expect(r.stdout).toMatch(/^harbor \(key [0-9a-f]{12}\): 1 take\n/);
      expect(r.stdout).not.toContain('promo.yaml');
    });
  });

  it.each([
    [
      ['plan', 'a.yaml', '--manifest', 'b.yaml'],
      "sora-build plan: expected one MANIFEST, got 'a.yaml', 'b.yaml'\n",
    ],
    [
      ['why', 'harbor', 'a.yaml', 'b.yaml'],
      "sora-build why: expected one MANIFEST, got 'a.yaml', 'b.yaml'\n",
    ],
    [['why', 'films/promo.yaml'], 'sora-build why: expected one SHOT, got none\n'],
    [
      ['why', 'harbor', 'pier', '-m', 'films/promo.yaml'],
      "sora-build why: expected one SHOT, got 'harbor', 'pier'\n",
    ],
    [['status', 'a', 'b'], "sora-build status: expected one MANIFEST, got 'a', 'b'\n"],
  ])('sora-build %j is a usage error (exit 2)', async (args, message) => {
    await withFilms(async (dir) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr.startsWith(`${message}\nUsage: sora-build ${args[0]}`)).toBe(true);
    });
  });
});

describe('usage errors read as usage errors', () => {
  it('suggests the command meant by a typo', async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(['buidl'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(
        r.stderr.startsWith("sora-build: unknown command 'buidl'; did you mean 'build'?\n\nUsage:"),
      ).toBe(true);
      const far = await runCli(['frobnicate'], { cwd: dir });
      expect(far.stderr.startsWith("sora-build: unknown command 'frobnicate'\n\nUsage:")).toBe(true);
    });
  });

  it.each([
    [
      ['plan', '--provider', 'nope', 'films/promo.yaml'],
      'sora-build plan: Expected --provider to name a provider of the config (emulator), but found nope\n',
    ],
    [
      ['build', 'films/nothing.yaml'],
      'sora-build build: Expected a manifest at films/nothing.yaml, but there is no such file\n',
    ],
    [
      ['validate', '--config', 'nothing.yaml', 'films/promo.yaml'],
      /^sora-build validate: Expected a config file at .*nothing\.yaml, but there is no such file\nsora-build validate: 1 error\n$/,
    ],
    [
      ['status', '--provider', 'nope', 'films/promo.yaml'],
      'sora-build status: Expected --provider to name a provider of the config (emulator), but found nope\n',
    ],
  ])('sora-build %j names the command, not <command line>:1:1', async (args, expected) => {
    await withFilms(async (dir) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.code).toBe(2);
      if (typeof expected === 'string') expect(r.stderr).toBe(expected);
      else expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toContain('<command line>');
    });
  });
});
