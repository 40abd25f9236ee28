/**
 * The issue-13 manifest fields (frames, input_video, reference_images, variants, negative_prompt, seed, audio,
 * provider) and every Sora 1 limit, through `loadProject` on real files: what a valid storyboard loads to,
 * and the exact diagnostics (file:line:col, all at once) of a broken one.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from './helpers.ts';

let dir: string;

/** An MP4 reader's minimum: `ftyp`, `moov` holding `mvhd` (timescale 1000) with this duration. */
function mp4Header(seconds: number): Buffer {
  const box = (type: string, payload: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length, 0);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, payload]);
  };
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12);
  mvhd.writeUInt32BE(Math.round(seconds * 1000), 16);
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\0\0isomavc1', 'latin1')),
    box('moov', box('mvhd', mvhd)),
    box('mdat', Buffer.alloc(0)),
  ]);
}

const png = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: { r: 40, g: 80, b: 120 } } })
    .png()
    .toBuffer();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-build-fields-'));
  await writeFile(
    path.join(dir, 'sora.config.yaml'),
    [
      'version: 1',
      'provider: emulator',
      'providers:',
      '  emulator:',
      '    type: emulator',
      '  legacy:',
      '    type: azure-sora1',
      '    base_url: http://127.0.0.1:9/openai/v1/',
      '    auth: api-key',
      '',
    ].join('\n'),
  );
  await mkdir(path.join(dir, 'refs'));
  await writeFile(path.join(dir, 'refs/a-1280x720.png'), await png(1280, 720));
  await writeFile(path.join(dir, 'refs/b-1280x720.png'), await png(1280, 720));
  await writeFile(path.join(dir, 'refs/c-480x480.png'), await png(480, 480));
  await writeFile(path.join(dir, 'refs/clip-3s.mp4'), mp4Header(3));
  await writeFile(path.join(dir, 'refs/clip-6s.mp4'), mp4Header(6));
  await writeFile(path.join(dir, 'refs/not-a-video.mp4'), 'hello');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validate(name: string, lines: readonly string[]): Promise<Awaited<ReturnType<typeof check>>> {
  await writeFile(path.join(dir, name), lines.join('\n') + '\n');
  return check(name, { cwd: dir });
}

/** Only the `file:line:col: severity: message` lines. */
const headlines = (text: string): string[] => text.split('\n').filter((l) => /^\S+:\d+:\d+: /.test(l));

