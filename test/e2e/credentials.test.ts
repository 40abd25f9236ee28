/**
 * Credentials are checked once, before anything is sent: a missing API key or an Entra ID token that
 * cannot be obtained stops `build` with exit 2 and one message, no request reaches the service and no
 * per-minute quota slot is taken. A build with nothing to generate needs no credentials at all.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject } from './harness.ts';
import type { Project } from './harness.ts';

const STORYBOARD = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  harbor: { prompt: A misty harbor at dawn. }
  pier: { prompt: A wooden pier in fog. }
`;

let project: Project | undefined;
let identity: Server | undefined;
afterEach(async () => {
  await project?.close();
  await new Promise((resolve) => (identity ? identity.close(resolve) : resolve(undefined)));
  project = undefined;
  identity = undefined;
});

/** Nothing reached the emulator and the shared per-minute ledger recorded no create. */
function nothingSent(p: Project): void {
  expect(p.emulator.requestLog()).toEqual([]);
  expect(existsSync(join(p.dir, '.sora-build', 'quota', 'local.json'))).toBe(false);
  expect(existsSync(join(p.dir, '.sora-build', 'journal', 'journal.ndjson'))).toBe(false);
}

describe('credentials, checked before anything is sent', () => {
  it('a missing API key: exit 2 naming both variables, before any request', async () => {
    project = await makeProject();
    await project.write('storyboard.yaml', STORYBOARD);
    const r = await project.run(['build', '--reporter', 'plain'], {
      env: { OPENAI_API_KEY: '', AZURE_OPENAI_API_KEY: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `sora-build build: local: no API key for ${project.emulator.url}/v1: set OPENAI_API_KEY or AZURE_OPENAI_API_KEY, ` +
        'or use `auth: entra` in sora.config.yaml for Microsoft Entra ID; nothing was sent.\n',
    );
    nothingSent(project);

    // With the key, the same build goes through.
    const ok = await project.run(['build', '--reporter', 'plain']);
    expect(ok.code).toBe(0);
    // Nothing left to generate: no key needed, nothing sent.
    project.emulator.clearLog();
    const again = await project.run(['build', '--reporter', 'plain'], { env: { OPENAI_API_KEY: '' } });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('built 0 · fresh 2 · cached 0');
    expect(project.emulator.requestLog()).toEqual([]);
  });

  it('an Entra ID token that cannot be obtained: exit 2 with the identity error, before any request', async () => {
    // A managed identity endpoint (App Service style) that refuses: DefaultAzureCredential gets no token.
    let asked = 0;
    identity = createServer((_req, res) => {
      asked++;
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'invalid_request', error_description: 'Identity not found' }));
    });
    await new Promise<void>((resolve) => identity!.listen(0, '127.0.0.1', resolve));
    const address = identity.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    project = await makeProject();
    await project.write(
      'sora.config.yaml',
      (await project.read('sora.config.yaml')).replace(
        '    type: openai\n',
        '    type: openai\n    auth: entra\n',
      ),
    );
    await project.write('storyboard.yaml', STORYBOARD);
    const r = await project.run(['build', '--reporter', 'plain'], {
      env: {
        OPENAI_API_KEY: '',
        IDENTITY_ENDPOINT: `http://127.0.0.1:${address.port}/msi/token`,
        IDENTITY_HEADER: 'test-header',
        // No developer tools to fall back on.
        PATH: '/nonexistent',
      },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^sora-build build: local: could not get an Entra ID token for https:\/\/cognitiveservices\.azure\.com\/\.default: [\s\S]+Identity not found[\s\S]+`az login`; nothing was sent\.\n$/,
    );
    expect(asked).toBeGreaterThan(0);
    nothingSent(project);
  });
});
