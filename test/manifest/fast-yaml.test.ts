/**
 * The fast reading (js-yaml events turned into a `yaml` Document) against the `yaml` package's own parse,
 * node by node: whenever the fast reader answers, its tree must be the full parse's tree (kinds, values,
 * scalar types and the ranges diagnostics are drawn from), and whenever the full parse finds a problem it
 * must not answer at all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { manifestText } from '../../bench/generate-manifest.ts';
import { parseYamlFast } from '../../src/manifest/fast-yaml.ts';

function slowParse(text: string) {
  return parseDocument(text, { uniqueKeys: false, prettyErrors: false, keepSourceTokens: false });
}

function hasDuplicateKeys(node: unknown): boolean {
  if (isMap(node)) {
    const keys = node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '\0'));
    if (new Set(keys).size !== keys.length) return true;
    return node.items.some((p) => hasDuplicateKeys(p.value));
  }
  if (isSeq(node)) return node.items.some(hasDuplicateKeys);
  return false;
}

/** Where the two trees differ, as a list of human-readable paths (empty when they agree). */
function differences(fast: unknown, slow: unknown, at: string, out: string[]): void {
  const kind = (n: unknown) => (isMap(n) ? 'map' : isSeq(n) ? 'seq' : isScalar(n) ? 'scalar' : String(n));
  if (kind(fast) !== kind(slow)) {
    out.push(`${at}: ${kind(fast)} vs ${kind(slow)}`);
    return;
  }
  const fr = (fast as Node).range;
  const sr = (slow as Node).range;
  if (fr?.[0] !== sr?.[0] || fr?.[1] !== sr?.[1])
    out.push(`${at}: range ${JSON.stringify(fr)} vs ${JSON.stringify(sr)}`);
  if (isScalar(fast) && isScalar(slow)) {
    if (!Object.is(fast.value, slow.value))
      out.push(`${at}: value ${JSON.stringify(fast.value)} vs ${JSON.stringify(slow.value)}`);
    if (fast.type !== slow.type) out.push(`${at}: type ${fast.type} vs ${slow.type}`);
  } else if (isMap(fast) && isMap(slow)) {
    if (fast.items.length !== slow.items.length)
      out.push(`${at}: ${fast.items.length} vs ${slow.items.length} pairs`);
    fast.items.forEach((p, i) => {
      const q = slow.items[i];
      differences(p.key, q?.key, `${at}/key${i}`, out);
      differences(p.value, q?.value, `${at}/${isScalar(p.key) ? String(p.key.value) : i}`, out);
    });
  } else if (isSeq(fast) && isSeq(slow)) {
    if (fast.items.length !== slow.items.length)
      out.push(`${at}: ${fast.items.length} vs ${slow.items.length} items`);
    fast.items.forEach((n, i) => differences(n, slow.items[i], `${at}/${i}`, out));
  }
}

