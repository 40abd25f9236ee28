/**
 * Request bodies as the service reads them: JSON, or `multipart/form-data` whose bracket keys
 * (`input_reference[file_id]`, `video[id]`, `tags[]`) nest the way the SDKs encode objects and arrays
 * (openai-videos-contract.md section 3). Both come out as one plain value tree, uploads as `UploadedFile`.
 */
import type { IncomingMessage } from 'node:http';
import type { Result } from '../core/result.ts';
import { fail, ok } from '../core/result.ts';

/** One uploaded file part. */
export class UploadedFile {
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: Buffer;

  constructor(options: { filename: string; contentType: string; bytes: Buffer }) {
    this.filename = options.filename;
    this.contentType = options.contentType;
    this.bytes = options.bytes;
  }
}

export interface MultipartPart {
  readonly name: string;
  /** Present for file parts. */
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
}

/** A parsed body: the fields, and which encoding carried them (some messages differ between the two). */
export interface ParsedBody {
  readonly kind: 'json' | 'multipart' | 'empty';
  readonly fields: Record<string, unknown>;
  /** Every file part in order with its field name (repeated names such as Sora 1's `files` keep them all). */
  readonly uploads: readonly { readonly name: string; readonly file: UploadedFile }[];
}

/** Reads the whole body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Result<Buffer, 'too-large'>> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) return fail('too-large');
    chunks.push(chunk);
  }
  return ok(Buffer.concat(chunks));
}

function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

function headerParam(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header);
  if (m?.[1] !== undefined) return m[1].replace(/\\(.)/g, '$1');
  const bare = new RegExp(`(?:^|;)\\s*${name}=([^;]+)`, 'i').exec(header);
  return bare?.[1]?.trim();
}

/** Splits a multipart/form-data body into its parts (RFC 7578). */
export function parseMultipart(body: Buffer, contentType: string): Result<MultipartPart[], string> {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return fail('multipart body without a boundary parameter');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) return fail('multipart body without its opening boundary');
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return ok(parts); // closing `--boundary--`
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) return fail('multipart part without a blank line after its headers');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) return fail('multipart body without its closing boundary');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    let disposition = '';
    let partType: string | undefined;
    for (const line of headers) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') disposition = value;
      else if (key === 'content-type') partType = value;
    }
    const name = headerParam(disposition, 'name');
    if (name === undefined) return fail('multipart part without a name');
    parts.push({
      name,
      filename: headerParam(disposition, 'filename'),
      contentType: partType,
      bytes: body.subarray(headerEnd + 4, next),
    });
    pos = next + 2;
  }
}

/** `a[b][]` -> `['a', 'b', '']`; a key without brackets is one segment. */
export function splitBracketKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/gy;
  re.lastIndex = open;
  let m: RegExpExecArray | null;
  let end = open;
  while ((m = re.exec(key)) !== null) {
    segments.push(m[1] ?? '');
    end = re.lastIndex;
  }
  // Anything after the last bracket is not bracket syntax: keep the key whole.
  return end === key.length ? segments : [key];
}

/** Folds the parts into one value tree, nesting bracket keys the way the SDKs' form encoders produce them. */
export function fieldsFromParts(parts: readonly MultipartPart[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const part of parts) {
    const value: unknown =
      part.filename !== undefined
        ? new UploadedFile({
            filename: part.filename,
            contentType: part.contentType ?? 'application/octet-stream',
            bytes: Buffer.from(part.bytes),
          })
        : part.bytes.toString('utf8');
    const path = splitBracketKey(part.name);
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      const nextIsArray = !last && path[i + 1] === '';
      if (Array.isArray(node)) {
        if (last) node.push(value);
        else {
          const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : {};
          node.push(child);
          node = child;
        }
        continue;
      }
      if (last) {
        node[seg] = value;
        break;
      }
      const existing = node[seg];
      if (nextIsArray ? Array.isArray(existing) : isPlainObject(existing)) {
        node = existing as Record<string, unknown> | unknown[];
      } else {
        const child: Record<string, unknown> | unknown[] = nextIsArray ? [] : {};
        node[seg] = child;
        node = child;
      }
    }
  }
  return root;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof UploadedFile)
  );
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export type BodyProblem =
  | { readonly reason: 'invalid-json' }
  | { readonly reason: 'not-an-object' }
  | { readonly reason: 'bad-multipart'; readonly detail: string }
  | { readonly reason: 'unsupported-type'; readonly contentType: string };

/** Decodes a body by its Content-Type: JSON, multipart, or nothing at all. */
export function parseBody(body: Buffer, contentType: string | undefined): Result<ParsedBody, BodyProblem> {
  const type = mediaType(contentType);
  if (body.length === 0 && type !== 'multipart/form-data')
    return ok({ kind: 'empty', fields: {}, uploads: [] });
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return fail({ reason: 'invalid-json' });
    }
    if (!isPlainObject(value)) return fail({ reason: 'not-an-object' });
    return ok({ kind: 'json', fields: value, uploads: [] });
  }
  if (type === 'multipart/form-data') {
    const parts = parseMultipart(body, contentType ?? '');
    if (!parts.ok) return fail({ reason: 'bad-multipart', detail: parts.error });
    const fields = fieldsFromParts(parts.value);
    const uploads = parts.value
      .filter((p) => p.filename !== undefined)
      .map((p) => ({
        name: p.name,
        file: new UploadedFile({
          filename: p.filename!,
          contentType: p.contentType ?? 'application/octet-stream',
          bytes: Buffer.from(p.bytes),
        }),
      }));
    return ok({ kind: 'multipart', fields, uploads });
  }
  return fail({ reason: 'unsupported-type', contentType: contentType ?? '' });
}
