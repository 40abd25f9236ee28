/** Where a shot's extra asset goes beside its video in `out/`: `teaser.mp4` -> `teaser.thumbnail.webp`. */
export function assetPath(videoPath: string, variant: 'thumbnail' | 'spritesheet'): string {
  const base = videoPath.replace(/\.mp4$/i, '');
  return variant === 'thumbnail' ? `${base}.thumbnail.webp` : `${base}.spritesheet.jpg`;
}
