/**
 * `type: pool` (src/provider/pool-provider.ts) over two real emulators through the real `openai` adapter:
 * creates spread over the members with room, a remix goes to its parent's member, every id names its member,
 * and a member's full minute sends creates to the other.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/core/clock.ts';
import { asVideoId } from '../../src/core/brand.ts';
import type { VideoId } from '../../src/core/brand.ts';
import { startEmulator } from '../../src/emulator/server.ts';
import type { EmulatorHandle } from '../../src/emulator/server.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { PoolProvider } from '../../src/provider/pool-provider.ts';
import { ProviderError } from '../../src/provider/types.ts';
import type { CreateRequest } from '../../src/provider/types.ts';
import { providerConfig } from './provider-config.ts';

const clock = new ScaledClock({ speed: 1000 });
const KEY = 'sk-pool-test-key-0123456789';
const REQUEST: CreateRequest = { model: 'sora-2', prompt: 'A harbor at dawn', size: '1280x720', seconds: 4 };

let emulators: EmulatorHandle[] = [];
let pool: PoolProvider | undefined;
afterEach(async () => {
  await pool?.close();
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
  pool = undefined;
});

async function poolOf(quota: { createsPerMinute: number; maxInFlight: number }): Promise<PoolProvider> {
  emulators = await Promise.all(
    [1, 2].map((seed) => startEmulator({ clock, createsPerMinute: 100, apiKeys: [KEY], seed })),
  );
  pool = new PoolProvider({
    name: 'both',
    family: 'openai-videos',
    clock,
    members: ['east', 'west'].map((name, i) => ({
      name,
      quota,
      open: () =>
        createProvider({
          config: providerConfig({ name, baseUrl: `${emulators[i]!.url}/v1` }),
          env: { OPENAI_API_KEY: KEY },
          clock,
          cacheDir: '/x',
        }),
    })),
  });
  return pool;
}

const posts = (e: EmulatorHandle) => e.requestLog().filter((r) => r.method === 'POST');

describe('PoolProvider', () => {
  it('spreads creates over the members, names each id after its member, and routes every read to it', async () => {
    const p = await poolOf({ createsPerMinute: 10, maxInFlight: 2 });
    const ids: VideoId[] = [];
    for (let i = 0; i < 4; i++) ids.push((await p.create(REQUEST)).id);
    expect(ids.map((id) => id.split(':')[0])).toEqual(['east', 'west', 'east', 'west']);
    expect(ids.every((id) => /^(east|west):video_[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(posts(emulators[0]!)).toHaveLength(2);
    expect(posts(emulators[1]!)).toHaveLength(2);
    expect(p.load()).toEqual(
      new Map([
        ['east', 2],
        ['west', 2],
      ]),
    );

    let done = await p.retrieve(ids[1]!);
    while (done.status !== 'completed') {
      await clock.sleep(1000);
      done = await p.retrieve(ids[1]!);
    }
    expect(done.id).toBe(ids[1]);
    expect(p.load().get('west')).toBe(1);
    const body = await (await p.download(ids[1]!, 'video')).body.getReader().read();
    expect(body.done).toBe(false);

    // The remix goes to west, where its parent lives (east does not know the parent: it would answer 404).
    const child = await p.remix(ids[1]!, 'Shift the palette to teal.');
    expect(child.id.startsWith('west:')).toBe(true);
    expect(child.remixedFrom).toBe(ids[1]);
    expect(posts(emulators[1]!).at(-1)?.path).toBe(`/v1/videos/${ids[1]!.slice(5)}/remix`);
    expect(posts(emulators[0]!)).toHaveLength(2);

    const listed = [];
    for await (const v of p.list()) listed.push(v.id);
    expect(listed.sort()).toEqual([...ids, child.id].sort());
  });

  it('sends a create to the member with room when the other one has used its minute', async () => {
    const p = await poolOf({ createsPerMinute: 1, maxInFlight: 10 });
    const first = await p.create(REQUEST);
    const second = await p.create(REQUEST);
    expect([first.id.split(':')[0], second.id.split(':')[0]]).toEqual(['east', 'west']);
  });

  it('refuses an id that names no member, without asking any', async () => {
    const p = await poolOf({ createsPerMinute: 10, maxInFlight: 2 });
    await expect(p.retrieve(asVideoId('video_0123'))).rejects.toBeInstanceOf(ProviderError);
    await expect(p.retrieve(asVideoId('north:video_0123'))).rejects.toMatchObject({ kind: 'not-found' });
    expect(emulators.flatMap((e) => e.requestLog())).toEqual([]);
  });
});
