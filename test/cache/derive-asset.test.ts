/** Thumbnails and spritesheets made locally from a stored video, with the service's formats. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { deriveAsset } from '../../src/cache/derive-asset.ts';
import { Store } from '../../src/cache/store.ts';
import type { Sha256 } from '../../src/core/brand.ts';
import { Renderer } from '../../src/emulator/renderer.ts';

let dir: string;
let store: Store;
let video: Sha256;
let notVideo: Sha256;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'derive-asset-'));
  store = Store.open(join(dir, 'cache'));
  const renderer = new Renderer();
  try {
    const assets = await renderer.render({
      width: 720,
      height: 1280,
      seconds: 8,
      audio: true,
      segments: [{ prompt: 'derive me', seconds: 8 }],
      caption: 'sora-2 · 720x1280 · 8s',
      look: 3,
    });
    await writeFile(join(dir, 'v.mp4'), assets.video);
  } finally {
    await renderer.close();
  }
  await writeFile(join(dir, 'x.txt'), 'not a video');
  const stored = await store.ingest({ path: join(dir, 'v.mp4') });
  const other = await store.ingest({ path: join(dir, 'x.txt') });
  if (!stored.ok || !other.ok) throw new Error('ingest failed');
  video = stored.value.digest;
  notVideo = other.value.digest;
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('deriveAsset', () => {
  it('makes a WebP thumbnail of the video size from the first frame, and stores it', async () => {
    const made = await deriveAsset({ store, video, variant: 'thumbnail' });
    expect(made.ok).toBe(true);
    if (!made.ok) return;
    expect(store.hasObject(made.value.digest)).toBe(true);
    const meta = await sharp(store.objectPath(made.value.digest)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 720, 1280]);
  });

  it('makes a JPEG spritesheet with a tile per second, four to a row', async () => {
    const made = await deriveAsset({ store, video, variant: 'spritesheet' });
    expect(made.ok).toBe(true);
    if (!made.ok) return;
    const meta = await sharp(store.objectPath(made.value.digest)).metadata();
    // Portrait tiles are 256 high (144 wide); 8 s is two rows of four.
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 4 * 144, 2 * 256]);
  });

  it('says when the stored object is not a video', async () => {
    const made = await deriveAsset({ store, video: notVideo, variant: 'thumbnail' });
    expect(made).toMatchObject({ ok: false, error: { reason: 'no-video' } });
  });
});