describe('Sora 1 on a second provider', () => {
  it('loads frames, an input video, variants and their outputs', async () => {
    const r = await validate('ok.yaml', [
      'version: 1',
      'defaults:',
      '  provider: legacy',
      '  model: sora',
      '  size: 1280x720',
      '  seconds: 5',
      'shots:',
      '  tide:',
      '    prompt: The tide comes in.',
      '    variants: 2',
      '    frames:',
      '      - { image: refs/a-1280x720.png, at: first }',
      '      - { image: refs/b-1280x720.png, at: 120, crop: { left: 0.1, right: 0.9 } }',
      '  waves:',
      '    prompt: Waves from a clip.',
      '    size: 480x480',
      '    variants: 4',
      '    output: social/waves-{n}.mp4',
      '    input_video: { video: refs/clip-3s.mp4, at: 12, crop: { top: 0.2 } }',
      '  harbor:',
      '    provider: emulator',
      '    model: sora-2',
      '    size: 720x1280',
      '    seconds: 4',
      '    prompt: A harbor.',
      '',
    ]);
    expect(r.text).toBe('');
    if (!r.project.ok) throw new Error('not ok');
    const shots = r.project.manifest.shots;
    const tide = shots.get('tide' as never)!;
    expect(tide.provider).toBe('legacy');
    expect(tide.variants).toBe(2);
    expect(tide.outputs).toEqual(['tide/1.mp4', 'tide/2.mp4']);
    expect(tide.output).toBe('tide/1.mp4');
    expect(tide.frames.map((f) => [f.image.displayPath, f.at, f.crop])).toEqual([
      ['refs/a-1280x720.png', 'first', undefined],
      ['refs/b-1280x720.png', 120, { left: 0.1, top: 0, right: 0.9, bottom: 1 }],
    ]);
    const waves = shots.get('waves' as never)!;
    expect(waves.outputs).toEqual([1, 2, 3, 4].map((n) => `social/waves-${n}.mp4`));
    expect(waves.inputVideo).toMatchObject({
      displayPath: 'refs/clip-3s.mp4',
      mime: 'video/mp4',
      durationSeconds: 3,
      at: 12,
      crop: { left: 0, top: 0.2, right: 1, bottom: 1 },
    });
    const harbor = shots.get('harbor' as never)!;
    expect([harbor.provider, harbor.variants, harbor.outputs, harbor.frames]).toEqual([
      'emulator',
      1,
      ['harbor.mp4'],
      [],
    ]);
  });

  it('reports every Sora 1 limit at once, at its field', async () => {
    const r = await validate('sora1-limits.yaml', [
      'version: 1',
      'defaults:',
      '  provider: legacy',
      '  model: sora',
      '  seconds: 5',
      'shots:',
      '  full-hd:',
      '    prompt: Two variants at 1080p.',
      '    size: 1920x1080',
      '    variants: 2',
      '  hd:',
      '    prompt: Three variants at 720p.',
      '    size: 1280x720',
      '    variants: 3',
      '  small:',
      '    prompt: Five variants at 480p.',
      '    size: 480x480',
      '    variants: 5',
      '  long-hd:',
      '    prompt: Twelve seconds at 1080p.',
      '    size: 1080x1920',
      '    seconds: 12',
      '  too-long:',
      '    prompt: Twenty-one seconds.',
      '    size: 854x480',
      '    seconds: 21',
      '  three-frames:',
      '    prompt: Three images.',
      '    size: 1280x720',
      '    frames:',
      '      - { image: refs/a-1280x720.png, at: first }',
      '      - { image: refs/b-1280x720.png, at: 60 }',
      '      - { image: refs/a-1280x720.png, at: last }',
      '  late-frame:',
      '    prompt: A frame past the end.',
      '    size: 1280x720',
      '    frames: [{ image: refs/a-1280x720.png, at: 150 }]',
      '  long-clip:',
      '    prompt: A six second input video.',
      '    size: 480x480',
      '    input_video: refs/clip-6s.mp4',
      '  both:',
      '    prompt: Images and a video.',
      '    size: 480x480',
      '    frames: [{ image: refs/c-480x480.png, at: first }]',
      '    input_video: refs/clip-3s.mp4',
      '  extras:',
      '    prompt: What Sora 1 does not take.',
      '    size: 480x480',
      '    negative_prompt: blur',
      '    seed: 7',
      '    audio: true',
      '    reference_images: [refs/c-480x480.png]',
      '',
    ]);
    expect(r.ok).toBe(false);
    expect(headlines(r.text)).toEqual([
      'sora1-limits.yaml:10:15: error: Expected `variants` to be 1 for model sora at 1920x1080 (it makes one video per request), but found 2',
      'sora1-limits.yaml:14:15: error: Expected `variants` to be at most 2 for model sora at 1280x720, but found 3',
      'sora1-limits.yaml:18:15: error: Expected `variants` to be at most 4 for model sora, but found 5',
      'sora1-limits.yaml:22:14: error: Expected `seconds` to be from 1 to 10 for model sora at 1080p, but found 12',
      'sora1-limits.yaml:26:14: error: Expected `seconds` to be from 1 to 20 for model sora, but found 21',
      'sora1-limits.yaml:31:7: error: Expected at most 2 images at frame positions for model sora, but found 3',
      'sora1-limits.yaml:37:48: error: Expected `at` to be a frame index from 0 to 149 (the last frame of 5 s at 30 fps), but found 150',
      'sora1-limits.yaml:41:18: error: Expected an input video of at most 5 s for model sora, but "refs/clip-6s.mp4" lasts 6 s',
      'sora1-limits.yaml:45:13: error: Expected no `frames` for model sora with an `input_video` (it starts from up to two images or one video)',
      'sora1-limits.yaml:50:22: error: Expected no `negative_prompt`: model sora on provider type azure-sora1 takes none',
      'sora1-limits.yaml:51:11: error: Expected no `seed`: model sora on provider type azure-sora1 takes none',
      'sora1-limits.yaml:52:12: error: Expected `audio` to be false or unset: model sora on provider type azure-sora1 makes no sound',
      'sora1-limits.yaml:53:23: error: Expected no `reference_images`: model sora on provider type azure-sora1 takes none, but found 1',
    ]);
  });
});

