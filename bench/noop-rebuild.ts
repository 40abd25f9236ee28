/**
 * Benchmark 1, no-op rebuild: a 1,000-shot storyboard (250 roots, 750 remix/extend children) where 100
 * roots use their own ~1 MB reference image (random-noise JPEG at the shot's size, so no fit/resize and no
 * compression shortcut). The project is pinned through the real planner (bench/generate-manifest.ts
 * pinAll), then one real `sora-build build` places the videos in out/; after that every run has nothing to
 * do. We time `node bin/sora-build.js build` as a whole process and read its /proc/self/io at exit: with the
 * stat cache, reading the 100 MB of images again would show in rchar.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { pinAll } from './generate-manifest.ts';
import type { Row } from './lib.ts';
import { BIN, WORK, cliEnv, fmtSpread, log, runNode, spread, verdict } from './lib.ts';

const SHOTS = 1_000;
const IMAGES = 100;

const id = (i: number): string => `s${String(i).padStart(6, '0')}`;

function manifest(): string {
  const lines = ['version: 1', 'defaults:', '  model: sora-2', '  size: 1280x720', '  seconds: 8', 'shots:'];
  let image = 0;
  for (let i = 0; i < SHOTS; i++) {
    lines.push(`  ${id(i)}:`);
    const link = i % 4;
    if (link === 0) {
      lines.push(`    prompt: Shot ${i}, the product seen from angle ${i % 360}, 35mm film, golden hour.`);
      // 100 of the 250 roots have a reference image of their own.
      if ((i / 4) % 5 < 2 && image < IMAGES) lines.push(`    input_reference: refs/ref-${image++}.jpg`);
    } else {
      lines.push(`    ${link === 3 ? 'extend_of' : 'remix_of'}: ${id(i - 1)}`);
      lines.push(`    prompt: Variation ${link} of shot ${i - link}, a different palette.`);
      if (link === 3) lines.push('    seconds: 4');
    }
  }
  return `${lines.join('\n')}\n`;
}

const CONFIG = `version: 1
provider: emulator
providers:
  emulator:
    type: emulator
    quota: { creates_per_minute: 10000, max_in_flight: 50 }
out_dir: out
cache_dir: .sora-build
`;

/** ~1 MB: full-range noise at 1280x720 does not compress; about 1 MB at JPEG quality 80 without chroma subsampling (the table shows the size). */
async function noiseJpeg(): Promise<Buffer> {
  const raw = randomBytes(1280 * 720 * 3);
  return sharp(raw, { raw: { width: 1280, height: 720, channels: 3 } })
    .jpeg({ quality: 80, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

export async function noopRebuild(options: { runs: number }): Promise<Row[]> {
  const dir = path.join(WORK, 'noop-1000');
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'refs'), { recursive: true });
  await writeFile(path.join(dir, 'sora.config.yaml'), CONFIG);
  await writeFile(path.join(dir, 'storyboard.yaml'), manifest());
  let imageBytes = 0;
  for (let i = 0; i < IMAGES; i++) {
    const bytes = await noiseJpeg();
    imageBytes += bytes.length;
    await writeFile(path.join(dir, `refs/ref-${i}.jpg`), bytes);
  }
  log(`no-op: ${SHOTS} shots, ${IMAGES} images, ${(imageBytes / 1e6).toFixed(0)} MB; pinning`);
  await pinAll(dir);
  const env = cliEnv({});
  // First build: places 1,000 videos in out/ (and fills the stat cache); the second checks nothing is left.
  for (let i = 0; i < 2; i++) {
    const warm = await runNode([BIN, 'build'], { cwd: dir, env });
    if (warm.code !== 0) throw new Error(`warm-up build failed (${warm.code}): ${warm.stderr}`);
  }
  log('no-op: warm');
  const times: number[] = [];
  const rchar: number[] = [];
  const readBytes: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const r = await runNode([BIN, 'build'], { cwd: dir, env });
    if (r.code !== 0) throw new Error(`no-op build failed (${r.code}): ${r.stderr}`);
    if (!/built 0\b/.test(r.stdout + r.stderr)) throw new Error(`no-op build built something: ${r.stderr}`);
    times.push(r.ms / 1000);
    rchar.push(r.rchar);
    readBytes.push(r.readBytes);
    rss.push(r.maxRssKb / 1024);
  }
  const t = spread(times);
  const rc = spread(rchar);
  const outBytes = (await stat(path.join(dir, 'storyboard.yaml'))).size;
  return [
    {
      metric: `1. no-op rebuild, 1,000 shots + ${IMAGES} x ${(imageBytes / IMAGES / 1e6).toFixed(1)} MB images (whole process)`,
      value: fmtSpread(t, ' s'),
      target: '<= 0.5 s median',
      verdict: verdict(t.median <= 0.5),
      data: { seconds: t, maxRssMb: spread(rss) },
    },
    {
      metric: '1. no-op: bytes read by the process (rchar) vs image bytes',
      value: `${(rc.median / 1e6).toFixed(1)} MB (${(rc.min / 1e6).toFixed(1)}-${(rc.max / 1e6).toFixed(1)}) vs ${(imageBytes / 1e6).toFixed(0)} MB of images; disk read_bytes median ${(spread(readBytes).median / 1e6).toFixed(1)} MB`,
      target: 'images not re-read: rchar < 10 % of image bytes',
      verdict: verdict(rc.median < imageBytes * 0.1),
      data: { rchar: rc, readBytes: spread(readBytes), imageBytes, manifestBytes: outBytes },
    },
  ];
}
