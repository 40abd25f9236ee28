/**
 * Hostile storyboards and configs for the property "whatever the input, `validate` and `plan --json` exit
 * 0 or 2, never print a stack trace or an internal error, finish in bounded time and print a bounded
 * amount". A case starts from a valid project and applies a few mutations: line edits, type swaps, huge and
 * deeply nested values, odd Unicode, YAML anchors, tags and directives, `${...}` edge cases and hostile
 * paths (special files, symlinks out, /proc, /dev). Shared by test/fuzz/hostile-input.test.ts (a few dozen
 * cases in `npm test`) and test/fuzz/run-fuzz.ts (`npm run fuzz`, as long as you like).
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Valid storyboards the mutations start from. */
export const BASE_MANIFESTS: readonly string[] = [
  `version: 1
defaults:
  model: sora-2
  size: 1280x720
  seconds: 8
vars:
  product: Contoso ThermoMug
  look: 35mm film, golden hour
shots:
  harbor:
    prompt: Wide establishing shot of a misty harbor at dawn, \${look}.
  mug:
    prompt: Slow dolly-in on the \${product}, \${look}.
    input_reference: refs/mug.png
    fit: cover
    seconds: 4
  mug-teal:
    remix_of: mug
    prompt: Shift the palette to teal.
  teaser:
    size: 720x1280
    prompt: Vertical teaser, the \${product} spinning, \${env:FUZZ_VAR}.
    output: social/teaser.mp4
    assets: [video, thumbnail]
`,
  `version: 1
shots:
  a:
    prompt: "A quoted prompt with an escape \\u0041 and $\${literal}"
  b:
    extend_of: a
    prompt: >-
      A folded prompt
      over two lines.
    seconds: 4
  c:
    prompt: |
      A literal prompt.
    size: 1280x720
    input_reference: refs/frame-1280x720.png
`,
  `version: 1
defaults: { model: sora-2-pro, size: 1792x1024, seconds: "12" }
vars: { a: one, b: 2 }
shots: { x: { prompt: "\${a} \${b}" }, y: { prompt: plain, remix_of: x } }
`,
];

export const BASE_CONFIG = `version: 1
provider: emulator
providers:
  emulator:
    type: emulator
    render_seconds_per_second: 6
  azure:
    type: openai
    base_url: https://contoso.openai.azure.com/openai/v1/
    auth: api-key
    deployments: { sora-2: contoso-sora-2 }
    quota: { creates_per_minute: 2, max_in_flight: 4 }
    pricing: { sora-2: { usd_per_second: 0.10 } }
out_dir: out
cache_dir: .sora-build
`;

/** Paths a hostile user might write where a file or folder is expected. */
const HOSTILE_PATHS: readonly string[] = [
  '/etc/passwd',
  '../outside.png',
  'refs/',
  'refs/mug.png/',
  'refs/mug.png/x',
  'zero.png',
  'fifo.png',
  'loop.png',
  'outside-link.png',
  'folder.png',
  'lying.png',
  'nodata.jpg',
  'text.png',
  'refs/notes.png',
  '/dev/zero',
  '/dev/null',
  '/proc/self',
  '/proc/self/mem',
  '/sys/kernel',
  'storyboard.yaml',
  'sora.config.yaml',
  'a-file',
  'a-file/below',
  '.',
  '..',
  '~',
  'C:\\\\x.png',
  '\\\\\\\\server\\\\share',
  '"a\\u0000b.mp4"',
  '"a\\nb"',
  'x'.repeat(5000),
  `${'a/'.repeat(300)}x.png`,
  'social/teaser.mp4',
  'UPPER.MP4',
  '.mp4',
];