/** 'fast' when the fast reader answered (and agreed), 'fallback' when it declined. Throws on a disagreement. */
function check(text: string): 'fast' | 'fallback' {
  const slow = slowParse(text);
  const fast = parseYamlFast(text);
  if (fast === undefined) return 'fallback';
  const problems: string[] = [];
  if (slow.errors.length > 0 || slow.warnings.length > 0)
    problems.push(
      `answered where the full parse reports: ${[...slow.errors, ...slow.warnings].map((e) => e.message).join('; ')}`,
    );
  else if (hasDuplicateKeys(slow.contents)) problems.push('answered for a mapping with a key given twice');
  else {
    expect(fast.value).toEqual(slow.toJS());
    expect(fast.doc.toJS()).toEqual(slow.toJS());
    differences(fast.doc.contents, slow.contents, '', problems);
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n--- text ---\n${text}`);
  return 'fast';
}

const AGREE: readonly string[] = [
  'version: 1\nshots:\n  a:\n    prompt: A harbor at dawn.\n',
  'version: 1\nshots:\n  a:\n    prompt: "Double \\"quoted\\" \\u00e9 \\t tab"\n    seconds: \'8\'\n',
  "a: 'single ''quoted'' text'\nb: \"\"\nc: ''\n",
  'a: |\n  literal\n  lines\nb: >\n  folded\n  lines\n\nc: |-\n  strip\nd: >-\n  folded strip\n    more indented\n  back\n',
  'a: |\n  text\n\n\n# comment\nb: 1\n',
  'prompt: first line\n  continues here\n  and here\nnext: x\n',
  'prompt: "quoted over\n  two lines"\nnext: x\n',
  'defaults: { model: sora-2, size: "1280x720", seconds: 4 }   # trailing comment\nx: [a, b, c]\n',
  'x: [ a , b ,c ]\ny: {  }\nz: [ ]\nw: { a: [1, 2], b: { c: d } }\n',
  'x: [\n  a,\n  b,   # comment\n  c\n]\ny: 1\n',
  'fit:\nnext: 1\n',
  'fit:   # empty, then a comment\nnext: 1\n',
  'only:',
  'a: 1\nb:',
  'n: [0x1F, 0o17, 017, 1e3, 1E-3, .5, +1, -0, 1_0, 0b1, .inf, -.Inf, .nan, 1.50, 08, 8.]\n',
  'b: [true, True, TRUE, false, yes, no, on, off, y, n]\nnul: [~, null, Null, NULL, nil]\n',
  '123: numeric key\n1.5: float key\ntrue: bool key\n',
  'emoji: "🎬 scene ✨"\nplain: 🎬 scene ✨ with ünïcode\nkey✨: v\n',
  'a: 1\r\nb:\r\n  c: two\r\n  d: [x, y]\r\n',
  'no-newline-at-end: value',
  '# only a comment first\n\n\nversion: 1 # one\n\nshots:   # all of them\n\n  a:   \n    prompt: x   \n',
  'list:\n- a\n- b\nnested:\n  - x: 1\n    y: 2\n  - - deep\n    - er\n',
  'assets:\n  - video\n  - thumbnail\nnext: 1\n',
  'url: http://example.com/a#b\ncolon: a:b\ndash: -a\nq: a?b\n',
  'long: ' + 'word '.repeat(400) + '\n',
  'k: v # c\n# c2\n  # c3\nk2: v2\n',
  'a:\n  b:\n    c:\n      d: deep\n  e: up\n',
  'text: >\n  para one\n\n  para two\nafter: 1\n',
  '? explicit\n: key\n',
  'plain scalar document\n',
  'lit: |\n    indented more\n  \nafter: 1\n',
];

const BROKEN: readonly string[] = [
  'a: 1\na: 2\n',
  'shots:\n  a:\n    prompt: x\n  a:\n    prompt: y\n',
  'a: b: c\n',
  'prompt: A shot: with a colon\n',
  'a: "unclosed\n',
  "a: 'unclosed\n",
  'a:\n\t- tab\n',
  'a: 1\n---\nb: 2\n',
  '---\na: 1\n',
  '%YAML 1.2\n---\na: 1\n',
  'base: &b { model: sora-2 }\nshot: *b\n',
  'a: *nowhere\n',
  'a: !!str 8\n',
  'a: !custom x\n',
  '[a, b]: flow key\n',
  '__proto__: x\n',
  'a: [1, 2\n',
  'a: {b: 1\n',
  'a:\n  - x\n - y\n',
  '  a: 1\nb: 2\n',
  'a: |+\n  keep\n\nb: 1\n',
  'a: |2\n   explicit\nb: 1\n',
  'a:\n  - \n  - x\n',
  '',
  '# just a comment\n',
];

describe('parseYamlFast', () => {
  it('agrees with the full parse, node by node, on every form storyboards use', () => {
    const outcomes = AGREE.map(check);
    // The common forms are read fast (not merely declined).
    expect(outcomes.filter((o) => o === 'fast').length).toBeGreaterThanOrEqual(AGREE.length - 3);
  });

  it('never answers where the full parse finds a problem, nor for anchors, aliases, tags or complex keys', () => {
    for (const text of BROKEN) expect(check(text), JSON.stringify(text)).toBe('fallback');
  });

  it('reads the examples and the benchmark storyboards fast', () => {
    const examples = path.join(import.meta.dirname, '../../examples');
    const files = readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.yaml') && !f.endsWith('.config.yaml') && !f.includes('ci/'),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const outcome = check(readFileSync(path.join(examples, f), 'utf8'));
      // The deliberately broken examples may go either way; they only must not disagree.
      if (!f.startsWith('broken')) expect(outcome, f).toBe('fast');
    }
    expect(check(manifestText(400))).toBe('fast');
  });

  it('agrees on generated storyboards mixing every scalar style, comment and collection form', () => {
    let seed = 20261130;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const words = [
      'harbor',
      'mug',
      'dawn',
      '35mm',
      'teal',
      'a:b',
      'x#y',
      '🎬',
      'ünï',
      '8',
      '0x1',
      '1e3',
      'true',
      '~',
      '-',
    ];
    const scalar = (indent: string): string => {
      const text = Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(words)).join(' ');
      switch (Math.floor(random() * 8)) {
        case 0:
          return JSON.stringify(text);
        case 1:
          return `'${text.replaceAll("'", "''")}'`;
        case 2:
          return `|\n${indent}  ${text}\n${indent}  ${pick(words)}`;
        case 3:
          return `>-\n${indent}  ${text}\n\n${indent}  ${pick(words)}`;
        case 4:
          return `[${text.split(' ').join(', ')}]`;
        case 5:
          return '';
        default:
          return text;
      }
    };
    const comment = (): string => (random() < 0.3 ? `  # ${pick(words)}` : '');
    let fast = 0;
    for (let n = 0; n < 300; n++) {
      const lines = [
        'version: 1',
        `defaults: { model: sora-2, seconds: ${pick(['4', '8', '"8"'])} }${comment()}`,
        'shots:',
      ];
      for (let s = 0; s < 1 + Math.floor(random() * 6); s++) {
        lines.push(`  shot${n}_${s}:${comment()}`);
        if (random() < 0.2) lines.push('');
        for (const field of ['prompt', 'seconds', 'output', 'assets', 'fit']) {
          if (random() < 0.5) continue;
          const value = scalar('    ');
          lines.push(
            `    ${field}:${value === '' ? '' : ` ${value}`}${value.includes('\n') ? '' : comment()}`,
          );
        }
      }
      if (check(`${lines.join(random() < 0.1 ? '\r\n' : '\n')}\n`) === 'fast') fast++;
    }
    // Generated storyboards are mostly valid YAML: the fast reading answers for most of them.
    expect(fast).toBeGreaterThan(150);
  });
});
