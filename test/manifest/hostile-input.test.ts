/**
 * The seven failures of issue 17's fuzz campaign, each as the user meets it: a project in a temp folder,
 * `validate` and `plan --json` through the real `main`, the exact diagnostic and exit code 2.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, withTempDir } from '../commands/cli-harness.ts';
import type { CliRun } from '../commands/cli-harness.ts';
import { jpegWithoutScan, lyingPng } from '../fuzz/hostile-cases.ts';
import { findDeepNesting, MAX_YAML_DEPTH } from '../../src/manifest/nesting-depth.ts';
import { REPO } from './helpers.ts';

async function project(dir: string, files: Readonly<Record<string, string | Buffer>>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
}

/** Both commands: the same diagnostics on stderr, exit 2, nothing on stdout. */
async function bothRefuse(dir: string, env: Record<string, string> = {}): Promise<string> {
  const validate = await runCli(['validate'], { cwd: dir, env });
  const plan = await runCli(['plan', '--json'], { cwd: dir, env });
  expect(validate.code).toBe(2);
  expect(plan.code).toBe(2);
  expect(plan.stdout).toBe('');
  const diagnostics = (run: CliRun): string => run.stderr.replace(/sora-build validate: .*\n$/, '');
  expect(diagnostics(plan)).toBe(diagnostics(validate));
  return validate.stderr;
}

const SHOT = 'version: 1\nshots:\n  a:\n    prompt: hi\n';

describe('1. ${env:NAME} reads only variables that are set, never Object.prototype', () => {
  const names = Object.getOwnPropertyNames(Object.prototype);

  it.each(names)('${env:%s} is an unset variable, in validate and plan', async (name) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return; // not a valid variable name: another message
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': `version: 1\nshots:\n  a:\n    prompt: x \${env:${name}}\n` });
      const col = 15;
      expect(await bothRefuse(dir)).toBe(
        `storyboard.yaml:4:${col}: error: Expected the environment variable ${name} to be set (for \`\${env:${name}}\`), but it is not set\n` +
          `    prompt: x \${env:${name}}\n` +
          `              ${'~'.repeat(name.length + 7)}\n` +
          'sora-build validate: 1 error\n',
      );
    });
  });

  it('covers every name of Object.prototype that is a valid variable name', () => {
    expect(names.filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))).toEqual(
      expect.arrayContaining(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']),
    );
  });

  it('a variable that is set is still read (and cached without crashing)', async () => {
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': 'version: 1\nshots:\n  a:\n    prompt: x ${env:valueOf}\n' });
      const env = { valueOf: 'set' };
      for (let i = 0; i < 2; i++) {
        const run = await runCli(['plan', '--json'], { cwd: dir, env });
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
      }
    });
  });
});

describe('2. nesting past the limit is refused before parsing, where the limit is crossed', () => {
  const blockVars = (levels: number): string =>
    `version: 1\nvars:\n${Array.from({ length: levels }, (_, i) => `${'  '.repeat(i + 1)}k${i}:\n`).join('')}shots:\n  a:\n    prompt: hi\n`;

  it('2,000 nested block mappings: the line of level 101', async () => {
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': blockVars(2_000) });
      // The root mapping is level 1, `vars:` level 2, so `k99:` (line 102, column 201) opens level 101;
      // its line of 204 characters is clipped to the 160 before its end.
      expect(await bothRefuse(dir)).toBe(
        'storyboard.yaml:102:201: error: Expected YAML nested at most 100 levels deep, but it goes deeper here\n' +
          `…${' '.repeat(156)}k99:\n` +
          `${' '.repeat(157)}~\n` +
          'sora-build validate: 1 error\n',
      );
    });
  });

  it('10,000 nested flow lists', async () => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml': `version: 1\nvars: ${'['.repeat(10_000)}${']'.repeat(10_000)}\nshots:\n  a:\n    prompt: hi\n`,
      });
      const stderr = await bothRefuse(dir);
      expect(stderr.split('\n')[0]).toBe(
        'storyboard.yaml:2:106: error: Expected YAML nested at most 100 levels deep, but it goes deeper here',
      );
    });
  });

  it('the scan counts brackets in flow collections only, not in prompts or quotes', () => {
    const deepText = `version: 1\nshots:\n  a:\n    prompt: a ${'['.repeat(500)}\n    size: "${'{'.repeat(500)}"\n`;
    expect(findDeepNesting(deepText)).toBeUndefined();
    expect(findDeepNesting(`x: |\n  ${'[ '.repeat(500)}\n`)).toBeUndefined();
    expect(findDeepNesting(`x: ['${'['.repeat(500)}']\n`)).toBeUndefined();
    expect(findDeepNesting(`x: [it's, ${'['.repeat(MAX_YAML_DEPTH)}]\n`)).toEqual({
      // Level 1 the root mapping, 2 the outer list, so the 99th inner `[` (at 10 + 98) opens level 101.
      offset: 10 + MAX_YAML_DEPTH - 2,
    });
    expect(findDeepNesting(`${'- '.repeat(MAX_YAML_DEPTH + 5)}x\n`)).toBeDefined();
  });

  it('a config nested too deeply is refused the same way', async () => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml': SHOT,
        'sora.config.yaml': `version: 1\nproviders: ${'{a: '.repeat(200)}x${'}'.repeat(200)}\n`,
      });
      expect((await bothRefuse(dir)).split('\n')[0]).toBe(
        'sora.config.yaml:2:408: error: Expected YAML nested at most 100 levels deep, but it goes deeper here',
      );
    });
  });
});

