/**
 * `sora-build review --export DIR`: the review page as a self-contained folder, for a pull request or a CI
 * artifact. `DIR/index.html` (the same page, without the pinning token and the live connection) and
 * `DIR/media/`: every video the page shows (`<digest>.mp4`, hardlinked from the store, or copied across
 * disks), the provider's thumbnails (`<digest>.webp`) and a poster frame for every other video
 * (`<digest>.jpg`). Every link in the page is relative, so it opens from disk (file://) and plays offline.
 */
import { mkdir, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sha256 } from '../core/brand.ts';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';
import { Store } from '../cache/store.ts';
import type { LoadedReview } from './review-model.ts';
import { renderPage } from './render-page.ts';
import { Posters } from './posters.ts';

export interface ExportReviewOptions {
  readonly loaded: LoadedReview;
  /** Absolute path of the folder to write. */
  readonly dir: string;
  /** @default the binary from `@ffmpeg-installer/ffmpeg` */
  readonly ffmpegPath?: string;
}

export interface ExportedReview {
  readonly index: string;
  readonly videos: number;
  readonly images: number;
}

/** Why nothing was exported. */
export type ExportFailure =
  /** The folder holds files that are not an earlier export: nothing is overwritten. */
  | { readonly reason: 'not-empty'; readonly dir: string }
  /** The project cannot be planned (the page would be empty). */
  | { readonly reason: 'no-project' };

/** The file a folder must contain to be recognised as an earlier export (and so be replaced). */
const MARKER = 'index.html';

export async function exportReview(
  options: ExportReviewOptions,
): Promise<Result<ExportedReview, ExportFailure>> {
  const { loaded, dir } = options;
  const project = loaded.project;
  if (project === undefined) return fail({ reason: 'no-project' });
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0 && !existing.includes(MARKER)) return fail({ reason: 'not-empty', dir });
  const mediaDir = path.join(dir, 'media');
  // An earlier export's media are replaced as a whole: no video of an older version lingers in the folder.
  await rm(mediaDir, { recursive: true, force: true });
  await mkdir(mediaDir, { recursive: true });
  const store = Store.open(project.config.cacheDir);
  const posters = new Posters({
    cacheDir: project.config.cacheDir,
    ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}),
  });
  const thumbnailOf = new Map<Sha256, Sha256>();
  for (const shot of loaded.model.shots)
    for (const t of shot.takes)
      if (t.video !== null && t.thumbnail !== null) thumbnailOf.set(t.video, t.thumbnail);
  let videos = 0;
  let images = 0;
  const copy = async (digest: Sha256, ext: string): Promise<void> => {
    const placed = await store.materialise(digest, path.join(mediaDir, `${digest}.${ext}`));
    if (!placed.ok) throw new Error(`internal error: store object ${digest} vanished during the export`);
  };
  const work: Promise<void>[] = [];
  for (const [digest, kind] of loaded.media) {
    if (kind === 'thumbnail') {
      work.push(copy(digest, 'webp'));
      images++;
      continue;
    }
    work.push(copy(digest, 'mp4'));
    videos++;
    if (!thumbnailOf.has(digest)) {
      work.push(
        posters.poster(digest, store.objectPath(digest)).then(async (poster) => {
          if (poster !== null) await copyFile(poster, path.join(mediaDir, `${digest}.jpg`));
        }),
      );
      images++;
    }
  }
  await Promise.all(work);
  const index = path.join(dir, MARKER);
  await writeFile(index, renderPage({ model: loaded.model, token: null, live: false }));
  return ok({ index, videos, images });
}
