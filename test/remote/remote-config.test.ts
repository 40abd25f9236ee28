/**
 * `cache.remote` in sora.config.yaml (read, checked, memoised) and the choice of the remote-cache mode.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { lineAndColumn } from '../../src/core/diagnostic.ts';
import { decideRemoteMode } from '../../src/remote/remote-mode.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-remote-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  await writeFile(path.join(dir, 'sora.config.yaml'), text);
  return loadConfig({ cwd: dir, startDir: dir });
}

const where = (d: { location: { file: { contents: string }; range: { offset: number } } }) => {
  const { line, col } = lineAndColumn(d.location.file.contents, d.location.range.offset);
  return `${line}:${col}`;
};

describe('cache.remote', () => {
  const GOOD = `version: 1
cache:
  remote:
    type: azure-blob
    container: team-videos
    account_url: https://contoso.blob.core.windows.net
`;

  it('is read with its place in the file, and read the same from the memo the second time', async () => {
    for (let i = 0; i < 2; i++) {
      const { config, diagnostics } = await load(GOOD);
      expect(diagnostics).toEqual([]);
      expect(config?.remoteCache).toMatchObject({
        type: 'azure-blob',
        container: 'team-videos',
        accountUrl: 'https://contoso.blob.core.windows.net',
      });
      expect(where(config!.remoteCache!)).toBe('3:3');
    }
  });

  it('refuses, at their line and column, a SAS token in account_url (without echoing it), a bad container name and an unknown type', async () => {
    const { config, diagnostics } = await load(`version: 1
cache:
  remote:
    type: azure-blob
    container: team-videos
    account_url: https://contoso.blob.core.windows.net/?sv=2024&sig=SECRETSIGNATURE
`);
    expect(config).toBeUndefined();
    expect(diagnostics.map((d) => `${where(d)} ${d.message}`)).toEqual([
      expect.stringMatching(
        /^6:18 Expected `account_url` without a query or credentials \(a SAS token is a secret/,
      ),
    ]);
    expect(JSON.stringify(diagnostics.map((d) => d.message))).not.toContain('SECRETSIGNATURE');

    const bad = await load(`version: 1
cache:
  remote:
    type: s3
    container: Team--Videos
`);
    expect(bad.config).toBeUndefined();
    expect(bad.diagnostics.map(where)).toEqual(['4:11', '5:16']);
  });
});

describe('the remote-cache mode', () => {
  const facts = { flag: undefined, configured: true, hasKey: true, hasAccount: true, ci: false } as const;
  it.each([
    ['a laptop reads', facts, { mode: 'read' }],
    ['a CI runner reads and writes', { ...facts, ci: true }, { mode: 'readwrite' }],
    ['the flag decides', { ...facts, ci: true, flag: 'read' }, { mode: 'read' }],
    ['off is off', { ...facts, flag: 'off' }, { mode: 'off', note: null }],
    ['no config: off, silently', { ...facts, configured: false }, { mode: 'off', note: null }],
    [
      'no key: off, saying why',
      { ...facts, hasKey: false },
      { mode: 'off', note: expect.stringContaining('SORA_BUILD_CACHE_KEY') as string },
    ],
    [
      'no key but asked for: an error',
      { ...facts, hasKey: false, flag: 'readwrite' },
      { mode: 'error', message: expect.stringContaining('SORA_BUILD_CACHE_KEY') as string },
    ],
    [
      'asked for without a config: an error',
      { ...facts, configured: false, flag: 'read' },
      { mode: 'error', message: expect.stringContaining('cache.remote') as string },
    ],
  ] as const)('%s', (_name, input, expected) => {
    expect(decideRemoteMode(input)).toEqual(expected);
  });
});
