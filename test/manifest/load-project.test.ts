/** loadProject on real files: what a valid project loads to, config discovery, and the rules that need a temp dir. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/manifest/load-project.ts';
import type { LoadedProject } from '../../src/manifest/load-project.ts';
import { ReferenceImageChecker } from '../../src/manifest/reference-images.ts';
import type { ShotConfig } from '../../src/manifest/types.ts';
import { check, REPO } from './helpers.ts';

function loaded(p: LoadedProject): Extract<LoadedProject, { ok: true }> {
  if (!p.ok)
    throw new Error(`expected the project to load, got:\n${p.diagnostics.map((d) => d.message).join('\n')}`);
  return p;
}

/** The messages of a project that did not load (none when it did). */
const problems = (p: LoadedProject): string[] => (p.ok ? [] : p.diagnostics.map((d) => d.message));

/** The parts of a shot that do not carry positions. */
const plain = (s: ShotConfig): Record<string, unknown> => ({
  id: s.id,
  prompt: s.prompt,
  model: s.model,
  size: s.size,
  width: s.width,
  height: s.height,
  seconds: s.seconds,
  remixOf: s.remixOf,
  extendOf: s.extendOf,
  output: s.output,
  assets: s.assets,
  inputReference:
    s.inputReference === undefined
      ? undefined
      : { ...s.inputReference, location: undefined, path: path.relative(REPO, s.inputReference.path) },
});

describe('the launch example', () => {
  it('loads to exactly these shots, in id order, with the emulator at $0', async () => {
    const p = loaded(
      await loadProject({ cwd: REPO, env: {}, manifestPath: 'examples/launch/storyboard.yaml' }),
    );
    const mugDigest = createHash('sha256')
      .update(await readFile(path.join(REPO, 'examples/launch/refs/mug.png')))
      .digest('hex');
    const look = '35mm film, golden hour, shallow depth of field';
    expect([...p.manifest.shots.values()].map(plain)).toEqual([
      {
        id: 'harbor',
        prompt: `Wide establishing shot of a misty harbor at dawn, ${look}.`,
        model: 'sora-2',
        size: '1280x720',
        width: 1280,
        height: 720,
        seconds: 8,
        remixOf: undefined,
        extendOf: undefined,
        output: 'harbor.mp4',
        assets: ['video'],
        inputReference: undefined,
      },
      {
        id: 'mug',
        prompt: `Slow dolly-in on the Contoso ThermoMug on a wooden table, steam rising, ${look}.`,
        model: 'sora-2',
        size: '1280x720',
        width: 1280,
        height: 720,
        seconds: 4,
        remixOf: undefined,
        extendOf: undefined,
        output: 'mug.mp4',
        assets: ['video'],
        inputReference: {
          path: 'examples/launch/refs/mug.png',
          displayPath: 'examples/launch/refs/mug.png',
          fit: 'cover',
          mime: 'image/png',
          width: 640,
          height: 640,
          sourceDigest: mugDigest,
          location: undefined,
        },
      },
      {
        id: 'mug-teal',
        prompt: 'Shift the palette to teal, sand and rust, with a warm backlight.',
        model: 'sora-2',
        size: '1280x720',
        width: 1280,
        height: 720,
        seconds: 4, // inherited from mug, not the default 8
        remixOf: 'mug',
        extendOf: undefined,
        output: 'mug-teal.mp4',
        assets: ['video'],
        inputReference: undefined,
      },
      {
        id: 'mug-teal-night',
        prompt: 'The same scene at night, lit only by a desk lamp, rain on the window.',
        model: 'sora-2',
        size: '1280x720',
        width: 1280,
        height: 720,
        seconds: 4,
        remixOf: 'mug-teal',
        extendOf: undefined,
        output: 'mug-teal-night.mp4',
        assets: ['video'],
        inputReference: undefined,
      },
      {
        id: 'teaser',
        prompt: `Vertical teaser, the Contoso ThermoMug spinning slowly on a turntable, ${look}.`,
        model: 'sora-2',
        size: '720x1280',
        width: 720,
        height: 1280,
        seconds: 8,
        remixOf: undefined,
        extendOf: undefined,
        output: 'social/teaser.mp4',
        assets: ['video', 'thumbnail'],
        inputReference: undefined,
      },
    ]);
    expect(p.warnings).toEqual([]);
    expect(p.manifest.path).toBe(path.join(REPO, 'examples/launch/storyboard.yaml'));
    expect(p.manifest.lockfilePath).toBe(path.join(REPO, 'examples/launch/storyboard.lock'));
    expect(p.manifest.envVarsUsed).toEqual([]);
    expect(p.config.path).toBe(path.join(REPO, 'sora.config.yaml'));
    expect(p.config.root).toBe(REPO);
    expect(p.config.outDir).toBe(path.join(REPO, 'out'));
    expect(p.config.cacheDir).toBe(path.join(REPO, '.sora-build'));
    expect([...p.config.providers.keys()]).toEqual(['emulator', 'azure', 'legacy']);
    const { location: _l, ...emulator } = p.config.provider;
    expect(emulator).toEqual({
      name: 'emulator',
      type: 'emulator',
      baseUrl: undefined,
      auth: 'api-key',
      deployments: {},
      quota: { createsPerMinute: 2, maxInFlight: 4 },
      pricing: {
        'sora-2': { usdPerSecond: 0 },
        'sora-2-2025-10-06': { usdPerSecond: 0 },
        'sora-2-2025-12-08': { usdPerSecond: 0 },
        'sora-2-pro': { usdPerSecond: 0 },
        'sora-2-pro-2025-10-06': { usdPerSecond: 0 },
      },
      renderSecondsPerSecond: undefined,
    });
    // Field positions survive for later stages (the graph, the engine).
    const teal = p.manifest.shots.get('mug-teal' as never)!;
    expect(teal.fieldLocations.remix_of?.range).toEqual({
      offset: (await readFile(p.manifest.path, 'utf8')).indexOf('mug # inherits'),
      length: 3,
    });
  });

  it('--provider azure: the openai adapter, its price, no secret needed', async () => {
    const p = loaded(
      await loadProject({
        cwd: REPO,
        env: {},
        manifestPath: 'examples/launch/storyboard.yaml',
        provider: 'azure',
      }),
    );
    const { location: _l, ...azure } = p.config.provider;
    expect(azure).toEqual({
      name: 'azure',
      type: 'openai',
      baseUrl: 'https://contoso.openai.azure.com/openai/v1/',
      auth: 'api-key',
      deployments: { 'sora-2': 'contoso-sora-2' },
      quota: { createsPerMinute: 2, maxInFlight: 4 },
      pricing: { 'sora-2': { usdPerSecond: 0.1 } },
      renderSecondsPerSecond: undefined,
    });
  });

  it('--provider legacy: azure-sora1 runs two jobs at once, so max_in_flight defaults to 2', async () => {
    const p = loaded(
      await loadProject({
        cwd: REPO,
        env: {},
        manifestPath: 'examples/launch/storyboard.yaml',
        provider: 'legacy',
      }),
    );
    expect(p.config.provider).toMatchObject({
      type: 'azure-sora1',
      quota: { createsPerMinute: 2, maxInFlight: 2 },
    });
  });
});