/** Values of every type and size, for type swaps. */
function hostileValues(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '0',
      '-1',
      '1e21',
      '1e400',
      '.nan',
      '.inf',
      '-.inf',
      '0x10',
      '0o17',
      '9007199254740993',
      '4.0',
      'true',
      'null',
      '~',
      '',
      '[]',
      '{}',
      '[a, [b, [c]]]',
      '{a: {b: {c: d}}}',
      '"8"',
      "'it''s'",
      '"\\x00\\x1b[31mred"',
      '!!binary aGk=',
      '!!js/function "function(){}"',
      '!custom value',
      '!!map {}',
      '!!str 8',
      '!!int "8"',
      '&anchor value',
      '*anchor',
      '*nowhere',
      '|-\n  block text',
      '>\n  folded\n  text',
      '"unterminated',
      '[unclosed',
      '{a: 1, a: 2}',
      '? complex\n: key',
    ),
    fc.constantFrom(...HOSTILE_PATHS),
    interpolationEdge(),
    oddUnicode(),
    hugeValue(),
  );
}

function interpolationEdge(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '${',
      '${}',
      '$${',
      '$$${x}',
      '${env:}',
      '${env:toString}',
      '${env:__proto__}',
      '${env:constructor}',
      '${env:hasOwnProperty}',
      '${env:valueOf}',
      '${env:FUZZ_VAR}',
      '${env:UNSET_FUZZ}',
      '${toString}',
      '${__proto__}',
      '${constructor}',
      '${a.b}',
      '${${look}}',
      '${look',
      '${look }',
      '${ look}',
      '${env:a-b}',
      '${lok}',
      '"${look}"',
    ),
    fc.integer({ min: 1, max: 20_000 }).map((n) => '${ '.repeat(n)),
    fc.integer({ min: 1, max: 5_000 }).map((n) => `"${'${product}'.repeat(n)}"`),
  );
}

function oddUnicode(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '\uFEFFbom',
      'a\u202Eevil',
      '"\\u0000"',
      '\u0000',
      '\u001b[2J',
      'a\u2028b',
      'é\u0301\u0301\u0301',
      '😀👨‍👩‍👧',
      '\uD800',
      '\uDFFF\uD800',
      '\r',
      'a\rb',
      '\t',
      '\u00A0',
      'ǅ',
      '\u200B',
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
  );
}

function hugeValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 100, max: 30_000 }).map((n) => `[${Array.from({ length: n }, () => 'x').join(', ')}]`),
    fc
      .integer({ min: 100, max: 30_000 })
      .map((n) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`),
    fc.integer({ min: 1, max: 12_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    fc.integer({ min: 1, max: 12_000 }).map((n) => `${'{a: '.repeat(n)}x${'}'.repeat(n)}`),
    fc
      .integer({ min: 1, max: 3_000 })
      .map((n) => `\n${Array.from({ length: n }, (_, i) => `${'  '.repeat(i + 3)}k${i}:`).join('\n')} x`),
    fc
      .integer({ min: 1, max: 3_000 })
      .map((n) => `\n${Array.from({ length: n }, (_, i) => `${'  '.repeat(i + 3)}- `).join('\n')}x`),
    fc.integer({ min: 1, max: 5_000 }).map((n) => `${'- '.repeat(n)}x`),
  );
}

/** Whole-document edits: directives, markers, several documents, an alias bomb. */
const DOCUMENT_EDITS: readonly ((text: string) => string)[] = [
  (t) => `%YAML 1.1\n---\n${t}`,
  (t) => `%YAML 1.2\n%TAG !e! tag:example.com,2000:\n---\n${t}`,
  (t) => `--- !!map\n${t}`,
  (t) => `${t}...\n`,
  (t) => `${t}---\nsecond: document\n`,
  (t) => `\uFEFF${t}`,
  (t) => t.replaceAll('\n', '\r\n'),
  (t) => t.replaceAll('  ', '\t'),
  (t) =>
    `${t}x-bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n`,
  (t) =>
    t
      .replace('shots:', 'base: &base\n  prompt: shared\nshots:')
      .replace(/(\n {2}\S+:\n)/, '$1    <<: *base\n'),
  (t) => t.replace(/prompt: (.*)/, 'prompt: &p $1').replace(/(\n {4})prompt: ([^&].*)/, '$1prompt: *p'),
  (t) => t.slice(0, Math.floor(t.length / 2)),
  (t) => `${t}\n`.repeat(3),
  () => '',
  () => '\u0000',
  () => '[]',
  () => '"just a string"',
];

export type Mutation =
  | { readonly kind: 'delete-line'; readonly at: number }
  | { readonly kind: 'duplicate-line'; readonly at: number }
  | { readonly kind: 'swap-lines'; readonly at: number; readonly other: number }
  | { readonly kind: 'indent'; readonly at: number; readonly by: number }
  | { readonly kind: 'insert-line'; readonly at: number; readonly indent: number; readonly text: string }
  | { readonly kind: 'replace-value'; readonly at: number; readonly value: string }
  | { readonly kind: 'replace-key'; readonly at: number; readonly key: string }
  | { readonly kind: 'insert-text'; readonly at: number; readonly text: string }
  | { readonly kind: 'document'; readonly edit: number };

const KEYS = [
  'prompt',
  'promt',
  'input_reference',
  'fit',
  'remix_of',
  'extend_of',
  'output',
  'assets',
  'seconds',
  'size',
  'model',
  'vars',
  'defaults',
  'shots',
  'version',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'out_dir',
  'cache_dir',
  'manifest',
  'provider',
  'providers',
  'quota',
  'creates_per_minute',
  'max_in_flight',
  'pricing',
  'base_url',
  '"quoted key"',
  '? complex',
  '<<',
  '"\\u0000"',
  'a'.repeat(3000),
];

function mutation(): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 1_000 });
  return fc.oneof(
    at.map((a) => ({ kind: 'delete-line' as const, at: a })),
    at.map((a) => ({ kind: 'duplicate-line' as const, at: a })),
    fc.tuple(at, at).map(([a, o]) => ({ kind: 'swap-lines' as const, at: a, other: o })),
    fc.tuple(at, fc.integer({ min: -4, max: 6 })).map(([a, by]) => ({ kind: 'indent' as const, at: a, by })),
    fc
      .tuple(at, fc.nat({ max: 8 }), fc.constantFrom(...KEYS), hostileValues())
      .map(([a, indent, key, value]) => ({
        kind: 'insert-line' as const,
        at: a,
        indent,
        text: `${key}: ${value}`,
      })),
    fc.tuple(at, hostileValues()).map(([a, value]) => ({ kind: 'replace-value' as const, at: a, value })),
    fc.tuple(at, fc.constantFrom(...KEYS)).map(([a, key]) => ({ kind: 'replace-key' as const, at: a, key })),
    fc
      .tuple(
        fc.nat({ max: 100_000 }),
        fc.oneof(
          oddUnicode(),
          interpolationEdge(),
          fc.constantFrom('[', '{', ':', '- ', '#', '&a ', '*a', '!', '"', "'", '|', '>', '%', '@', '`'),
        ),
      )
      .map(([a, text]) => ({ kind: 'insert-text' as const, at: a, text })),
    fc.nat({ max: DOCUMENT_EDITS.length - 1 }).map((edit) => ({ kind: 'document' as const, edit })),
  );
}

