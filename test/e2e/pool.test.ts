/**
 * `type: pool` through the real CLI: a pool of two emulators (each a standalone service with its own log)
 * builds one storyboard, both members take creates, each remix is sent to the member that holds its parent,
 * the lockfile names the member of every video, and a rebuild sends nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { API_KEY, makeProject } from './harness.ts';
import type { Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

let project: Project | undefined;
let second: EmulatorHandle | undefined;
afterEach(async () => {
  await project?.close();
  await second?.close();
  project = undefined;
  second = undefined;
});

const STORYBOARD = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
${['a', 'b', 'c', 'd', 'e', 'f'].map((id) => `  ${id}:\n    prompt: Shot ${id}, the harbor at dawn.\n`).join('')}  a-teal:
    remix_of: a
    prompt: Shift the palette to teal.
  b-teal:
    remix_of: b
    prompt: Shift the palette to teal.
`;

describe('type: pool', () => {
  it('spreads creates over both members and sends each remix to its parent’s member', async () => {
    project = await makeProject({ emulator: { createsPerMinute: 3 } });
    second = await startEmulator({ clock: project.clock, apiKeys: [API_KEY], createsPerMinute: 3 });
    const members = [project.emulator, second];
    await project.write(
      'sora.config.yaml',
      [
        'version: 1',
        'provider: both',
        'providers:',
        '  east:',
        '    type: openai',
        `    base_url: ${project.emulator.url}/v1`,
        '    quota: { creates_per_minute: 3, max_in_flight: 3 }',
        '    pricing: { sora-2: { usd_per_second: 0.1 } }',
        '  west:',
        '    type: openai',
        `    base_url: ${second.url}/v1`,
        '    quota: { creates_per_minute: 3, max_in_flight: 3 }',
        '    pricing: { sora-2: { usd_per_second: 0.1 } }',
        '  both:',
        '    type: pool',
        '    members: [east, west]',
        '',
      ].join('\n'),
    );
    await project.write('storyboard.yaml', STORYBOARD);

    const plan = await project.run(['plan']);
    // The pool's quota is its members' sum.
    expect(plan.stdout).toContain('(both: 6 creates/min, 6 in flight)');

    const built = await project.run(['build', '--reporter', 'plain']);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/built 8 · fresh 0 · cached 0 · failed 0 · blocked 0/);

    const creates = members.map((m) => m.requestLog().filter((r) => r.method === 'POST' && r.status === 200));
    // Both members took work.
    expect(creates[0]!.length).toBeGreaterThan(0);
    expect(creates[1]!.length).toBeGreaterThan(0);
    expect(creates[0]!.length + creates[1]!.length).toBe(8);
    // Each remix went to the member that created its parent (the other one would have answered 404).
    for (const log of creates) {
      const made = new Set(log.filter((r) => r.path === '/v1/videos').map((r) => r.videoId));
      for (const remix of log.filter((r) => r.path.endsWith('/remix'))) {
        expect(made.has(remix.path.split('/')[3])).toBe(true);
      }
    }
    expect(creates.flat().filter((r) => r.path.endsWith('/remix'))).toHaveLength(2);
    expect(members.flatMap((m) => m.requestLog()).filter((r) => r.status >= 400)).toEqual([]);

    // The lockfile names the member of every video: a later build polls and remixes there directly.
    const lock = await project.read('storyboard.lock');
    const ids = [...lock.matchAll(/video_id: "?((east|west):video_[0-9a-f]{32})/g)].map((m) => m[1]);
    expect(ids).toHaveLength(8);
    expect(new Set(ids.map((id) => id!.split(':')[0]))).toEqual(new Set(['east', 'west']));

    for (const m of members) m.clearLog();
    const again = await project.run(['build', '--reporter', 'plain']);
    expect(again.code).toBe(0);
    expect(members.flatMap((m) => m.requestLog())).toEqual([]);
  });
});