describe('3. cache_dir and out_dir are checked on the disk when the config is read', () => {
  const cases = [
    {
      name: 'cache_dir naming a file',
      config: 'cache_dir: a-file',
      message:
        'Expected `cache_dir` to be a folder, or a path where one can be created, but "a-file" is not: it is a file',
      col: 12,
      width: 6,
    },
    {
      name: 'cache_dir below a file',
      config: 'cache_dir: a-file/cache',
      message:
        'Expected `cache_dir` to be a folder, or a path where one can be created, but "a-file/cache" is not: "a-file" is a file',
      col: 12,
      width: 12,
    },
    {
      name: 'cache_dir: /proc/self',
      config: 'cache_dir: /proc/self',
      message:
        'Expected `cache_dir` to be a folder, or a path where one can be created, but "/proc/self" is not: it is inside /proc, a tree of the kernel',
      col: 12,
      width: 10,
    },
    {
      name: 'out_dir: /dev/shm/x',
      config: 'out_dir: /dev/shm/x',
      message:
        'Expected `out_dir` to be a folder, or a path where one can be created, but "/dev/shm/x" is not: it is inside /dev, a tree of the kernel',
      col: 10,
      width: 10,
    },
    {
      name: 'out_dir naming the manifest',
      config: 'out_dir: storyboard.yaml',
      message:
        'Expected `out_dir` to be a folder, or a path where one can be created, but "storyboard.yaml" is not: it is the manifest',
      col: 10,
      width: 15,
    },
    {
      name: 'out_dir through a symlink into /proc',
      config: 'out_dir: proc-link/out',
      message:
        'Expected `out_dir` to be a folder, or a path where one can be created, but "proc-link/out" is not: it leads inside /proc, a tree of the kernel',
      col: 10,
      width: 13,
    },
  ];

  it.each(cases)(
    '$name',
    async ({ config, message, col, width }) => {
      await withTempDir(async (dir) => {
        await project(dir, {
          'storyboard.yaml': SHOT,
          'a-file': 'x',
          'sora.config.yaml': `version: 1\n${config}\n`,
        });
        await symlink('/proc/self', path.join(dir, 'proc-link'));
        expect(await bothRefuse(dir)).toBe(
          `sora.config.yaml:2:${col}: error: ${message}\n${config}\n${' '.repeat(col - 1)}${'~'.repeat(width)}\n` +
            'sora-build validate: 1 error\n',
        );
      });
    },
    20_000,
  );

  it('the default cache folder being a file is reported at the config (also when the config is memoised)', async () => {
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': SHOT, 'sora.config.yaml': 'version: 1\n' });
      expect((await runCli(['validate'], { cwd: dir })).code).toBe(0);
      await project(dir, { out: 'a file where out/ should be' });
      expect(await bothRefuse(dir)).toBe(
        'sora.config.yaml:1:1: error: Expected `out_dir` to be a folder, or a path where one can be created, but "out" is not: it is a file\n' +
          'sora-build validate: 1 error\n',
      );
    });
  });
});