describe('projects in a temp dir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sora-build-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (rel: string, text: string | Buffer): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };

  it('without a config: the built-in emulator, rooted at the manifest folder, storyboard.yaml by default', async () => {
    await write('storyboard.yaml', 'version: 1\nshots:\n  a:\n    prompt: A.\n');
    const p = loaded(await loadProject({ cwd: dir, env: {} }));
    expect(p.config.path).toBeUndefined();
    expect(p.config.root).toBe(dir);
    expect(p.config.outDir).toBe(path.join(dir, 'out'));
    expect(p.config.provider.type).toBe('emulator');
    expect(p.config.provider.pricing['sora-2']).toEqual({ usdPerSecond: 0 });
    // The API's own defaults.
    expect(plain(p.manifest.shots.get('a' as never)!)).toMatchObject({
      model: 'sora-2',
      size: '720x1280',
      seconds: 4,
    });
  });

  it('an embedded emulator with `api: azure-sora1` speaks Sora 1: its models, limits, quota and $0 price', async () => {
    await write(
      'sora.config.yaml',
      'version: 1\nprovider: offline\nproviders:\n  offline:\n    type: emulator\n    api: azure-sora1\n',
    );
    await write(
      'storyboard.yaml',
      'version: 1\nshots:\n  a:\n    prompt: A.\n    size: 854x480\n    seconds: 15\n',
    );
    const p = loaded(await loadProject({ cwd: dir, env: {} }));
    expect(p.config.provider).toMatchObject({
      type: 'emulator',
      api: 'azure-sora1',
      quota: { createsPerMinute: 2, maxInFlight: 2 },
      pricing: { sora: { usdPerSecond: 0 } },
    });
    expect(plain(p.manifest.shots.get('a' as never)!)).toMatchObject({
      model: 'sora',
      size: '854x480',
      seconds: 15,
    });
    // Sora 1 cannot remix: checked against its table, not the Videos API's.
    await write(
      'storyboard.yaml',
      'version: 1\nshots:\n  a:\n    prompt: A.\n  b:\n    remix_of: a\n    prompt: B.\n',
    );
    expect(problems(await loadProject({ cwd: dir, env: {} })).join('\n')).toContain('cannot remix');
    await write(
      'sora.config.yaml',
      'version: 1\nprovider: offline\nproviders:\n  offline:\n    type: openai\n    api: azure-sora1\n',
    );
    expect(problems(await loadProject({ cwd: dir, env: {} }))).toContain(
      'Expected `api` only for `type: emulator` (the type itself names the API), but provider `offline` is type openai',
    );
  });

  it("finds the config above the manifest's folder, and the config's `manifest:` when none is named", async () => {
    await write(
      'sora.config.yaml',
      'version: 1\nmanifest: boards/main.yaml\nout_dir: videos\ncache_dir: /tmp/abs-cache\nproviders:\n  local:\n    type: emulator\n    render_seconds_per_second: 0.5\n    pricing: { sora-2: { usd_per_second: 0.25 } }\nprovider: local\n',
    );
    await write(
      'boards/main.yaml',
      'version: 1\nshots:\n  a:\n    prompt: A.\n    input_reference: ../refs/a.png\n    fit: contain\n',
    );
    await copyFile(path.join(REPO, 'examples/broken/refs/small-640x480.png'), path.join(dir, 'x.png'));
    await write('refs/a.png', await readFile(path.join(dir, 'x.png')));
    const sub = path.join(dir, 'boards');
    for (const p of [
      loaded(await loadProject({ cwd: dir, env: {} })),
      loaded(await loadProject({ cwd: sub, env: {}, manifestPath: 'main.yaml' })),
    ]) {
      expect(p.config.path).toBe(path.join(dir, 'sora.config.yaml'));
      expect(p.manifest.path).toBe(path.join(dir, 'boards/main.yaml'));
      expect(p.config.outDir).toBe(path.join(dir, 'videos'));
      expect(p.config.cacheDir).toBe('/tmp/abs-cache');
      expect(p.config.provider.name).toBe('local');
      expect(p.config.provider.renderSecondsPerSecond).toBe(0.5);
      // An explicit price wins over the emulator's $0; `emulator` stays available by name.
      expect(p.config.provider.pricing).toEqual({ 'sora-2': { usdPerSecond: 0.25 } });
      expect([...p.config.providers.keys()]).toEqual(['local', 'emulator']);
      expect(p.manifest.shots.get('a' as never)!.inputReference?.displayPath).toBe('refs/a.png');
    }
  });

  it('extend: inherits model and size, seconds are the seconds added; a remix of it lasts the total', async () => {
    await write(
      'storyboard.yaml',
      [
        'version: 1',
        'defaults: { seconds: 4 }',
        'shots:',
        '  base: { prompt: Base., model: sora-2-pro, size: 1792x1024, seconds: 8 }',
        '  more: { extend_of: base, prompt: More., seconds: 12 }',
        '  again: { extend_of: more, prompt: Again. }',
        '  remixed: { remix_of: again, prompt: Remixed. }',
        '',
      ].join('\n'),
    );
    const p = loaded(await loadProject({ cwd: dir, env: {} }));
    const shot = (id: string): Record<string, unknown> => plain(p.manifest.shots.get(id as never)!);
    expect(shot('more')).toMatchObject({
      model: 'sora-2-pro',
      size: '1792x1024',
      seconds: 12,
      extendOf: 'base',
    });
    expect(shot('again')).toMatchObject({
      model: 'sora-2-pro',
      size: '1792x1024',
      seconds: 4,
      extendOf: 'more',
    });
    expect(shot('remixed')).toMatchObject({ model: 'sora-2-pro', seconds: 24, remixOf: 'again' });
  });

  it('interpolation: $${ is a literal ${, env values enter the prompt, numbers keep their spelling', async () => {
    await write(
      'storyboard.yaml',
      'version: 1\nvars:\n  price: 1.50\nshots:\n  a:\n    prompt: "Costs $${price} = $${price}; ${price} USD by ${env:BRAND} and ${env:BRAND}, $5 flat, ${env:CITY}."\n',
    );
    const p = loaded(await loadProject({ cwd: dir, env: { BRAND: 'Contoso', CITY: '' } }));
    expect(p.manifest.shots.get('a' as never)!.prompt).toBe(
      'Costs ${price} = ${price}; 1.50 USD by Contoso and Contoso, $5 flat, .',
    );
    expect(p.manifest.envVarsUsed).toEqual(['BRAND', 'CITY']);
  });

  it('a reference image over 20 MiB is an error, without reading it', async () => {
    const png = await readFile(path.join(REPO, 'examples/broken/refs/frame-1280x720.png'));
    await write('refs/huge.png', png);
    await truncate(path.join(dir, 'refs/huge.png'), 21 * 1024 * 1024);
    await write(
      'storyboard.yaml',
      'version: 1\nshots:\n  a:\n    prompt: A.\n    input_reference: refs/huge.png\n',
    );
    const r = await check('storyboard.yaml', { cwd: dir });
    expect(r.text).toBe(
      'storyboard.yaml:5:22: error: Expected the reference image to be at most 20 MiB (20971520 bytes), but "refs/huge.png" is 22020096 bytes\n' +
        '    input_reference: refs/huge.png\n' +
        '                     ~~~~~~~~~~~~~\n',
    );
  });

  it('a prompt over 32,000 characters after interpolation is an error', async () => {
    const chunk = 'x'.repeat(8000);
    await write(
      'storyboard.yaml',
      `version: 1\nvars:\n  chunk: ${chunk}\nshots:\n  a:\n    prompt: \${chunk}\${chunk}\${chunk}\${chunk}!\n`,
    );
    const r = await check('storyboard.yaml', { cwd: dir });
    expect(r.text).toBe(
      'storyboard.yaml:6:13: error: Expected `prompt` to be at most 32000 characters after interpolation, but it has 32001\n' +
        '    prompt: ${chunk}${chunk}${chunk}${chunk}!\n' +
        '            ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n',
    );
  });

  it('a symlink inside the project that points outside it is outside', async () => {
    await mkdir(path.join(dir, 'project/refs'), { recursive: true });
    await copyFile(path.join(REPO, 'examples/broken/refs/frame-1280x720.png'), path.join(dir, 'secret.png'));
    await symlink(path.join(dir, 'secret.png'), path.join(dir, 'project/refs/link.png'));
    await write('project/sora.config.yaml', 'version: 1\n');
    await write(
      'project/storyboard.yaml',
      'version: 1\nshots:\n  a:\n    prompt: A.\n    size: 1280x720\n    input_reference: refs/link.png\n',
    );
    const r = await check('project/storyboard.yaml', { cwd: dir });
    expect(r.text).toBe(
      'project/storyboard.yaml:6:22: error: Expected the reference image to be inside the project (the folder of sora.config.yaml), but "refs/link.png" is outside it\n' +
        '    input_reference: refs/link.png\n' +
        '                     ~~~~~~~~~~~~~\n',
    );
  });

  it('a cycle loads (the graph reports it) and does not hang', async () => {
    await write(
      'storyboard.yaml',
      'version: 1\nshots:\n  a: { remix_of: b, prompt: A. }\n  b: { remix_of: a, prompt: B. }\n  c: { remix_of: c, prompt: C. }\n',
    );
    const p = loaded(await loadProject({ cwd: dir, env: {} }));
    expect([...p.manifest.shots.keys()]).toEqual(['a', 'b', 'c']);
    expect(p.manifest.shots.get('a' as never)!.remixOf).toBe('b');
  });

  it('reads and hashes each reference image once, however many shots use it', async () => {
    await copyFile(path.join(REPO, 'examples/broken/refs/frame-1280x720.png'), path.join(dir, 'a.png'));
    const checker = new ReferenceImageChecker({ root: dir, rootDescription: 'the test folder' });
    const results = await Promise.all([1, 2, 3].map(() => checker.check(path.join(dir, 'a.png'))));
    expect(checker.filesRead).toBe(1);
    expect(results[0]).toBe(results[2]);
    await checker.check(path.join(dir, 'a.png'));
    expect(checker.filesRead).toBe(1);
  });

  it('loads and analyses a 10,000-shot manifest in linear time', async () => {
    await copyFile(path.join(REPO, 'examples/launch/refs/mug.png'), path.join(dir, 'mug.png'));
    const lines = [
      'version: 1',
      'defaults: { model: sora-2, size: 1280x720, seconds: 8 }',
      'vars: { look: 35mm film }',
      'shots:',
    ];
    for (let i = 0; i < 10_000; i++) {
      const id = `s${String(i).padStart(5, '0')}`;
      lines.push(`  ${id}:`, `    prompt: Shot ${i} of the campaign, \${look}.`);
      if (i % 3 === 1) lines.push(`    remix_of: s${String(i - 1).padStart(5, '0')}`);
      else if (i % 10 === 0) lines.push('    input_reference: mug.png', '    fit: cover');
      if (i % 7 === 0) lines.push(`    output: campaign/${id}.mp4`, '    assets: [video, thumbnail]');
    }
    await write('storyboard.yaml', `${lines.join('\n')}\n`);
    await loadProject({ cwd: dir, env: {} }); // warm up the JIT
    // CPU time, not wall time: other test files share the machine's cores.
    const start = process.cpuUsage();
    const wall = performance.now();
    const p = loaded(await loadProject({ cwd: dir, env: {} }));
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    console.log(`10,000 shots: ${ms.toFixed(0)} ms CPU, ${(performance.now() - wall).toFixed(0)} ms wall`);
    expect(p.manifest.shots.size).toBe(10_000);
    // About 0.5 s on an idle machine, most of it the YAML parser; a quadratic step would take minutes.
    expect(ms).toBeLessThan(3000);
  });
});
