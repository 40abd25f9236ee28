import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { createReporter } from '../../src/reporter/create-reporter.ts';
import { JsonReporter } from '../../src/reporter/json-reporter.ts';
import { CWD, MemoryStream, T0, interruptedBuild, scriptedBuild } from './fixtures.ts';

describe('JsonReporter', () => {
  it('prints exactly the events, one JSON document per line, on stdout only', async () => {
    const events = [...scriptedBuild(), ...interruptedBuild()];
    const stdout = new MemoryStream();
    const reporter = new JsonReporter({ stdout });
    for (const event of events) reporter.handle(event);
    await reporter.close();
    expect(stdout.writes).toHaveLength(events.length);
    expect(stdout.text.endsWith('\n')).toBe(true);
    const lines = stdout.text.slice(0, -1).split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(events);
    expect(lines[0]).toBe(
      '{"type":"build-started","time":1700000000000,"manifest":"/proj/storyboard.yaml","provider":"emulator",' +
        '"counts":{"fresh":1,"cached":0,"missing":2,"stale":1,"blocked":1},"estimatedCostUsd":2,"estimatedWallMs":95000,' +
        '"targets":["harbor","intro","mug","mug-teal","teaser"]}',
    );
  });

  it('is what createReporter gives for kind json, even on a terminal inside GitHub Actions', () => {
    const stdout = new MemoryStream();
    const stderr = new MemoryStream();
    const reporter = createReporter({
      kind: 'json',
      stdout,
      stderr,
      env: { GITHUB_ACTIONS: 'true' },
      isTTY: true,
      clock: new FakeClock(T0),
      cwd: CWD,
    });
    expect(reporter).toBeInstanceOf(JsonReporter);
    reporter.handle({ type: 'interrupted', time: T0, inFlight: 0, resume: 'sora-build build' });
    expect(stdout.text).toBe(
      '{"type":"interrupted","time":1700000000000,"inFlight":0,"resume":"sora-build build"}\n',
    );
    expect(stderr.text).toBe('');
  });
});
