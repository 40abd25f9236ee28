import type { BigIntStats, Stats } from 'node:fs';

/** What a path that is not a regular file is, in words for messages ("a folder", "a FIFO (named pipe)"). */
export function describeFileType(s: Stats | BigIntStats): string {
  if (s.isFile()) return 'a file';
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'a special file';
}
