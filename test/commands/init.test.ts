import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, withTempDir } from './cli-harness.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { asShotId } from '../../src/core/brand.ts';
import { PROVIDER_TYPES } from '../../src/config/config-schema.ts';
import {
  CONFIG_TEMPLATE,
  STORYBOARD_TEMPLATE,
  missingIgnoreLines,
  nextCommand,
} from '../../src/cli/commands/init.ts';

describe('init: the Next line works as printed', () => {
  // npx finds a devDependency's bin from any folder under the project that installed it, never elsewhere.
  it.each([
    ['/p', '/p', '/p', 'npx sora-build build'],
    ['/p', '/p/films/promo', '/p', 'cd films/promo && npx sora-build build'],
    ['/p/sub', '/p/other', '/p', 'cd ../other && npx sora-build build'],
    // Outside the project: run from here, where npx found sora-build.
    ['/p', '/tmp/film', '/p', 'npx sora-build build ../tmp/film/storyboard.yaml'],
    ['/p', '/tmp/my film', '/p', "npx sora-build build '../tmp/my film/storyboard.yaml'"],
    // Neither folder is in the project (a global install): npx finds global packages anywhere.
    ['/home/u', '/home/u/film', '/usr/lib', 'cd film && npx sora-build build'],
  ])('from %s into %s (installed in %s): %s', (cwd, dir, root, expected) => {
    expect(nextCommand(cwd, dir, root)).toBe(expected);
  });
});

describe('sora-build init', () => {
  it('scaffolds config, storyboard and .gitignore in an empty folder', async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(['init'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        'created sora.config.yaml\ncreated storyboard.yaml\ncreated .gitignore (.sora-build/, out/)\n\n' +
          'Next: npx sora-build build   # placeholder videos from the embedded emulator\n',
      );
      expect((await readdir(dir)).sort()).toEqual(['.gitignore', 'sora.config.yaml', 'storyboard.yaml']);
      expect(await readFile(path.join(dir, 'sora.config.yaml'), 'utf8')).toBe(CONFIG_TEMPLATE);
      expect(await readFile(path.join(dir, 'storyboard.yaml'), 'utf8')).toBe(STORYBOARD_TEMPLATE);
      expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('.sora-build/\nout/\n');
    });
  });

  it('scaffolds into a named folder, creating it', async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(['init', 'films/promo'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('created films/promo/storyboard.yaml\n');
      expect(r.stdout).toContain('Next: cd films/promo && npx sora-build build');
      expect((await readdir(path.join(dir, 'films/promo'))).sort()).toEqual([
        '.gitignore',
        'sora.config.yaml',
        'storyboard.yaml',
      ]);
    });
  });

  it('refuses to overwrite, naming every file in the way, and writes nothing', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'storyboard.yaml'), 'mine\n');
      await writeFile(path.join(dir, 'sora.config.yaml'), 'mine too\n');
      const r = await runCli(['init'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        "sora-build init: refusing to overwrite 'sora.config.yaml' and 'storyboard.yaml'; nothing was written\n",
      );
      expect(await readFile(path.join(dir, 'storyboard.yaml'), 'utf8')).toBe('mine\n');
      expect((await readdir(dir)).sort()).toEqual(['sora.config.yaml', 'storyboard.yaml']);
    });
  });

  it('refuses when only one of the files exists, leaving the folder untouched', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'sora.config.yaml'), 'mine\n');
      const r = await runCli(['init'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("'sora.config.yaml'");
      expect(r.stderr).not.toContain('storyboard');
      expect(await readdir(dir)).toEqual(['sora.config.yaml']);
    });
  });

  it('appends only the missing lines to an existing .gitignore', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, '.gitignore'), 'node_modules\n/out'); // no trailing newline
      await mkdir(path.join(dir, 'refs'));
      const r = await runCli(['init'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('updated .gitignore (.sora-build/)\n');
      expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n/out\n.sora-build/\n');
    });
  });

  it('leaves a .gitignore that already has both lines byte-identical', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, '.gitignore'), 'out/\n.sora-build\n');
      const r = await runCli(['init'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('.gitignore');
      expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('out/\n.sora-build\n');
    });
  });

  it('rejects unknown options with exit 2', async () => {
    await withTempDir(async (dir) => {
      const r = await runCli(['init', '--force'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Unknown option '--force'");
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it.each([
    ['', ['.sora-build/', 'out/']],
    ['# out/\n', ['.sora-build/', 'out/']],
    ['/.sora-build/\nout\n', []],
    ['outputs/\n', ['.sora-build/', 'out/']],
  ])('missingIgnoreLines(%j)', (text, expected) => {
    expect(missingIgnoreLines(text)).toEqual(expected);
  });
});

describe('the scaffold', () => {
  it('loads as a valid project with no warnings, using the emulator provider', async () => {
    await withTempDir(async (dir) => {
      expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
      const loaded = await loadProject({ cwd: dir, env: {} });
      expect(loaded.ok && loaded.warnings).toEqual([]);
      if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
      expect(loaded.config.provider.type).toBe('emulator');
      expect([...loaded.manifest.shots.keys()]).toEqual(['harbor', 'lighthouse', 'lighthouse-night']);
      expect(loaded.manifest.shots.get(asShotId('harbor'))?.prompt).toBe(
        'Wide establishing shot of a misty harbor at dawn, 35mm film, golden hour, shallow depth of field.',
      );
      expect(loaded.manifest.shots.get(asShotId('lighthouse-night'))?.remixOf).toBe('lighthouse');
    });
  });

  it('passes sora-build validate', async () => {
    await withTempDir(async (dir) => {
      expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
      const r = await runCli(['validate'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('storyboard.yaml: 3 shots, no problems\n');
      expect(r.code).toBe(0);
    });
  });

  it('offers every provider type; --provider TYPE makes that one live with a storyboard its models take', async () => {
    await withTempDir(async (dir) => {
      for (const type of PROVIDER_TYPES) {
        const r = await runCli(['init', type, '--provider', type], { cwd: dir });
        expect(r.code, r.stderr).toBe(0);
        const config = await readFile(path.join(dir, type, 'sora.config.yaml'), 'utf8');
        // Every type is in every scaffold: live when chosen, a commented block otherwise.
        for (const other of PROVIDER_TYPES) expect(config).toContain(`type: ${other} `);
        const loaded = await loadProject({ cwd: path.join(dir, type), env: {} });
        if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
        expect(loaded.warnings, type).toEqual([]);
        expect(loaded.config.provider.type).toBe(type);
      }
      const r = await runCli(['init', 'x', '--provider', 'luma'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `expected --provider to be one of ${PROVIDER_TYPES.join(', ')}, but got "luma"`,
      );
    });
  });
});
