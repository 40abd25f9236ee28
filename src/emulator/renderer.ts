/**
 * Placeholder videos: an H.264 MP4 (with an AAC tone when the model has audio) of exactly the requested size
 * and duration, showing the prompt over a moving pattern, plus a WebP thumbnail and a JPEG spritesheet, all
 * from one run of the ffmpeg binary that `@ffmpeg-installer/ffmpeg` ships. Rendering runs in a child process
 * (never on the event loop), at a low frame rate with x264's ultrafast preset.
 *
 * A render costs about 0.4 s of CPU for 4 s of 720p, so renders are cached process-wide by everything that
 * changes the pixels (size, duration, audio, prompts, caption, look). The look (colours, bar speeds and
 * positions, tone) is one of LOOKS variants picked from the job id; the server then appends a `free` box
 * naming the job to the MP4, so two samples of one prompt always differ in bytes and usually in pixels,
 * while tests that build the same storyboard again reuse the render.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveFfmpegPath, runFfmpeg } from '../core/ffmpeg.ts';
import type { Segment } from './job-store.ts';
import { createPrng, seedFromString } from './prng.ts';

/** How many different looks a prompt can get. */
export const LOOKS = 64;

export { ensureExecutable, resolveFfmpegPath } from '../core/ffmpeg.ts';

export interface RenderSpec {
  readonly width: number;
  readonly height: number;
  readonly seconds: number;
  readonly audio: boolean;
  readonly segments: readonly Segment[];
  /** Shown small at the bottom, e.g. `sora-2 · 1280x720 · 4s`. */
  readonly caption: string;
  /** 0 to LOOKS - 1: picks colours, motion and tone. */
  readonly look: number;
  /** The thumbnail's format: WebP for the Videos API, JPEG for Sora 1. @default 'webp' */
  readonly thumbnail?: 'webp' | 'jpeg';
  /**
   * The reference image (JPEG, PNG or WebP, of the video's size: a client resizes it as `fit` says before
   * upload): the video opens on it for its first second, so frame 0 and the thumbnail are the image.
   */
  readonly reference?: { readonly digest: string; readonly bytes: Buffer };
  /** A remix's or extension's parent: its id and prompt are shown small at the top left throughout. */
  readonly parent?: { readonly kind: 'remix' | 'extension'; readonly id: string; readonly prompt: string };
}

/** The lines naming a remix's or extension's parent, as the placeholder shows them. */
export function parentLines(parent: NonNullable<RenderSpec['parent']>, charsPerLine: number): string[] {
  const head = parent.kind === 'remix' ? `remix of ${parent.id}` : `extends ${parent.id}`;
  return [head, ...wrapText(`“${parent.prompt}”`, charsPerLine, 2)];
}

export interface RenderedAssets {
  readonly video: Buffer;
  readonly thumbnail: Buffer;
  readonly spritesheet: Buffer;
  /** Real milliseconds the render took (0 when it came from the cache). */
  readonly renderMs: number;
}

/** Renders shared by every Renderer in the process, oldest first, up to CACHE_BYTES. */
const cache = new Map<string, Promise<RenderedAssets>>();
const cacheSizes = new Map<string, number>();
const CACHE_BYTES = 256 * 1024 * 1024;
let cachedBytes = 0;

function remember(key: string, assets: RenderedAssets): void {
  const size = assets.video.length + assets.thumbnail.length + assets.spritesheet.length;
  cacheSizes.set(key, size);
  cachedBytes += size;
  for (const [oldKey, oldSize] of cacheSizes) {
    if (cachedBytes <= CACHE_BYTES) break;
    cacheSizes.delete(oldKey);
    cache.delete(oldKey);
    cachedBytes -= oldSize;
  }
}

export interface RendererOptions {
  /** Frames per second of the placeholder. @default 8 */
  readonly fps?: number;
  /** Renders run at once (each is one ffmpeg process). @default 2 */
  readonly concurrency?: number;
  /** The ffmpeg binary. @default the one from `@ffmpeg-installer/ffmpeg` */
  readonly ffmpegPath?: string;
}

const require = createRequire(import.meta.url);

/** DejaVu Sans from the `dejavu-fonts-ttf` package: drawtext needs a font file, and CI may have no system fonts. */
export function fontPath(): string {
  return join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `0x${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Breaks text into at most `maxLines` lines of about `width` characters, ending with an ellipsis if cut. */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let line = '';
  for (let word of words) {
    while (word.length > width) {
      if (line !== '') {
        lines.push(line);
        line = '';
      }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, Math.max(0, width - 1))}…`;
    return kept;
  }
  return lines;
}