describe('4. output stays proportional: clipped lines, merged repeats, a capped total', () => {
  it('10,000 bad items on one line: three diagnostics per kind, the line clipped around the column', async () => {
    await withTempDir(async (dir) => {
      const items = Array.from({ length: 10_000 }, () => 'x').join(', ');
      await project(dir, {
        'storyboard.yaml': `version: 1\nshots:\n  a:\n    prompt: hi\n    assets: [${items}]\n`,
      });
      const stderr = await bothRefuse(dir);
      const line = `    assets: [${items}]`;
      expect(stderr).toBe(
        'storyboard.yaml:5:13: error: Expected `assets` to list each item once, but "x" appears twice\n' +
          `${line.slice(0, 160)}…\n` +
          `${' '.repeat(12)}${'~'.repeat(148)}\n` +
          [14, 17, 20]
            .map(
              (col) =>
                `storyboard.yaml:5:${col}: error: Expected each item of \`assets\` to be one of video, thumbnail, spritesheet, but found "x"\n` +
                `${line.slice(0, 160)}…\n` +
                `${' '.repeat(col - 1)}~\n`,
            )
            .join('') +
          '    and 9,997 more like it on this line\n' +
          'sora-build validate: 10001 errors\n',
      );
    });
  });

  it('a prompt of 10,000 `${`: the first three, the count, and the last kind', async () => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml': `version: 1\nshots:\n  a:\n    prompt: ${'${ '.repeat(10_000)}\n`,
      });
      const stderr = await bothRefuse(dir);
      expect(stderr.length).toBeLessThan(2_500);
      expect(stderr).toContain('    and 9,996 more like it on this line\n');
    });
  });

  it('many problems on many lines: the first 200, then a count', async () => {
    await withTempDir(async (dir) => {
      const shots = Array.from({ length: 500 }, (_, i) => `  s${i}:\n    prompt: p\n    colour: red\n`).join(
        '',
      );
      await project(dir, { 'storyboard.yaml': `version: 1\nshots:\n${shots}` });
      const stderr = await bothRefuse(dir);
      expect(stderr.match(/: error: /g)).toHaveLength(200);
      expect(
        stderr.endsWith(
          '... and 300 more not shown (the first 200 are above)\nsora-build validate: 500 errors\n',
        ),
      ).toBe(true);
    });
  });

  it('control characters from the file are never printed as such', async () => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml': 'version: 1\nshots:\n  a:\n    prompt: hi\n    "\\e[2J\\u0007": x\n',
      });
      const stderr = await bothRefuse(dir);
      expect(stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
      expect(stderr).toContain('but found `\ufffd[2J\ufffd`');
    });
  });
});

describe('6. refused with the right words', () => {
  it.each([
    {
      name: 'a NUL byte in output',
      field: 'output: "a\\0b.mp4"',
      message: 'Expected `output` to be a file name without control characters, but found "a\\u0000b.mp4"',
      width: 10,
    },
    {
      name: 'a trailing slash on a reference file',
      field: 'input_reference: refs/mug.png/',
      message:
        'Expected `input_reference` to name a file, but "refs/mug.png/" ends in a slash, which names a folder',
      width: 13,
    },
    {
      name: 'a loop of symlinks',
      field: 'input_reference: loop.png',
      message: 'Expected a reference image at "loop.png", but it is a loop of symlinks',
      width: 8,
    },
    {
      name: 'a FIFO behind a symlink',
      field: 'input_reference: fifo-link.png',
      message: 'Expected a reference image file at "fifo-link.png", but it is a FIFO (named pipe)',
      width: 13,
    },
    {
      name: '/dev/zero behind a symlink',
      field: 'input_reference: zero.png',
      message: 'Expected a reference image file at "zero.png", but it is a device',
      width: 8,
    },
  ])('$name', async ({ field, message, width }) => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml': `version: 1\nshots:\n  a:\n    prompt: hi\n    size: 720x1280\n    ${field}\n`,
      });
      await copyFile(path.join(REPO, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png')).catch(
        async () => {
          await mkdir(path.join(dir, 'refs'));
          await copyFile(path.join(REPO, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png'));
        },
      );
      execFileSync('mkfifo', [path.join(dir, 'fifo')]);
      await symlink('fifo', path.join(dir, 'fifo-link.png'));
      await symlink('/dev/zero', path.join(dir, 'zero.png'));
      await symlink('loop.png', path.join(dir, 'loop.png'));
      const col = field.indexOf(': ') + 7;
      expect(await bothRefuse(dir)).toBe(
        `storyboard.yaml:6:${col}: error: ${message}\n    ${field}\n${' '.repeat(col - 1)}${'~'.repeat(width)}\n` +
          'sora-build validate: 1 error\n',
      );
    });
  });

  it('quotas beyond exact whole numbers (1e21)', async () => {
    await withTempDir(async (dir) => {
      const config =
        'version: 1\nproviders:\n  e:\n    type: emulator\n    quota: { creates_per_minute: 1e21 }\n';
      await project(dir, { 'storyboard.yaml': SHOT, 'sora.config.yaml': config });
      expect(await bothRefuse(dir)).toBe(
        'sora.config.yaml:5:34: error: Expected `quota.creates_per_minute` to be a whole number at most 9007199254740991, but found 1e+21\n' +
          '    quota: { creates_per_minute: 1e21 }\n' +
          `${' '.repeat(33)}~~~~\n` +
          'sora-build validate: 1 error\n',
      );
    });
  });

  it('a manifest that is a FIFO is not read (the read would block forever)', async () => {
    await withTempDir(async (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'storyboard.yaml')]);
      const run = await runCli(['validate'], { cwd: dir });
      expect(run.stderr).toBe(
        'sora-build validate: Expected a manifest at storyboard.yaml (the default; name one, or set `manifest:` in sora.config.yaml), but it is a FIFO (named pipe)\n' +
          'sora-build validate: 1 error\n',
      );
      expect(run.code).toBe(2);
    });
  });
});