export function applyMutation(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const i = lines.length === 0 ? 0 : 'at' in m ? m.at % lines.length : 0;
  switch (m.kind) {
    case 'delete-line':
      lines.splice(i, 1);
      return lines.join('\n');
    case 'duplicate-line':
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    case 'swap-lines': {
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      return lines.join('\n');
    }
    case 'indent': {
      const line = lines[i] ?? '';
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + line : line.replace(new RegExp(`^ {0,${-m.by}}`), '');
      return lines.join('\n');
    }
    case 'insert-line':
      lines.splice(i, 0, ' '.repeat(m.indent) + m.text);
      return lines.join('\n');
    case 'replace-value': {
      const line = lines[i] ?? '';
      const colon = line.indexOf(': ');
      lines[i] = colon === -1 ? `${line} ${m.value}` : `${line.slice(0, colon + 2)}${m.value}`;
      return lines.join('\n');
    }
    case 'replace-key': {
      const line = lines[i] ?? '';
      lines[i] = line.replace(/^(\s*(?:- )?)[^:\s][^:]*:/, `$1${m.key}:`);
      return lines.join('\n');
    }
    case 'insert-text': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'document':
      return DOCUMENT_EDITS[m.edit % DOCUMENT_EDITS.length]!(text);
  }
}

export interface HostileCase {
  readonly manifest: string;
  /** undefined: no config file (built-in defaults). */
  readonly config: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** Extra command-line arguments for both commands. */
  readonly args: readonly string[];
  /** What stands where the lockfile goes. @default none */
  readonly lockfile?: 'none' | 'fifo' | 'zero' | 'folder' | 'garbage' | 'conflict';
}

export function hostileCase(): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      base: fc.nat({ max: BASE_MANIFESTS.length - 1 }),
      manifestMutations: fc.array(mutation(), { minLength: 0, maxLength: 4 }),
      withConfig: fc.boolean(),
      configMutations: fc.array(mutation(), { minLength: 0, maxLength: 3 }),
      configPath: fc.option(
        fc.tuple(fc.constantFrom('out_dir', 'cache_dir', 'manifest'), fc.constantFrom(...HOSTILE_PATHS)),
        { freq: 3 },
      ),
      envValue: fc.option(fc.oneof(oddUnicode(), fc.constantFrom('x'.repeat(40_000), '${look}'))),
      lockfile: fc.constantFrom('none', 'none', 'none', 'fifo', 'zero', 'folder', 'garbage', 'conflict'),
      args: fc.constantFrom<readonly string[]>(
        [],
        [],
        [],
        ['--provider', 'azure'],
        ['--provider', 'nope'],
        ['--provider', 'toString'],
      ),
    })
    .map((r) => {
      const manifest = r.manifestMutations.reduce(applyMutation, BASE_MANIFESTS[r.base]!);
      let config: string | undefined;
      if (r.withConfig) {
        config = r.configMutations.reduce(applyMutation, BASE_CONFIG);
        if (r.configPath !== null) {
          const [field, value] = r.configPath;
          config = config.includes(`${field}:`)
            ? config.replace(new RegExp(`${field}: .*`), `${field}: ${value}`)
            : `${config}${field}: ${value}\n`;
        }
      }
      // An environment cannot hold a NUL (the kernel passes C strings).
      const env: Record<string, string> =
        r.envValue === null ? {} : { FUZZ_VAR: r.envValue.replaceAll('\0', '') };
      return { manifest, config, env, args: r.args, lockfile: r.lockfile };
    });
}

/**
 * Writes a case into `dir`: the storyboard, the config, real reference images from examples/, and the
 * special files the hostile paths name (a FIFO, symlinks to /dev/zero, out of the project and to
 * themselves, a folder named like an image, lying image headers).
 */
