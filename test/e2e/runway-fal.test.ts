/**
 * `type: runway` and `type: fal` end to end: the real CLI (child process) builds through the real
 * `@runwayml/sdk` / `@fal-ai/client` against the emulator on loopback, pointed there by `base_url` like any
 * project would be. Per type: frames (and, for fal, reference images) build, a 429 is waited out, a rebuild
 * makes no call, a safety failure costs one submit and names its reason, and a kill between submit and
 * completion resumes the same job.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkMp4 } from '../../src/cache/mp4-check.ts';
import { ScaledClock } from '../../src/core/clock.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { makePng } from '../emulator/helpers.ts';
import { API_KEY, makeProject } from './harness.ts';
import type { Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

interface Case {
  readonly type: 'runway' | 'fal';
  readonly keyVariable: string;
  readonly baseUrl: (emulator: string) => string;
  readonly model: string;
  /** Creates in the request log (paid or refused). */
  readonly isCreate: (path: string) => boolean;
  /** Whether a request reads the job `id`. */
  readonly readsJob: (path: string, id: string) => boolean;
  /** The reason a blocked prompt's failure names. */
  readonly safetyCode: string;
  /** The create routes of the framed build's two shots, sorted. */
  readonly routes: readonly string[];
  /** Extra shots only this type's models take (reference images on fal's Veo 3.1). */
  readonly extraShots: string;
}

const CASES: readonly Case[] = [
  {
    type: 'runway',
    keyVariable: 'RUNWAYML_API_SECRET',
    baseUrl: (url) => url,
    model: 'veo3.1_fast',
    isCreate: (path) => /^\/v1\/(text|image)_to_video$/.test(path),
    readsJob: (path, id) => path === `/v1/tasks/${id}`,
    safetyCode: 'SAFETY.INPUT.TEXT',
    routes: ['/v1/image_to_video', '/v1/text_to_video'],
    extraShots: '',
  },
  {
    type: 'fal',
    keyVariable: 'FAL_KEY',
    baseUrl: (url) => `${url}/fal/queue`,
    model: 'fal-ai/veo3.1',
    isCreate: (path) =>
      /^\/fal\/queue\/fal-ai\/veo3\.1(\/[a-z-]+)?$/.test(path) && !path.includes('/requests'),
    readsJob: (path, id) => path.includes(`/requests/${id}`),
    safetyCode: 'content_policy_violation',
    routes: ['/fal/queue/fal-ai/veo3.1', '/fal/queue/fal-ai/veo3.1/first-last-frame-to-video'],
    extraShots: '',
  },
];

let project: PartnerProject | undefined;
afterEach(async () => {
  await project?.partner.close();
  await project?.close();
  project = undefined;
});

/** A project whose provider is `c.type` at an emulator of its own. */
interface PartnerProject extends Project {
  /** The emulator the provider points at (the harness's own stays unused). */
  readonly partner: EmulatorHandle;
}

async function partnerProject(
  c: Case,
  options: { speed: number; createsPerMinute: number },
): Promise<PartnerProject> {
  const p = await makeProject({ speed: options.speed });
  // The emulator runs on the CLI's scaled clock, speed included, so the waits it asks for (a 429's
  // retry-after-ms) are real time, as a service's are, and the CLI scales them back exactly.
  const [, speed, epoch] = p.clockSpec.split(':').map(Number);
  const partner = await startEmulator({
    clock: new ScaledClock({ speed: speed!, epoch: epoch! }),
    createsPerMinute: options.createsPerMinute,
    renderFps: 1,
    seed: 5,
    apiKeys: [API_KEY],
  });
  await writeFile(
    join(p.dir, 'sora.config.yaml'),
    [
      'version: 1',
      `provider: ${c.type}`,
      'providers:',
      `  ${c.type}:`,
      `    type: ${c.type}`,
      `    base_url: ${c.baseUrl(partner.url)}`,
      // Above the emulator's own limit, so its 429 is what the build meets and waits out.
      '    quota: { creates_per_minute: 100, max_in_flight: 4 }',
      `    pricing: { ${c.model}: { usd_per_second: 0.15 } }`,
      '',
    ].join('\n'),
  );
  await p.write('refs/first.png', makePng(1280, 720));
  await p.write('refs/last.png', makePng(1280, 720));
  return Object.assign(p, { partner });
}

