/** The shared faults on the Veo, Runway and fal paths, each in its own API's error shape; keys stay out of the log. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { startEmulator } from '../../src/emulator/server.ts';

let emulator: EmulatorHandle;
let clock: FakeClock;
const VERTEX = '/v1beta1/projects/p/locations/us-central1/publishers/google/models/veo-3.1-generate-001';

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 11, 3));
  emulator = await startEmulator({ clock, createsPerMinute: Infinity });
});
afterAll(() => emulator.close());

describe('faults on the partner APIs', () => {
  it('answers the server-error fault in the error shape of each API', async () => {
    emulator.setFaults({ serverErrorRate: 1 });
    try {
      const vertex = await fetch(`${emulator.url}${VERTEX}:predictLongRunning`, {
        method: 'POST',
        headers: { authorization: 'Bearer t' },
        body: '{}',
      });
      expect(vertex.status).toBe(500);
      expect(await vertex.json()).toEqual({
        error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
      });
      const runway = await fetch(`${emulator.url}/v1/tasks/x`, { headers: { authorization: 'Bearer k' } });
      expect(runway.status).toBe(500);
      expect(await runway.json()).toEqual({ error: 'An unexpected error occurred.' });
      const fal = await fetch(`${emulator.url}/fal/queue/fal-ai/veo3.1`, {
        method: 'POST',
        headers: { authorization: 'Key k' },
        body: '{}',
      });
      expect(fal.status).toBe(500);
      expect(await fal.json()).toEqual({ detail: 'Internal Server Error' });
      expect(emulator.requestLog().map((e) => e.fault)).toEqual([
        'server-error',
        'server-error',
        'server-error',
      ]);
    } finally {
      emulator.setFaults({ serverErrorRate: 0 });
    }
  });

  it('fails a Veo job with a google.rpc.Status error under jobFailureRate', async () => {
    emulator.setFaults({ jobFailureRate: 1 });
    try {
      const started = await fetch(`${emulator.url}${VERTEX}:predictLongRunning?key=AIza-secret-key`, {
        method: 'POST',
        body: JSON.stringify({ instances: [{ prompt: 'p' }], parameters: { durationSeconds: 4 } }),
      });
      const { name } = (await started.json()) as { name: string };
      const poll = async (): Promise<unknown> =>
        (
          await fetch(`${emulator.url}${VERTEX}:fetchPredictOperation?key=AIza-secret-key`, {
            method: 'POST',
            body: JSON.stringify({ operationName: name }),
          })
        ).json();
      expect(await poll()).toEqual({ name });
      await clock.advance(60_000);
      expect(await poll()).toEqual({
        name,
        done: true,
        error: { code: 13, message: 'Internal error encountered.' },
      });
      expect(JSON.stringify(emulator.requestLog())).not.toContain('AIza-secret-key');
      expect(emulator.requestLog().at(-1)!.query).toBe('key=REDACTED');
    } finally {
      emulator.setFaults({ jobFailureRate: 0 });
    }
  });
});

describe('kept jobs', () => {
  it('shares Veo operations with an emulator running beside it, and keeps cancelled Runway tasks across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sora-partner-state-'));
    const at = new FakeClock(Date.UTC(2026, 11, 3));
    try {
      const first = await startEmulator({ clock: at, createsPerMinute: Infinity, stateDir: dir });
      const beside = await startEmulator({ clock: at, createsPerMinute: Infinity, stateDir: dir });
      const started = await fetch(`${first.url}${VERTEX}:predictLongRunning`, {
        method: 'POST',
        headers: { authorization: 'Bearer t' },
        body: JSON.stringify({ instances: [{ prompt: 'kept' }], parameters: { durationSeconds: 4 } }),
      });
      const { name } = (await started.json()) as { name: string };
      // The other process learns of it by id (a UUID), not from its start-up load.
      const seen = await fetch(`${beside.url}${VERTEX}:fetchPredictOperation`, {
        method: 'POST',
        headers: { authorization: 'Bearer t' },
        body: JSON.stringify({ operationName: name }),
      });
      expect(seen.status).toBe(200);
      await beside.close();
      const runway = { authorization: 'Bearer k', 'x-runway-version': '2024-11-06' };
      const task = await fetch(`${first.url}/v1/text_to_video`, {
        method: 'POST',
        headers: runway,
        body: JSON.stringify({ model: 'gen4.5', promptText: 'kept', ratio: '1280:720', duration: 2 }),
      });
      const { id } = (await task.json()) as { id: string };
      expect((await fetch(`${first.url}/v1/tasks/${id}`, { method: 'DELETE', headers: runway })).status).toBe(
        204,
      );
      await first.close();
      const second = await startEmulator({ clock: at, createsPerMinute: Infinity, stateDir: dir });
      try {
        const poll = await fetch(`${second.url}${VERTEX}:fetchPredictOperation`, {
          method: 'POST',
          headers: { authorization: 'Bearer t' },
          body: JSON.stringify({ operationName: name }),
        });
        expect(await poll.json()).toEqual({ name });
        const read = await fetch(`${second.url}/v1/tasks/${id}`, { headers: runway });
        expect(await read.json()).toMatchObject({ id, status: 'CANCELLED' });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
