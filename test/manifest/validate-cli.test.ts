/** `sora-build validate`: in-process through the real `main`, and once as a real child process. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.ts';
import { main } from '../../src/cli/main.ts';
import { REPO } from './helpers.ts';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function validate(args: string[], cwd = REPO, env: Record<string, string> = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const ctx: CliContext = {
    cwd,
    env,
    stdout,
    stderr,
    stdin: new PassThrough(),
    signal: new AbortController().signal,
    redact: (t) => t,
  };
  const code = await main(['validate', ...args], ctx);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

describe('sora-build validate', () => {
  it('accepts the launch example: exit 0, a one-line summary on stdout', async () => {
    expect(await validate(['examples/launch/storyboard.yaml'])).toEqual({
      code: 0,
      stdout: 'examples/launch/storyboard.yaml: 5 shots, no problems\n',
      stderr: '',
    });
  });

  it('prints every problem to stderr and exits 2', async () => {
    const run = await validate(['examples/broken/many-problems.yaml']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'examples/broken/many-problems.yaml:10:36: error: Expected `${lok}` to name a variable under `vars:` (look), but there is none by that name; did you mean `${look}`?',
        '    prompt: Wide shot of a harbor, ${lok}.',
        '                                   ~~~~~~',
        'examples/broken/many-problems.yaml:11:14: error: Expected `seconds` to be one of 4, 8, 12 for model sora-2, but found 10',
        '    seconds: 10',
        '             ~~',
        'examples/broken/many-problems.yaml:14:22: error: Expected the reference image "refs/small-640x480.png" to be 1280x720 like the shot, but it is 640x480 (PNG); set `fit: cover` or `fit: contain` to resize it',
        '    input_reference: refs/small-640x480.png',
        '                     ~~~~~~~~~~~~~~~~~~~~~~',
        'examples/broken/many-problems.yaml:17:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `mug`), but found `size`',
        '    size: 720x1280',
        '    ~~~~',
        'examples/broken/many-problems.yaml:20:5: error: Expected a field of shot `teaser` (prompt, model, size, seconds, input_reference, fit, remix_of, extend_of, output, assets, provider, frames, input_video, reference_images, variants, negative_prompt, seed, audio), but found `promt`; did you mean `prompt`?',
        '    promt: Vertical teaser.',
        '    ~~~~~',
        'examples/broken/many-problems.yaml:21:13: error: Expected `output` to stay inside out_dir, but "../teaser.mp4" leads out of it',
        '    output: ../teaser.mp4',
        '            ~~~~~~~~~~~~~',
        'sora-build validate: 6 errors',
        '',
      ].join('\n'),
    );
  });

  it('warnings alone do not fail', async () => {
    const run = await validate(['examples/broken/unknown-model.yaml']);
    expect(run).toEqual({
      code: 0,
      stdout: 'examples/broken/unknown-model.yaml: 2 shots, 1 warning\n',
      stderr:
        'examples/broken/unknown-model.yaml:4:12: warning: Expected a model known for provider type emulator (sora-2, sora-2-2025-10-06, sora-2-2025-12-08, sora-2-pro, sora-2-pro-2025-10-06), but found `veo-3` (in 2 shots); its sizes and seconds are not checked\n' +
        '    model: veo-3\n' +
        '           ~~~~~\n',
    });
  });

  it('errors and warnings are counted together', async () => {
    const run = await validate(['examples/broken/bad-fit.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr.endsWith('\nsora-build validate: 1 error, 1 warning\n')).toBe(true);
  });

  it('--provider and --config take part; a config error is reported in the config file', async () => {
    const legacy = await validate(['examples/broken/remix-unsupported.yaml', '--provider', 'legacy']);
    expect(legacy.code).toBe(2);
    expect(legacy.stderr).toBe(
      'examples/broken/remix-unsupported.yaml:10:15: error: Expected the model of `harbor` to support remix, but sora on provider type azure-sora1 cannot remix a video\n' +
        '    remix_of: harbor\n' +
        '              ~~~~~~\n' +
        'sora-build validate: 1 error\n',
    );
    const config = await validate([
      'examples/broken/configs/storyboard.yaml',
      '--config',
      'examples/broken/configs/provider-not-defined.config.yaml',
    ]);
    expect(config).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'examples/broken/configs/provider-not-defined.config.yaml:2:11: error: Expected `provider` to name one of the providers (azure, emulator), but found azur; did you mean azure?\n' +
        'provider: azur\n' +
        '          ~~~~\n' +
        'sora-build validate: 1 error\n',
    });
  });

  it('reports cycles (found by the graph) and uses storyboard.yaml in the current folder by default', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-validate-'));
    try {
      await writeFile(
        path.join(dir, 'storyboard.yaml'),
        'version: 1\nshots:\n  a:\n    remix_of: b\n    prompt: A.\n  b:\n    remix_of: a\n    prompt: B.\n',
      );
      const run = await validate([], dir);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.split('\n')[0]).toBe('storyboard.yaml:4:15: error: cycle: a -> b -> a');
      expect(run.stderr.endsWith('sora-build validate: 1 error\n')).toBe(true);

      await writeFile(path.join(dir, 'storyboard.yaml'), 'version: 1\nshots:\n  a:\n    prompt: A.\n');
      expect(await validate([], dir)).toEqual({
        code: 0,
        stdout: 'storyboard.yaml: 1 shot, no problems\n',
        stderr: '',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('usage: --help, unknown options, too many manifests', async () => {
    const help = await validate(['--help']);
    expect(help.code).toBe(0);
    expect(
      help.stdout.startsWith('Usage: sora-build validate [MANIFEST] [--config PATH] [--provider NAME]\n'),
    ).toBe(true);
    const bad = await validate(['--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.startsWith("sora-build validate: Unknown option '--nope'")).toBe(true);
    const two = await validate(['a.yaml', 'b.yaml']);
    expect(two.code).toBe(2);
    expect(
      two.stderr.startsWith("sora-build validate: expected one MANIFEST, got 'a.yaml', 'b.yaml'\n"),
    ).toBe(true);
  });

  it('runs as a real process: exit 0 and 2', async () => {
    const run = (args: string[]): Promise<Run> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['bin/sora-build.js', 'validate', ...args],
          { cwd: REPO },
          (error, stdout, stderr) => {
            resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
          },
        );
      });
    const [good, broken] = await Promise.all([
      run(['examples/launch/storyboard.yaml']),
      run(['examples/broken/version-wrong.yaml']),
    ]);
    expect(good).toEqual({
      code: 0,
      stdout: 'examples/launch/storyboard.yaml: 5 shots, no problems\n',
      stderr: '',
    });
    expect(broken).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'examples/broken/version-wrong.yaml:1:10: error: Expected `version` to be 1, but found 2\n' +
        'version: 2\n' +
        '         ~\n' +
        'sora-build validate: 1 error\n',
    });
  });
});
