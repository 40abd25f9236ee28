/**
 * Issue 13's end-to-end test: one storyboard, two providers, one run. Sora 2 shots and a remix go through the
 * Videos API (`type: openai`); Sora 1 shots with two variants, two frames and an input video go through
 * Azure's Sora 1 jobs API (`type: azure-sora1`), both served by one emulator on loopback. Then a rebuild makes
 * no call at all. And the committed Sora 1 example builds offline on the embedded emulator.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, REPO, makeProject, type Project } from './harness.ts';

let project: Project;

beforeAll(async () => {
  project = await makeProject({ speed: 120, emulator: { createsPerMinute: 60, renderSecondsPerSecond: 2 } });
  const emu = project.emulator.url;
  await project.write(
    'sora.config.yaml',
    [
      'version: 1',
      'provider: sora2',
      'providers:',
      '  sora2:',
      '    type: openai',
      `    base_url: ${emu}/v1`,
      '    quota: { creates_per_minute: 60, max_in_flight: 4 }',
      '    pricing: { sora-2: { usd_per_second: 0.1 } }',
      '  sora1:',
      '    type: azure-sora1',
      `    base_url: ${emu}/openai/v1/`,
      '    deployments: { sora: contoso-sora }',
      '    quota: { creates_per_minute: 60 }',
      '    pricing: { sora: { usd_per_second: 0.05 } }',
      '',
    ].join('\n'),
  );
  for (const name of ['dawn.png', 'dusk.png', 'waves.mp4'])
    await project.write(`refs/${name}`, await readFile(join(REPO, 'examples/sora1/refs', name)));
  await project.write(
    'storyboard.yaml',
    [
      'version: 1',
      'defaults: { model: sora-2, size: 1280x720, seconds: 4 }',
      'shots:',
      '  harbor:',
      '    prompt: Wide shot of a misty harbor at dawn.',
      '  harbor-night:',
      '    remix_of: harbor',
      '    prompt: The same harbor at night, lanterns on the water.',
      '  sunrise:',
      '    provider: sora1',
      '    model: sora',
      '    size: 854x480',
      '    seconds: 2',
      '    variants: 2',
      '    prompt: A lighthouse as the sun rises.',
      '    frames:',
      '      - { image: refs/dawn.png, at: first }',
      '      - { image: refs/dusk.png, at: last, crop: { left: 0.1, right: 0.9 } }',
      '  tide:',
      '    provider: sora1',
      '    model: sora',
      '    size: 854x480',
      '    seconds: 3',
      '    prompt: The tide rolls in over the rocks.',
      '    input_video: { video: refs/waves.mp4, at: 0 }',
      '',
    ].join('\n'),
  );
});

afterAll(() => project.close());

const env = { AZURE_OPENAI_API_KEY: API_KEY };

describe('a mixed storyboard through two providers', () => {
  it('builds Sora 2 shots, a remix and Sora 1 shots with variants, frames and an input video in one run', async () => {
    const run = await project.run(['build', '--reporter', 'plain'], { env });
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    const log = project.emulator.requestLog();
    const creates = log
      .filter((r) => r.method === 'POST')
      .map((r) => r.path.replace(/video_[0-9a-f]+/, 'ID'))
      .sort();
    expect(creates).toEqual([
      '/openai/v1/video/generations/jobs',
      '/openai/v1/video/generations/jobs',
      '/v1/videos',
      '/v1/videos/ID/remix',
    ]);
    // The Sora 1 jobs as the service holds them: two variants and two placed frames; one input video.
    const jobs = await fetch(`${project.emulator.url}/openai/v1/video/generations/jobs?api-version=preview`, {
      headers: { 'api-key': API_KEY },
    });
    const data = ((await jobs.json()) as { data: Record<string, unknown>[] }).data;
    const byPrompt = new Map(data.map((j) => [j.prompt as string, j]));
    expect(byPrompt.get('A lighthouse as the sun rises.')).toMatchObject({
      model: 'contoso-sora',
      n_variants: 2,
      n_seconds: 2,
      inpaint_items: [
        { frame_index: 0, type: 'image' },
        {
          frame_index: 59,
          type: 'image',
          crop_bounds: { left_fraction: 0.1, top_fraction: 0, right_fraction: 0.9, bottom_fraction: 1 },
        },
      ],
    });
    expect(byPrompt.get('The tide rolls in over the rocks.')).toMatchObject({
      n_variants: 1,
      inpaint_items: [{ frame_index: 0, type: 'video' }],
    });
    // Each Sora 1 generation's video and thumbnail was downloaded: 2 + 1 generations.
    const contents = log.filter((r) => r.method === 'GET' && /\/content\/video$/.test(r.path));
    expect(new Set(contents.filter((r) => r.path.startsWith('/openai/')).map((r) => r.path)).size).toBe(3);

    const outputs = ['harbor.mp4', 'harbor-night.mp4', 'sunrise/1.mp4', 'sunrise/2.mp4', 'tide.mp4'];
    const bytes = await Promise.all(outputs.map((o) => readFile(join(project.dir, 'out', o))));
    for (const b of bytes) expect(b.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(bytes[2]!.equals(bytes[3]!)).toBe(false); // two variants, two videos
    const lock = await project.read('storyboard.lock');
    expect(lock).toContain('sunrise');
    for (const file of await project.files()) {
      if (file.endsWith('.mp4') || file.includes('/objects/')) continue;
      expect(await readFile(join(project.dir, file), 'latin1'), file).not.toContain(API_KEY);
    }
    expect(`${run.stdout}${run.stderr}`).not.toContain(API_KEY);
  });

  it('a rebuild is a no-op: nothing is sent to either API', async () => {
    project.emulator.clearLog();
    const before = await project.read('storyboard.lock');
    const run = await project.run(['build', '--reporter', 'plain'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('fresh 4');
    expect(project.emulator.requestLog()).toEqual([]);
    expect(await project.read('storyboard.lock')).toBe(before);
  });
  it('reroll --list shows each take with all its variants', async () => {
    const list = await project.run(['reroll', 'sunrise', '--list'], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('videos (variants 1…N)');
    expect(list.stdout).toMatch(/\* 1 +task_\S+ .* sha256:[0-9a-f]{12} sha256:[0-9a-f]{12}/);
  });

  it('why names a change of variants against the pinned ones', async () => {
    const board = await project.read('storyboard.yaml');
    await project.write('storyboard.yaml', board.replace('    variants: 2\n', '    variants: 3\n'));
    try {
      const why = await project.run(['why', 'sunrise'], { env });
      expect(why.code, why.stderr).toBe(0);
      expect(why.stdout).toContain('  variants\n    - 2\n    + 3\n');
    } finally {
      await project.write('storyboard.yaml', board);
    }
  });
});

describe('examples/sora1', () => {
  it('builds offline on the embedded emulator through the Sora 1 API: two variants, two frames, an input video', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sora-build-sora1-example-'));
    try {
      await cp(join(REPO, 'examples/sora1'), dir, { recursive: true });
      const run = await project.run(['build', '--reporter', 'plain', join(dir, 'storyboard.yaml')]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      for (const o of ['sunrise/1.mp4', 'sunrise/2.mp4', 'tide.mp4'])
        expect((await readFile(join(dir, 'out', o))).subarray(4, 8).toString('latin1')).toBe('ftyp');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
