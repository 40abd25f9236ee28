/**
 * The duration of an uploaded MP4 from its `moov/mvhd` box, read from the bytes in memory (uploads are
 * small). Enough for the checks a service makes on an input video ("at most 5 s"); not a decoder.
 */

/** Seconds, or null when the bytes are not an MP4 with a readable `mvhd`. */
export function mp4DurationSeconds(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = box(view, 0, bytes.length);
  if (first === null || first.type !== 'ftyp') return null;
  const moov = child(view, 0, bytes.length, 'moov');
  if (moov === null) return null;
  const mvhd = child(view, moov.payload, moov.end, 'mvhd');
  if (mvhd === null || mvhd.end - mvhd.payload < 32) return null;
  const version = view.getUint8(mvhd.payload);
  // version 0: 4-byte creation and modification times, then timescale and a 4-byte duration; version 1: 8-byte.
  const timescale = view.getUint32(mvhd.payload + (version === 1 ? 20 : 12));
  const duration =
    version === 1 ? Number(view.getBigUint64(mvhd.payload + 24)) : view.getUint32(mvhd.payload + 16);
  return timescale === 0 ? null : duration / timescale;
}

interface Box {
  readonly type: string;
  readonly payload: number;
  readonly end: number;
}

function box(view: DataView, at: number, limit: number): Box | null {
  if (at + 8 > limit) return null;
  let size = view.getUint32(at);
  const type = String.fromCharCode(
    view.getUint8(at + 4),
    view.getUint8(at + 5),
    view.getUint8(at + 6),
    view.getUint8(at + 7),
  );
  let header = 8;
  if (size === 1) {
    if (at + 16 > limit) return null;
    size = Number(view.getBigUint64(at + 8));
    header = 16;
  } else if (size === 0) size = limit - at;
  if (size < header || at + size > limit) return null;
  return { type, payload: at + header, end: at + size };
}

function child(view: DataView, from: number, to: number, type: string): Box | null {
  for (let at = from; at < to;) {
    const b = box(view, at, to);
    if (b === null) return null;
    if (b.type === type) return b;
    at = b.end;
  }
  return null;
}