describe('--config naming a FIFO', () => {
  it('is named as such, never read', async () => {
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': SHOT });
      execFileSync('mkfifo', [path.join(dir, 'pipe')]);
      const run = await runCli(['validate', '--config', 'pipe'], { cwd: dir });
      expect(run.stderr).toBe(
        'sora-build validate: Expected a config file at pipe, but it is a FIFO (named pipe)\n' +
          'sora-build validate: 1 error\n',
      );
      expect(run.code).toBe(2);
    });
  });
});

describe('a lockfile that is not a file', () => {
  it.each([
    ['a FIFO', 'fifo', 'a FIFO (named pipe)'],
    ['/dev/zero behind a symlink', 'zero', 'a device'],
    ['a folder', 'folder', 'a folder'],
  ])('%s: plan says what it is (it never reads it)', async (_name, kind, words) => {
    await withTempDir(async (dir) => {
      await project(dir, { 'storyboard.yaml': SHOT });
      const lock = path.join(dir, 'storyboard.lock');
      if (kind === 'fifo') execFileSync('mkfifo', [lock]);
      else if (kind === 'zero') await symlink('/dev/zero', lock);
      else await mkdir(lock);
      const run = await runCli(['plan', '--json'], { cwd: dir });
      expect(run.stderr).toBe(
        `storyboard.lock:1:1: error: Expected the lockfile to be a file, but it is ${words}\n`,
      );
      expect(run.code).toBe(2);
    });
  });
});

describe('7. validate refuses what the resize in plan would refuse', () => {
  it('with fit: a PNG whose header claims 100000x100000, and a JPEG with no image data', async () => {
    await withTempDir(async (dir) => {
      await project(dir, {
        'storyboard.yaml':
          'version: 1\nshots:\n  a:\n    prompt: x\n    size: 1280x720\n    input_reference: lying.png\n    fit: cover\n' +
          '  b:\n    prompt: y\n    size: 1280x720\n    input_reference: nodata.jpg\n    fit: contain\n',
        'lying.png': lyingPng(100_000, 100_000),
        'nodata.jpg': jpegWithoutScan(640, 480),
      });
      expect(await bothRefuse(dir)).toBe(
        'storyboard.yaml:6:22: error: Expected a reference image of at most 268,402,689 pixels to resize (fit: cover), but "lying.png" is 100000x100000 by its header\n' +
          '    input_reference: lying.png\n' +
          `${' '.repeat(21)}~~~~~~~~~\n` +
          'storyboard.yaml:11:22: error: Expected "nodata.jpg" to be an image that can be decoded to resize it (fit: contain), but it cannot: Input buffer has corrupt header: VipsJpeg: Invalid JPEG file structure: missing SOS marker\n' +
          '    input_reference: nodata.jpg\n' +
          `${' '.repeat(21)}~~~~~~~~~~\n` +
          'sora-build validate: 2 errors\n',
      );
    });
  });
});