const storyboard = (c: Case, shots: string): string =>
  `version: 1
defaults:
  model: ${c.model}
  size: 1280x720
  seconds: 4
shots:
${shots}${c.extraShots}`;

const FRAMED_SHOTS = `  opening:
    prompt: A paper boat drifts down a rain gutter.
    frames:
      - { image: refs/first.png, at: first }
      - { image: refs/last.png, at: last }
  teaser:
    prompt: A lighthouse beam sweeping through fog.
`;

describe.each(CASES)('type: $type', (c) => {
  const env = { [c.keyVariable]: API_KEY };

  it('builds frames through its SDK, waits out a 429, and a rebuild makes no call', async () => {
    project = await partnerProject(c, { speed: 60, createsPerMinute: 1 });
    await project.write('storyboard.yaml', storyboard(c, FRAMED_SHOTS));
    const first = await project.run(['build', '--reporter', 'plain'], { env });
    expect(first.stderr, first.stdout).toBe('');
    expect(first.code).toBe(0);
    const creates = project.partner.requestLog().filter((r) => r.method === 'POST' && c.isCreate(r.path));
    // Two shots, one create window per minute: the second create met a 429 and was sent again after it.
    expect(creates.map((r) => r.status)).toEqual([200, 429, 200]);
    // The framed shot went to the API's first-and-last-frame route, the other to text-to-video.
    expect(
      creates
        .filter((r) => r.status === 200)
        .map((r) => r.path)
        .sort(),
    ).toEqual(c.routes);
    for (const shot of ['opening', 'teaser']) {
      const info = await checkMp4(join(project.dir, 'out', `${shot}.mp4`));
      expect(info.ok && [info.value.width, info.value.height]).toEqual([1280, 720]);
    }
    const lock = await project.read('storyboard.lock');
    expect(lock).toContain('opening:');

    project.partner.clearLog();
    const again = await project.run(['build', '--reporter', 'plain'], { env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(project.partner.requestLog()).toEqual([]);
    expect(await project.read('storyboard.lock')).toBe(lock);
    for (const r of [first, again]) expect(r.stdout + r.stderr).not.toContain(API_KEY);
  });

  it('fails a safety-blocked shot with its reason after one submit', async () => {
    project = await partnerProject(c, { speed: 2000, createsPerMinute: 100 });
    project.partner.setFaults({ moderationWords: ['forbidden'] });
    await project.write(
      'storyboard.yaml',
      storyboard(c, '  blocked:\n    prompt: Something forbidden happens here.\n'),
    );
    const run = await project.run(['build', '--reporter', 'plain'], { env });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(c.safetyCode);
    const creates = project.partner.requestLog().filter((r) => r.method === 'POST' && c.isCreate(r.path));
    expect(creates).toHaveLength(1);
  });

  it('resumes the same job after a kill between submit and completion', async () => {
    // Slow enough that the job is still rendering when the build is killed.
    project = await partnerProject(c, { speed: 30, createsPerMinute: 100 });
    await project.write('storyboard.yaml', storyboard(c, '  solo:\n    prompt: A kite over dunes.\n'));
    const child = project.spawn(['build', '--reporter', 'plain'], { env });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, s) => resolve(s)),
    );
    // The first read of the job comes after its handle is in the journal: kill the build right there.
    let jobId: string | undefined;
    for (let i = 0; i < 2000 && jobId === undefined; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const log = project.partner.requestLog();
      const created = log.find((r) => r.method === 'POST' && c.isCreate(r.path) && r.status === 200);
      if (
        created?.videoId !== undefined &&
        log.some((r) => r.method === 'GET' && c.readsJob(r.path, created.videoId!))
      )
        jobId = created.videoId;
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(jobId).toBeDefined();

    project.partner.clearLog();
    const rerun = await project.run(['build', '--reporter', 'plain'], { env });
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    const log = project.partner.requestLog();
    expect(log.filter((r) => r.method === 'POST' && c.isCreate(r.path))).toEqual([]);
    expect(log.some((r) => c.readsJob(r.path, jobId!))).toBe(true);
    const info = await checkMp4(join(project.dir, 'out', 'solo.mp4'));
    expect(info.ok).toBe(true);
  });
});
