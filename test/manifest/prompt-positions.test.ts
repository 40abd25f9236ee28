/**
 * Interpolation problems are reported at the exact `${` in the file, whatever the YAML scalar style, and
 * through aliases; defaults for `fit` and `assets` apply.
 */
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/manifest/load-project.ts';
import { check, REPO } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-build-prompts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function output(manifest: string): Promise<string> {
  await writeFile(path.join(dir, 'storyboard.yaml'), manifest);
  return (await check('storyboard.yaml', { cwd: dir, env: { SET: 'yes' } })).text;
}

describe('positions of interpolation problems', () => {
  it('in double-quoted text with escapes before the `${`', async () => {
    expect(await output('version: 1\nshots:\n  a:\n    prompt: "Say \\"hi\\"\\t${who}"\n')).toBe(
      'storyboard.yaml:4:26: error: Expected `${who}` to name a variable under `vars:`, but the manifest has no `vars:`\n' +
        '    prompt: "Say \\"hi\\"\\t${who}"\n' +
        '                         ~~~~~~\n',
    );
  });

  it("in single-quoted text with '' escapes", async () => {
    expect(await output("version: 1\nshots:\n  a:\n    prompt: 'It''s ${env:UNSET_ONE} time'\n")).toBe(
      'storyboard.yaml:4:20: error: Expected the environment variable UNSET_ONE to be set (for `${env:UNSET_ONE}`), but it is not set\n' +
        "    prompt: 'It''s ${env:UNSET_ONE} time'\n" +
        '                   ~~~~~~~~~~~~~~~~\n',
    );
  });

  it('in a literal block, on its third line, with a bad env name', async () => {
    expect(
      await output(
        'version: 1\nshots:\n  a:\n    prompt: |\n      One ${env:SET}.\n      Two.\n      Three ${env:9LIVES}.\n',
      ),
    ).toBe(
      'storyboard.yaml:7:13: error: Expected an environment variable name (letters, digits and `_`) in `${env:9LIVES}`, but found "9LIVES"\n' +
        '      Three ${env:9LIVES}.\n' +
        '            ~~~~~~~~~~~~~\n',
    );
  });

  it('when the value and the source disagree (an escaped `$`), at the start of the prompt', async () => {
    expect(await output('version: 1\nshots:\n  a:\n    prompt: "\\x24{who} is here"\n')).toBe(
      'storyboard.yaml:4:13: error: Expected `${who}` to name a variable under `vars:`, but the manifest has no `vars:`\n' +
        '    prompt: "\\x24{who} is here"\n' +
        '            ~\n',
    );
  });

  it('through an alias: once, at the anchored text', async () => {
    expect(
      await output('version: 1\nshots:\n  a:\n    prompt: &p Anchored ${nope}.\n  b:\n    prompt: *p\n'),
    ).toBe(
      'storyboard.yaml:4:25: error: Expected `${nope}` to name a variable under `vars:`, but the manifest has no `vars:`\n' +
        '    prompt: &p Anchored ${nope}.\n' +
        '                        ~~~~~~~\n',
    );
  });

  it('an alias used where it does not fit is reported where it is used', async () => {
    expect(
      await output('version: 1\nshots:\n  a:\n    prompt: &p A prompt.\n    model: sora-2\n    size: *p\n'),
    ).toBe(
      'storyboard.yaml:6:11: error: Expected `size` to be WIDTHxHEIGHT like 1280x720, but found "A prompt."\n' +
        '    size: *p\n' +
        '          ~~\n',
    );
  });
});

describe('defaults', () => {
  it('`fit` and `assets` from defaults apply to every shot that does not set them', async () => {
    await copyFile(path.join(REPO, 'examples/broken/refs/small-640x480.png'), path.join(dir, 'a.png'));
    await writeFile(
      path.join(dir, 'storyboard.yaml'),
      'version: 1\ndefaults:\n  size: 1280x720\n  fit: contain\n  assets: [spritesheet]\nshots:\n  a:\n    prompt: A.\n    input_reference: a.png\n  b:\n    prompt: B.\n    assets: [thumbnail]\n  c:\n    remix_of: a\n    prompt: C.\n',
    );
    const p = await loadProject({ cwd: dir, env: {} });
    if (!p.ok) throw new Error(p.diagnostics.map((d) => d.message).join('\n'));
    const shots = [...p.manifest.shots.values()].map((s) => [s.id, s.assets, s.inputReference?.fit]);
    expect(shots).toEqual([
      ['a', ['video', 'spritesheet'], 'contain'],
      ['b', ['video', 'thumbnail'], undefined],
      ['c', ['video', 'spritesheet'], undefined],
    ]);
  });
});