describe('the new fields', () => {
  it('reports what Sora 2 does not take, bad positions, crops, outputs and providers, all at once', async () => {
    const r = await validate('fields.yaml', [
      'version: 1',
      'defaults:',
      '  size: 1280x720',
      '  seconds: 4',
      'shots:',
      '  last:',
      '    prompt: A last frame on Sora 2.',
      '    frames: [{ image: refs/a-1280x720.png, at: last, crop: { left: 0.5 } }]',
      '  sampled:',
      '    prompt: Sora 2 with sampling fields.',
      '    variants: 2',
      '    audio: false',
      '    seed: 1',
      '  middle:',
      '    provider: legacy',
      '    model: sora',
      '    prompt: A frame at the middle.',
      '    frames:',
      '      - { image: refs/a-1280x720.png, at: midle }',
      '      - { image: refs/b-1280x720.png, at: first }',
      '      - { image: refs/a-1280x720.png, at: 0 }',
      '  cropped:',
      '    provider: legacy',
      '    model: sora',
      '    prompt: An empty crop.',
      '    frames: [{ image: refs/a-1280x720.png, at: first, crop: { left: 0.6, right: 0.4 } }]',
      '  wrong-size:',
      '    provider: legacy',
      '    model: sora',
      '    prompt: A frame of another size.',
      '    frames: [{ image: refs/c-480x480.png, at: first }]',
      '  fitted:',
      '    provider: legacy',
      '    model: sora',
      '    prompt: A frame resized to fit.',
      '    frames: [{ image: refs/c-480x480.png, at: last, fit: cover }]',
      '  one-file:',
      '    provider: legacy',
      '    model: sora',
      '    size: 480x480',
      '    prompt: Two variants into one file.',
      '    variants: 2',
      '    output: waves.mp4',
      '  no-video:',
      '    provider: legacy',
      '    model: sora',
      '    size: 480x480',
      '    prompt: Text named like a video.',
      '    input_video: refs/not-a-video.mp4',
      '  typo:',
      '    provider: legcy',
      '    prompt: A provider that does not exist.',
      '  remix:',
      '    remix_of: last',
      '    prompt: A remix asking for variants.',
      '    variants: 2',
      '  schema:',
      '    prompt: Values of the wrong shape.',
      '    variants: 0',
      '    seed: -1',
      '    audio: yes please',
      '    frames: [{ image: refs/a-1280x720.png }]',
      '',
    ]);
    expect(r.ok).toBe(false);
    expect(headlines(r.text)).toEqual([
      'fields.yaml:8:48: error: Expected `at` to be first for model sora-2, but found last',
      'fields.yaml:8:60: error: Expected no `crop`: model sora-2 on provider type emulator takes none (crop the image itself, or use `fit`)',
      'fields.yaml:11:15: error: Expected `variants` to be 1 for model sora-2 (it makes one video per request), but found 2',
      'fields.yaml:12:12: error: Expected `audio` to be true or unset: model sora-2 on provider type emulator always makes a sound track',
      'fields.yaml:13:11: error: Expected no `seed`: model sora-2 on provider type emulator takes none',
      'fields.yaml:19:43: error: Expected `at` to be first, last or a frame index, but found "midle"',
      'fields.yaml:21:43: error: Expected each frame at its own position, but two are at the first frame (the other at line 20, column 43)',
      'fields.yaml:26:61: error: Expected `crop` to leave an area (left < right and top < bottom), but found left 0.6, top 0, right 0.4, bottom 1',
      'fields.yaml:31:23: error: Expected the frame image "refs/c-480x480.png" to be 1280x720 like the shot, but it is 480x480 (PNG); set `fit: cover` or `fit: contain` to resize it',
      'fields.yaml:43:13: error: Expected `output` to hold {n} (the variant number) for a shot with 2 variants, but found "waves.mp4"; e.g. "waves-{n}.mp4"',
      'fields.yaml:49:18: error: Expected "refs/not-a-video.mp4" to be an MP4 or QuickTime video, but it has no MP4 box structure',
      'fields.yaml:51:15: error: Expected `provider` to name one of the providers of the config (emulator, legacy), but found legcy; did you mean legacy?',
      'fields.yaml:56:5: error: Expected a remix to set only its prompt (it inherits model, size and seconds from `last`), but found `variants`',
      'fields.yaml:59:15: error: Expected `variants` to be a positive whole number, but found 0',
      'fields.yaml:60:11: error: Expected `seed` to be at least 0, but found -1',
      'fields.yaml:61:12: error: Expected `audio` to be true or false, but found "yes please"',
      'fields.yaml:62:14: error: Expected each item of `frames` to have `at`, but it is missing',
    ]);
  });
});
