/**
 * Shared test helpers for the emulator: the response contract (the project's own JSON Schemas in
 * contract/openai-videos.schema.json), a media parser for downloaded videos, and tiny PNG files.
 */
import { readFileSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { ALL_FORMATS, BufferSource, Input } from 'mediabunny';

/** The contract file, inside the repository: a fresh clone has everything its tests need. */
export const CONTRACT_URL = new URL('./contract/openai-videos.schema.json', import.meta.url);

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): Ajv {
  if (ajv !== undefined) return ajv;
  ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addSchema(JSON.parse(readFileSync(CONTRACT_URL, 'utf8')) as object, 'contract');
  return ajv;
}

/**
 * Asserts `body` matches the contract's `$defs[name]`. Its objects are closed, so a key the API does not
 * have fails too.
 */
export function expectSchema(name: string, body: unknown): void {
  const a = load();
  let validate = compiled.get(name);
  if (validate === undefined) {
    const found = a.getSchema(`contract#/$defs/${name}`);
    if (found === undefined) throw new Error(`The contract has no schema named ${name}`);
    validate = found;
    compiled.set(name, validate);
  }
  if (!validate(body)) {
    throw new Error(`${name} schema mismatch: ${a.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  }
}

export interface MediaFacts {
  readonly mimeType: string;
  readonly duration: number;
  readonly videoCodec: string | null;
  readonly width: number;
  readonly height: number;
  readonly audioCodec: string | null;
}

/** Parses an MP4 with mediabunny: container, codecs, size and duration. */
export async function probeMedia(bytes: Uint8Array): Promise<MediaFacts> {
  const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
  const video = await input.getPrimaryVideoTrack();
  const audio = await input.getPrimaryAudioTrack();
  return {
    mimeType: await input.getMimeType(),
    duration: await input.computeDuration(),
    videoCodec: video?.codec ?? null,
    width: video?.displayWidth ?? 0,
    height: video?.displayHeight ?? 0,
    audioCodec: audio?.codec ?? null,
  };
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid grey PNG of the given size (and grey level, so two images of one size can differ). */
export function makePng(width: number, height: number, grey = 0x80): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, grey);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter byte
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Sends a request and returns status, headers and the parsed JSON body. */
export async function call(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization') && !headers.has('api-key'))
    headers.set('authorization', 'Bearer sk-test');
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { ...init, headers, body: body ?? null });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
