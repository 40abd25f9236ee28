/**
 * Frames, an input video and variants through `computePlan` and `generationRequestFor`: a frame resized by
 * `fit` enters the key by the digest of the bytes uploaded, editing a frame image changes the key, and the
 * request carries exactly what was keyed.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../commands/cli-harness.ts';
import { generationRequestFor } from '../../src/engine/generation-request.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';

const png = (width: number, height: number, r: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: { r, g: 80, b: 120 } } })
    .png()
    .toBuffer();

function mp4Header(seconds: number): Buffer {
  const box = (type: string, payload: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length, 0);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, payload]);
  };
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(600, 12);
  mvhd.writeUInt32BE(seconds * 600, 16);
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\0\0isom', 'latin1')),
    box('moov', box('mvhd', mvhd)),
  ]);
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('media in keys and requests', () => {
  it('keys frames as uploaded, and sends what it keyed', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'refs'));
      await writeFile(
        path.join(dir, 'sora.config.yaml'),
        'version: 1\nprovider: sora1\nproviders:\n  sora1:\n    type: emulator\n    api: azure-sora1\n',
      );
      await writeFile(path.join(dir, 'refs/a.png'), await png(480, 480, 10));
      await writeFile(path.join(dir, 'refs/b.png'), await png(640, 360, 20));
      await writeFile(path.join(dir, 'refs/clip.mp4'), mp4Header(2));
      const manifest = [
        'version: 1',
        'defaults: { model: sora, size: 480x480, seconds: 5 }',
        'shots:',
        '  tide:',
        '    prompt: The tide.',
        '    variants: 3',
        '    frames:',
        '      - { image: refs/a.png, at: first }',
        '      - { image: refs/b.png, at: last, fit: cover, crop: { left: 0.25 } }',
        '  waves:',
        '    prompt: Waves.',
        '    input_video: { video: refs/clip.mp4, at: 3 }',
        '  plain:',
        '    prompt: Nothing extra.',
        '',
      ].join('\n');
      await writeFile(path.join(dir, 'storyboard.yaml'), manifest);
      const plan = async () => {
        const loaded = await loadProject({ cwd: dir, env: {} });
        if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
        const r = await computePlan({ config: loaded.config, manifest: loaded.manifest });
        if (!r.ok) throw new Error(JSON.stringify(r.error));
        return { loaded, computed: r.value };
      };
      const { loaded, computed } = await plan();
      const tide = computed.plan.byId.get('tide' as never)!;
      const media = computed.media.get('tide' as never)!;
      // `a` already has the shot's size: uploaded as is. `b` is resized (cover) to 480x480 first.
      expect(media.frames[0]!.image.digest).toBe(sha(await png(480, 480, 10)));
      expect(media.frames[1]!.image.digest).not.toBe(sha(await png(640, 360, 20)));
      expect(tide.keyData?.frames).toEqual([
        { digest: media.frames[0]!.image.digest, at: 'first' },
        {
          digest: media.frames[1]!.image.digest,
          at: 'last',
          crop: { left: 0.25, top: 0, right: 1, bottom: 1 },
        },
      ]);
      expect(tide.keyData?.variants).toBe(3);
      expect(computed.plan.byId.get('waves' as never)!.keyData?.inputVideo).toEqual({
        digest: sha(mp4Header(2)),
        at: 3,
      });
      expect(Object.keys(computed.plan.byId.get('plain' as never)!.keyData!)).not.toContain('frames');

      const shot = loaded.manifest.shots.get('tide' as never)!;
      const request = await generationRequestFor({
        shot,
        prompt: tide.keyData!.prompt,
        reference: null,
        media,
      });
      if (!request.ok) throw new Error(request.error.message);
      expect(request.value.variants).toBe(3);
      expect(request.value.frames.map((f) => [f.at, f.crop, f.image.filename, sha(f.image.bytes)])).toEqual([
        ['first', undefined, 'tide-frame-1.png', media.frames[0]!.image.digest],
        [
          'last',
          { left: 0.25, top: 0, right: 1, bottom: 1 },
          'tide-frame-2.png',
          media.frames[1]!.image.digest,
        ],
      ]);

      // A new frame image is a new key; the shot without media keeps its key.
      await writeFile(path.join(dir, 'refs/b.png'), await png(640, 360, 30));
      const again = (await plan()).computed;
      expect(again.plan.byId.get('tide' as never)!.key).not.toBe(tide.key);
      expect(again.plan.byId.get('plain' as never)!.key).toBe(computed.plan.byId.get('plain' as never)!.key);

      // A frame edited after planning is never sent under the old key (`a` is uploaded as is; a resized frame
      // is a file of its own in the cache, named by its source's digest).
      await writeFile(path.join(dir, 'refs/a.png'), await png(480, 480, 40));
      const stale = await generationRequestFor({ shot, prompt: 'x', reference: null, media });
      expect(stale.ok).toBe(false);
    });
  });
});