export async function writeCase(dir: string, c: HostileCase): Promise<void> {
  await mkdir(path.join(dir, 'refs'), { recursive: true });
  await writeFile(path.join(dir, 'storyboard.yaml'), c.manifest);
  if (c.config !== undefined) await writeFile(path.join(dir, 'sora.config.yaml'), c.config);
  await copyFile(path.join(REPO, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png'));
  for (const name of ['frame-1280x720.png', 'notes.png', 'small-640x480.png', 'really-a-jpeg.png']) {
    await copyFile(path.join(REPO, 'examples/broken/refs', name), path.join(dir, 'refs', name));
  }
  execFileSync('mkfifo', [path.join(dir, 'fifo.png')]);
  await symlink('/dev/zero', path.join(dir, 'zero.png'));
  await symlink('loop.png', path.join(dir, 'loop.png'));
  await symlink('/etc/hostname', path.join(dir, 'outside-link.png'));
  await mkdir(path.join(dir, 'folder.png'));
  await writeFile(path.join(dir, 'a-file'), 'not a folder\n');
  await writeFile(path.join(dir, 'text.png'), 'just text\n');
  await writeFile(path.join(dir, 'lying.png'), lyingPng(100_000, 100_000));
  await writeFile(path.join(dir, 'nodata.jpg'), jpegWithoutScan(1280, 720));
  const lock = path.join(dir, 'storyboard.lock');
  switch (c.lockfile ?? 'none') {
    case 'none':
      break;
    case 'fifo':
      execFileSync('mkfifo', [lock]);
      break;
    case 'zero':
      await symlink('/dev/zero', lock);
      break;
    case 'folder':
      await mkdir(lock);
      break;
    case 'garbage':
      await writeFile(lock, '\u0000{{{[[[: - ? !!\n'.repeat(100));
      break;
    case 'conflict':
      await writeFile(lock, 'version: 1\n<<<<<<< HEAD\nshots: {}\n=======\nshots: []\n>>>>>>> branch\n');
      break;
  }
}

/** A PNG signature and IHDR claiming `width` x `height`, and no image data. */
export function lyingPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 6, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

/** SOI, a frame header (SOF0) for `width` x `height`, then EOI: a header and no image data. */
export function jpegWithoutScan(width: number, height: number): Buffer {
  const sof = Buffer.from([
    0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
  ]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

export interface RunOutcome {
  readonly code: number | null;
  /** The signal that ended a child process (SIGABRT: V8 out of memory). */
  readonly signal?: string;
  /** As kept (a child's output is kept only up to a few MiB); the byte counts are complete. */
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  readonly ms: number;
  /** Killed after the time bound. */
  readonly timedOut: boolean;
}

/** Bounds every run must keep, whatever the input. */
export const BOUNDS = {
  /** Per command; generous for a loaded CI machine (a typical case takes well under a second). */
  ms: 20_000,
  /** stderr: at most 200 diagnostics, each clipped. */
  stderrBytes: 1024 * 1024,
  /** stdout (`plan --json`): proportional to the project, which the input bounds. */
  stdoutBytes: (inputBytes: number): number => 1024 * 1024 + 8 * inputBytes,
} as const;

/** What is wrong with one run, in words (empty: nothing). */
export function violations(run: RunOutcome, inputBytes: number): string[] {
  const found: string[] = [];
  if (run.timedOut) found.push(`did not finish within ${BOUNDS.ms} ms`);
  else if (run.code !== 0 && run.code !== 2)
    found.push(`exit code ${run.code}${run.signal === undefined ? '' : ` (${run.signal})`}, expected 0 or 2`);
  if (run.ms > BOUNDS.ms) found.push(`took ${Math.round(run.ms)} ms`);
  const all = `${run.stdout}\n${run.stderr}`;
  if (/internal error/i.test(all)) found.push('printed "internal error"');
  if (/^\s+at .+(:\d+:\d+\)?|\(native\))$/m.test(all)) found.push('printed a stack trace');
  if (/heap out of memory|Maximum call stack/i.test(all)) found.push('ran out of memory or stack');
  const errBytes = run.stderrBytes;
  const outBytes = run.stdoutBytes;
  if (errBytes > BOUNDS.stderrBytes) found.push(`printed ${errBytes} bytes to stderr`);
  if (outBytes > BOUNDS.stdoutBytes(inputBytes)) found.push(`printed ${outBytes} bytes to stdout`);
  return found;
}

export function inputBytes(c: HostileCase): number {
  return Buffer.byteLength(c.manifest) + Buffer.byteLength(c.config ?? '');
}
