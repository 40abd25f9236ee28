/**
 * `type: vertex-veo` end to end: the real CLI (a child process) builds a storyboard through `@google/genai`
 * against the emulator's Vertex routes, authenticated by Google's Application Default Credentials against
 * the emulator's metadata server (GCE_METADATA_HOST; no key file, no Google host). A rebuild makes no call; a
 * kill -9 between submit and completion resumes the same operation; a safety-filtered result fails with
 * Google's reasons and that build does not submit it again (a later `build` is the user's explicit retry).
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScaledClock } from '../../src/core/clock.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { makePng, probeMedia } from '../emulator/helpers.ts';
import { API_KEY, makeProject } from './harness.ts';
import type { CliResult, Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

const MODEL = 'veo-3.1-fast-generate-001';
let projects: Project[] = [];
afterEach(async () => {
  await Promise.all(projects.map((p) => p.close()));
  projects = [];
});

/** A project whose only provider is Veo on the emulator; the emulator's token is the harness's API key. */
async function veoProject(storyboard: string, createsPerMinute = 10_000): Promise<Project> {
  const project = await makeProject({
    speed: 120,
    emulator: { createsPerMinute, renderFps: 1, seed: 14 },
  });
  projects.push(project);
  await project.write(
    'sora.config.yaml',
    [
      'version: 1',
      'provider: veo',
      'providers:',
      '  veo:',
      '    type: vertex-veo',
      '    project: demo-project',
      '    location: us-central1',
      `    base_url: ${project.emulator.url}`,
      // More than the emulator takes, so the service's 429 (not our own lane) is what holds a create back.
      '    quota: { creates_per_minute: 100, max_in_flight: 4 }',
      `    pricing: { ${MODEL}: { usd_per_second: 0.15 } }`,
      '',
    ].join('\n'),
  );
  await project.write('refs/first.png', makePng(1280, 720));
  await project.write('storyboard.yaml', storyboard);
  return project;
}

