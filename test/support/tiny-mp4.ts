/**
 * The smallest bytes an MP4 reader takes for a duration: `ftyp`, then `moov` holding only `mvhd` (timescale
 * 1000), then an empty `mdat`. Not playable: for checks that read the duration from the header (the
 * emulator's input-video limit), where a rendered video would only cost time.
 */
export function tinyMp4(seconds: number): Uint8Array {
  const box = (type: string, payload: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length, 0);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, payload]);
  };
  const mvhd = Buffer.alloc(100); // version 0: flags, creation, modification, timescale, duration, …
  mvhd.writeUInt32BE(1000, 12);
  mvhd.writeUInt32BE(Math.round(seconds * 1000), 16);
  const ftyp = Buffer.concat([
    Buffer.from('isom', 'latin1'),
    Buffer.alloc(4),
    Buffer.from('isomavc1', 'latin1'),
  ]);
  return new Uint8Array(
    Buffer.concat([box('ftyp', ftyp), box('moov', box('mvhd', mvhd)), box('mdat', Buffer.alloc(0))]),
  );
}
