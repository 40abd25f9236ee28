/**
 * `type: openai` pointed at an OpenAI-compatible gateway (LiteLLM, new-api): the real CLI against the emulator
 * answering in each gateway's shape (the `gateway` fault). Odd statuses keep a job polling, odd ids are kept
 * verbatim, a "completed" job with no video is a failure (once, not a retry loop), and a remix the config
 * says the gateway cannot do is refused before any request.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayShape } from '../../src/emulator/emulator-faults.ts';
import { createRequests, makeProject } from './harness.ts';
import type { Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

let project: Project | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const TWO_SHOTS = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn.
  mug:
    prompt: Slow dolly-in on a mug, a forbidden word in it.
`;

async function gatewayProject(shape: Exclude<GatewayShape, 'off'>, gateway: string): Promise<Project> {
  const p = await makeProject({ emulator: { faults: { gateway: shape, moderationWords: ['forbidden'] } } });
  const config = await p.read('sora.config.yaml');
  await p.write(
    'sora.config.yaml',
    config.replace('    type: openai\n', `    type: openai\n    gateway: ${gateway}\n`),
  );
  return p;
}

describe('building through an OpenAI-compatible gateway', () => {
  it('refuses a remix at plan time when the config says the gateway cannot remix, sending nothing', async () => {
    project = await gatewayProject('litellm', '{}');
    await project.write(
      'storyboard.yaml',
      `${TWO_SHOTS}  mug-teal:\n    remix_of: harbor\n    prompt: Shift the palette to teal.\n`,
    );
    const result = await project.run(['build', '--reporter', 'plain']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "storyboard.yaml:9:15: error: Expected provider `local` to remix `harbor`, but it is an OpenAI-compatible gateway configured without remix (`gateway.remix` is false); make `mug-teal` a new shot, or set `gateway.remix: true` if the gateway's model can remix",
    );
    // Again, from the memo of the config's reading: the refusal does not depend on a fresh parse.
    const again = await project.run(['validate']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('configured without remix');
    expect(project.emulator.requestLog()).toEqual([]);
  });

  it('LiteLLM shape: `processing`, base64 ids echoed differently; a completed job without a video fails once', async () => {
    project = await gatewayProject('litellm', '{ remix: false }');
    await project.write('storyboard.yaml', TWO_SHOTS);
    const result = await project.run(['build', '--reporter', 'plain']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[harbor] built out/harbor.mp4');
    expect(result.stdout).toMatch(
      /\[mug\] failed: completed_without_video: the gateway reported the job completed but served no video \(HTTP 500: .*No response data/,
    );
    expect(createRequests(project.emulator)).toHaveLength(2);
    // The mug's content was asked for exactly once: a terminal failure, not a retry loop.
    const log = project.emulator.requestLog();
    const created = log.filter((r) => r.method === 'POST').map((r) => r.videoId ?? '');
    const fetched = new Set(
      log.filter((r) => r.path.endsWith('/content') && r.status === 200).map((r) => r.videoId),
    );
    const [harborId, mugId] = [created.find((id) => fetched.has(id)), created.find((id) => !fetched.has(id))];
    expect(mugId).toMatch(/^video_[A-Za-z0-9+/]+=*$/);
    expect(
      log.filter((r) => r.path.endsWith('/content') && r.videoId === mugId).map((r) => r.status),
    ).toEqual([500]);
    // The lockfile pins the id the create answered, not the spelling a read echoed.
    expect(Buffer.from(harborId!.slice(6), 'base64').toString()).toContain(';model_id:sora-2;');
    expect(await project.read('storyboard.lock')).toContain(harborId);
    // Polls were answered with the other spelling (LiteLLM drops the model on reads) and went on working.
    expect(log.filter((r) => r.method === 'GET' && !r.path.endsWith('/content')).length).toBeGreaterThan(0);
  });

  it.each(['new-api', 'upper-case'] as const)(
    '%s shape: `unknown`/NOT_START and task ids build green, and a rebuild sends nothing',
    async (shape) => {
      project = await gatewayProject(shape, '{ remix: true }');
      await project.write('storyboard.yaml', TWO_SHOTS.replace('a forbidden word in it', 'steam rising'));
      const first = await project.run(['build', '--reporter', 'plain']);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/built 2 · fresh 0 · cached 0 · failed 0 · blocked 0/);
      expect(await project.read('storyboard.lock')).toMatch(/task_[0-9a-f]{32}/);
      project.emulator.clearLog();
      const second = await project.run(['build', '--reporter', 'plain']);
      expect(second.code).toBe(0);
      expect(project.emulator.requestLog()).toEqual([]);
    },
  );
});