/** Spritesheet layout: one tile per second, in rows of up to four (or one row when that cannot fill the grid). */
function spriteGrid(seconds: number): { cols: number; rows: number } {
  if (seconds % 4 === 0) return { cols: 4, rows: seconds / 4 };
  if (seconds % 3 === 0) return { cols: 3, rows: seconds / 3 };
  return { cols: seconds, rows: 1 };
}

export class Renderer {
  readonly #fps: number;
  readonly #concurrency: number;
  readonly #ffmpegPath: string | undefined;
  #workDir: Promise<string> | undefined;
  #running = 0;
  #waiting: (() => void)[] = [];

  constructor(options: RendererOptions = {}) {
    this.#fps = options.fps ?? 8;
    this.#concurrency = options.concurrency ?? 2;
    this.#ffmpegPath = options.ffmpegPath;
  }

  /** A private temp folder holding the font, so the filter graph names only plain relative file names. */
  #dir(): Promise<string> {
    this.#workDir ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sora-build-render-'));
      await copyFile(fontPath(), join(dir, 'font.ttf'));
      return dir;
    })();
    return this.#workDir;
  }

  /** The assets for `spec`, from the process-wide cache when an identical render was made before. */
  async render(spec: RenderSpec): Promise<RenderedAssets> {
    const key = JSON.stringify([
      this.#fps,
      spec.width,
      spec.height,
      spec.seconds,
      spec.audio,
      spec.segments,
      spec.caption,
      spec.look,
      spec.thumbnail ?? 'webp',
      spec.reference?.digest ?? null,
      spec.parent ?? null,
    ]);
    const hit = cache.get(key);
    if (hit !== undefined) return { ...(await hit), renderMs: 0 };
    const pending = (async () => {
      await this.#acquire();
      try {
        return await this.#render(spec, createHash('sha256').update(key).digest('hex').slice(0, 16));
      } finally {
        this.#release();
      }
    })();
    cache.set(key, pending);
    try {
      const assets = await pending;
      remember(key, assets);
      return assets;
    } catch (error) {
      cache.delete(key);
      throw error;
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running--;
  }

  async #render(spec: RenderSpec, id: string): Promise<RenderedAssets> {
    const started = performance.now();
    const dir = await this.#dir();
    const { width: w, height: h, seconds } = spec;
    const fps = this.#fps;
    const rand = createPrng(seedFromString(`look-${spec.look}`));
    const hue = Math.floor(rand.next() * 360);
    const bg = hslHex(hue, 0.35, 0.18);
    const barA = hslHex((hue + 120) % 360, 0.8, 0.55);
    const barB = hslHex((hue + 240) % 360, 0.8, 0.55);
    const barW = Math.max(16, Math.round(w / 10 / 2) * 2);
    const barH = Math.max(16, Math.round(h / 12 / 2) * 2);
    const speedA = Math.round(w * (0.15 + rand.next() * 0.25));
    const speedB = Math.round(h * (0.1 + rand.next() * 0.2));
    const offA = Math.round(rand.next() * w);
    const offB = Math.round(rand.next() * h);
    const tone = 220 + Math.round(rand.next() * 440);

    const fontSize = Math.max(12, Math.round(Math.min(w, h) / 18));
    const small = Math.max(10, Math.round(fontSize * 0.55));
    const charsPerLine = Math.max(8, Math.floor((w * 0.86) / (fontSize * 0.6)));
    const files: string[] = [];
    const writeText = async (name: string, text: string): Promise<string> => {
      const file = `${id}-${name}.txt`;
      files.push(file);
      // drawtext expands %{...} in text files too; a literal % is written as %%.
      await writeFile(join(dir, file), text.replace(/%/g, '%%'));
      return file;
    };

    const filters: string[] = [
      `[0][1]overlay=x='mod(t*${speedA}+${offA},W+w)-w':y=0:shortest=1[a]`,
      `[a][2]overlay=x=0:y='mod(t*${speedB}+${offB},H+h)-h':shortest=1[b]`,
    ];
    const draw: string[] = [];
    let start = 0;
    for (const [i, segment] of spec.segments.entries()) {
      const file = await writeText(`p${i}`, wrapText(segment.prompt, charsPerLine, 8).join('\n'));
      const end = start + segment.seconds;
      const enable = spec.segments.length > 1 ? `:enable='between(t,${start},${end - 0.001})'` : '';
      draw.push(
        `drawtext=fontfile=font.ttf:textfile=${file}:fontsize=${fontSize}:line_spacing=${Math.round(fontSize / 5)}` +
          `:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=${Math.round(fontSize / 3)}:x=(w-tw)/2:y=(h-th)/2${enable}`,
      );
      start = end;
    }
    const info: string[] = [];
    const header = await writeText('h', 'sora-build emulator · placeholder video');
    const caption = await writeText('c', spec.caption);
    if (spec.parent !== undefined) {
      const chars = Math.max(8, Math.floor((w * 0.6) / (small * 0.6)));
      const lineage = await writeText('l', parentLines(spec.parent, chars).join('\n'));
      info.push(
        `drawtext=fontfile=font.ttf:textfile=${lineage}:fontsize=${small}:line_spacing=${Math.round(small / 4)}` +
          `:fontcolor=white:box=1:boxcolor=black@0.5:boxborderw=${Math.round(small / 4)}:x=${small}:y=${Math.round(small * 2.8)}`,
      );
    }
    info.push(
      `drawtext=fontfile=font.ttf:textfile=${header}:fontsize=${small}:fontcolor=white@0.85:x=w-tw-${small}:y=${small}`,
    );
    info.push(
      `drawtext=fontfile=font.ttf:text='%{pts\\:hms}':fontsize=${small}:fontcolor=white:x=${small}:y=${small}`,
    );
    info.push(
      `drawtext=fontfile=font.ttf:textfile=${caption}:fontsize=${small}:fontcolor=white@0.85:x=${small}:y=h-th-${small}`,
    );
    const grid = spriteGrid(seconds);
    const tile = w >= h ? `scale=256:-2` : `scale=-2:256`;
    // The reference image covers the prompt for the first second (the overlay repeats its one frame), under
    // the small header, time and lineage lines.
    const refInput = spec.audio ? 4 : 3;
    if (spec.reference !== undefined) {
      filters.push(
        `[b]${draw.join(',')}[p]`,
        `[${refInput}]scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1[r]`,
        `[p][r]overlay=x=0:y=0:enable='lt(t,1)'[q]`,
      );
    } else filters.push(`[b]${draw.join(',')}[q]`);
    filters.push(
      `[q]${info.join(',')},split=3[v][t0][s0]`,
      `[t0]trim=end_frame=1[t]`,
      `[s0]select='not(mod(n,${fps}))',${tile},tile=${grid.cols}x${grid.rows}[s]`,
    );
    const jpegThumb = spec.thumbnail === 'jpeg';
    const out = {
      video: `${id}.mp4`,
      thumbnail: `${id}-thumb.${jpegThumb ? 'jpg' : 'webp'}`,
      spritesheet: `${id}.jpg`,
    };
    const inputs = [
      `color=c=${bg}:size=${w}x${h}:rate=${fps}:duration=${seconds}`,
      `color=c=${barA}:size=${barW}x${h}:rate=${fps}`,
      `color=c=${barB}:size=${w}x${barH}:rate=${fps}`,
      ...(spec.audio ? [`sine=frequency=${tone}:sample_rate=48000:duration=${seconds}`] : []),
    ];
    const refFile = `${id}-ref`;
    if (spec.reference !== undefined) {
      await writeFile(join(dir, refFile), spec.reference.bytes);
      files.push(refFile);
    }
    const audioOut = spec.audio ? ['-map', '3:a', '-c:a', 'aac', '-b:a', '64k', '-ac', '2'] : [];
    const thumbCodec = jpegThumb ? ['-q:v', '4'] : ['-c:v', 'libwebp', '-quality', '70'];
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
      ...inputs.flatMap((i) => ['-f', 'lavfi', '-i', i]),
      ...(spec.reference !== undefined ? ['-i', refFile] : []),
      ...['-filter_complex', filters.join(';')],
      // `-t`, not `-frames:v`: with a frame count this ffmpeg closes the file after the last video frame and
      // keeps only the first AAC packets (0.06 s of sound in an 8 s video, issue 11).
      ...['-map', '[v]', ...audioOut, '-t', String(seconds)],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        out.video,
      ],
      ...['-map', '[t]', '-frames:v', '1', ...thumbCodec, out.thumbnail],
      ...['-map', '[s]', '-frames:v', '1', '-q:v', '5', out.spritesheet],
    ];
    files.push(out.video, out.thumbnail, out.spritesheet);
    try {
      await runFfmpeg(this.#ffmpegPath ?? resolveFfmpegPath(), args, { cwd: dir });
      const [video, thumbnail, spritesheet] = await Promise.all([
        readFile(join(dir, out.video)),
        readFile(join(dir, out.thumbnail)),
        readFile(join(dir, out.spritesheet)),
      ]);
      return { video, thumbnail, spritesheet, renderMs: performance.now() - started };
    } finally {
      await Promise.all(files.map((f) => rm(join(dir, f), { force: true })));
    }
  }

  async close(): Promise<void> {
    const dir = this.#workDir;
    this.#workDir = undefined;
    if (dir !== undefined) await rm(await dir, { recursive: true, force: true });
  }
}