/** Application Default Credentials find "a Google Cloud VM" (the emulator) and nothing else on this machine. */
function adcEnv(project: Project): Record<string, string> {
  return {
    GCE_METADATA_HOST: project.emulator.url.replace(/^http:\/\//, ''),
    GOOGLE_APPLICATION_CREDENTIALS: '',
    CLOUDSDK_CONFIG: join(project.dir, '.no-gcloud'),
    GOOGLE_CLOUD_PROJECT: '',
    GOOGLE_API_KEY: '',
    GEMINI_API_KEY: '',
  };
}

function build(project: Project, env: Record<string, string> = {}): Promise<CliResult> {
  return project.run(['build', '--reporter', 'plain'], { env: { ...adcEnv(project), ...env } });
}

/** Vertex calls in the emulator's log, as `verb model` (`create`/`poll`), with the operation they name. */
function vertexCalls(emulator: EmulatorHandle): { call: string; op: string | undefined }[] {
  return emulator
    .requestLog()
    .filter((e) => e.path.startsWith('/v1beta1/'))
    .map((e) => ({
      call: `${e.path.endsWith(':predictLongRunning') ? 'create' : 'poll'} ${e.status}`,
      op: e.videoId,
    }));
}

const STORYBOARD = [
  'version: 1',
  'defaults:',
  `  model: ${MODEL}`,
  '  size: 1280x720',
  '  seconds: 4',
  'shots:',
  '  opening:',
  '    prompt: A lighthouse at dusk, the beam sweeping over the water.',
  '    input_reference: refs/first.png',
  '',
].join('\n');

describe('sora-build with type: vertex-veo', () => {
  it('builds through @google/genai with ADC, and a rebuild makes no call', async () => {
    const p = await veoProject(STORYBOARD);
    const first = await build(p);
    expect(first.stderr + first.stdout).toMatch(/built 1 · fresh 0/);
    expect(first.code).toBe(0);
    const media = await probeMedia(await readFile(join(p.dir, 'out', 'opening.mp4')));
    expect(media).toMatchObject({ width: 1280, height: 720 });
    const calls = vertexCalls(p.emulator);
    expect(calls[0]?.call).toBe('create 200');
    expect(calls.slice(1).every((c) => c.call === 'poll 200' && c.op === calls[0]!.op)).toBe(true);
    // The token came from the metadata server, through google-auth-library's own detection.
    expect(p.emulator.requestLog().map((e) => e.path)).toContain(
      '/computeMetadata/v1/instance/service-accounts/default/token',
    );
    const lock = await p.read('storyboard.lock');
    expect(lock).toContain('family: "vertex-veo"');
    expect(lock).toMatch(
      /video_id: "projects\/demo-project\/locations\/us-central1\/publishers\/google\/models\/veo-3\.1-fast-generate-001\/operations\/[0-9a-f-]{36}"/,
    );

    p.emulator.clearLog();
    const again = await build(p);
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/fresh 1/);
    expect(vertexCalls(p.emulator)).toEqual([]);
    expect(await p.read('storyboard.lock')).toBe(lock);
    // The token (the harness's key here) is in no file and no output.
    for (const file of await p.files())
      expect(await p.read(file).catch(() => ''), file).not.toContain(API_KEY);
    expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain(API_KEY);
  });

  it('first and last frames, and reference images, build through the SDK; a new last frame rebuilds only that shot', async () => {
    const p = await veoProject(
      [
        'version: 1',
        'defaults:',
        `  model: ${MODEL}`,
        '  size: 1280x720',
        'shots:',
        '  arc:',
        '    prompt: The lighthouse from dusk to night.',
        '    seconds: 6',
        '    frames:',
        '      - { image: refs/first.png, at: first }',
        '      - { image: refs/last.png, at: last }',
        '  styled:',
        '    prompt: The keeper walks the gallery.',
        '    seconds: 8',
        '    reference_images: [refs/keeper.png, refs/lamp.png]',
        '',
      ].join('\n'),
    );
    await p.write('refs/last.png', makePng(1280, 720, 0x30));
    await p.write('refs/keeper.png', makePng(640, 360, 0x50));
    await p.write('refs/lamp.png', makePng(640, 360, 0x70));
    const first = await build(p);
    expect(first.stdout + first.stderr).toMatch(/built 2 · fresh 0/);
    expect(first.code).toBe(0);
    // The emulator refuses a last frame without a first, references with frames, and references at 4 s or 6 s:
    // two accepted creates mean both requests carried what the shots asked for, in Vertex's own shape.
    expect(vertexCalls(p.emulator).filter((c) => c.call === 'create 200')).toHaveLength(2);
    for (const shot of ['arc', 'styled'])
      expect(await probeMedia(await readFile(join(p.dir, 'out', `${shot}.mp4`)))).toMatchObject({
        width: 1280,
      });

    p.emulator.clearLog();
    await p.write('refs/last.png', makePng(1280, 720, 0x90));
    const again = await build(p);
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/built 1 · fresh 1/);
    expect(vertexCalls(p.emulator).filter((c) => c.call.startsWith('create'))).toHaveLength(1);
  });

  it('waits out a 429 RESOURCE_EXHAUSTED and then builds the shot', async () => {
    const p = await veoProject(`${STORYBOARD}  second:\n    prompt: The same lighthouse at night.\n`);
    // An emulator on the CLI's own scaled clock, speed included, taking one create a minute: the RetryInfo
    // delay it sends is real time, as Vertex's is, and the CLI scales it back exactly. (The harness's emulator
    // does not know the CLI's speed, so its waits would be read as 120 times too long.)
    const [, speed, epoch] = p.clockSpec.split(':').map(Number);
    const veo = await startEmulator({
      clock: new ScaledClock({ speed: speed!, epoch: epoch! }),
      createsPerMinute: 1,
      renderFps: 1,
      seed: 14,
      apiKeys: [API_KEY],
    });
    try {
      await p.write('sora.config.yaml', (await p.read('sora.config.yaml')).replace(p.emulator.url, veo.url));
      const result = await build(p, { GCE_METADATA_HOST: veo.url.replace(/^http:\/\//, '') });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout + result.stderr).toMatch(/built 2/);
      const creates = vertexCalls(veo).filter((c) => c.call.startsWith('create'));
      expect(creates.map((c) => c.call)).toContain('create 429');
      expect(creates.filter((c) => c.call === 'create 200')).toHaveLength(2);
    } finally {
      await veo.close();
    }
  });

  it('without credentials, stops before sending anything', async () => {
    const p = await veoProject(STORYBOARD);
    // Nothing answers at this address: ADC finds no credentials anywhere.
    const result = await build(p, { GCE_METADATA_HOST: '127.0.0.1:9' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /no Google credentials.*gcloud auth application-default login.*nothing was sent/s,
    );
    expect(vertexCalls(p.emulator)).toEqual([]);
  });

  it('a safety-filtered result fails the build with Google’s reasons, submitted once (no automatic resubmit)', async () => {
    const p = await veoProject(STORYBOARD.replace('A lighthouse', 'A forbidden lighthouse'));
    p.emulator.setFaults({ moderationWords: ['forbidden'] });
    const result = await build(p);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(
      /\[opening\] failed: rai_media_filtered: Veo filtered 1 video \(Responsible AI\): Veo could not generate 1 videos .*usage guidelines.*Support codes: \d+/,
    );
    expect(vertexCalls(p.emulator).filter((c) => c.call.startsWith('create'))).toHaveLength(1);
    await expect(access(join(p.dir, 'out', 'opening.mp4'))).rejects.toThrow();
  });
});

/**
 * A project whose build was killed by `crash-after-write:N` where `wanted` holds: the 6th durable write is
 * the journal's record of the operation today (the 4th its intent); should the engine's writes change, the
 * other N are tried on fresh projects, so the test does not depend on how many writes come first.
 */
async function crashedWhere(
  hint: number,
  wanted: (state: { creates: number; journal: string; placed: boolean }) => boolean,
): Promise<Project> {
  for (const n of [hint, ...Array.from({ length: 20 }, (_, i) => i + 1).filter((i) => i !== hint)]) {
    const p = await veoProject(STORYBOARD);
    const crashed = await build(p, { SORA_BUILD_TEST_FAULTS: `crash-after-write:${n}` });
    expect(crashed.signal, `crash-after-write:${n} should kill the build`).toBe('SIGKILL');
    const journal = await p.read('.sora-build/journal/journal.ndjson').catch(() => '');
    const placed = await access(join(p.dir, 'out', 'opening.mp4')).then(
      () => true,
      () => false,
    );
    if (wanted({ creates: vertexCalls(p.emulator).length, journal, placed })) return p;
    await p.close();
    projects = projects.filter((q) => q !== p);
  }
  throw new Error('no such crash point was found');
}

describe('a kill -9 between submit and completion', () => {
  it('the next build resumes the same operation: one create, polls of that operation, the video placed', async () => {
    const p = await crashedWhere(
      6,
      (s) => s.creates === 1 && s.journal.includes('/operations/') && !s.placed,
    );
    const [create] = vertexCalls(p.emulator);
    expect(create?.call).toBe('create 200');
    await expect(access(join(p.dir, 'out', 'opening.mp4'))).rejects.toThrow();

    const resumed = await build(p);
    expect(resumed.code).toBe(0);
    const calls = vertexCalls(p.emulator);
    expect(calls.filter((c) => c.call.startsWith('create'))).toHaveLength(1);
    expect(calls.slice(1).length).toBeGreaterThan(0);
    expect(calls.slice(1).every((c) => c.call === 'poll 200' && c.op === create!.op)).toBe(true);
    expect(await probeMedia(await readFile(join(p.dir, 'out', 'opening.mp4')))).toMatchObject({
      width: 1280,
      height: 720,
    });
    expect(await p.read('storyboard.lock')).toContain(`/operations/${create!.op}"`);
  });

  it('a kill after the intent and before the create: Veo cannot list, so nothing is created again and the shot says why', async () => {
    const p = await crashedWhere(
      4,
      (s) => s.creates === 0 && s.journal.includes('"intent"') && !s.journal.includes('/operations/'),
    );
    const next = await build(p);
    expect(next.code).toBe(1);
    expect(next.stdout + next.stderr).toMatch(/cannot list its jobs.*nothing was created again/);
    expect(vertexCalls(p.emulator)).toEqual([]);
  });
});
