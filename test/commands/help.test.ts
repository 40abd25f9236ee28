/**
 * Help that a newcomer can act on: `sora-build --help` names the default provider and where MANIFEST
 * comes from; every command's `--help` ends with one example, and the examples run as printed in a
 * project made by `sora-build init` (the two that run until Ctrl-C, `watch` and `emulator`, are only
 * parsed here; test/watch covers watch as a process).
 */
import { describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli, withTempDir } from './cli-harness.ts';

const COMMANDS = [
  'build',
  'plan',
  'validate',
  'watch',
  'status',
  'why',
  'reroll',
  'review',
  'videos',
  'gc',
  'emulator',
  'init',
] as const;

/** The example line of a command's help, as arguments after `npx sora-build`. */
async function example(command: string): Promise<string[]> {
  const help = await runCli([command, '--help'], { cwd: '/' });
  expect(help.code).toBe(0);
  const match = /\nExample \(in a project made by `sora-build init`\):\n {2}npx sora-build (.+)\n$/.exec(
    help.stdout,
  );
  expect(match, `${command} --help ends with an example`).not.toBeNull();
  return match![1]!.split(' ');
}

describe('help', () => {
  it('sora-build --help says where the manifest and the provider come from', async () => {
    const r = await runCli(['--help'], { cwd: '/' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'MANIFEST defaults to the `manifest:` of sora.config.yaml (found in the current folder or above),\n' +
        'else storyboard.yaml in the current folder.',
    );
    expect(r.stdout).toContain('by default, and without a config, it is `emulator`: the embedded emulator');
    expect(r.stdout).toContain('Start with `npx sora-build init`, then `npx sora-build build`.\n');
  });

  it('every command has an example, each for that command', async () => {
    for (const command of COMMANDS) expect((await example(command))[0]).toBe(command);
  });

  it('the examples run as printed in a new project', async () => {
    await withTempDir(async (dir) => {
      const env = { SORA_BUILD_CLOCK: 'scaled:200' };
      const project = path.join(dir, 'project');
      await mkdir(project);
      expect((await runCli(['init'], { cwd: project, env })).code).toBe(0);
      // In the order a newcomer would try them: build first, so status, why and reroll have a pinned shot.
      for (const command of [
        'build',
        'plan',
        'validate',
        'status',
        'why',
        'reroll',
        'videos',
        'gc',
        'init',
      ]) {
        const args = await example(command);
        const r = await runCli(args, { cwd: project, env });
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      }
    });
  });
});
