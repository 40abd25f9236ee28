/**
 * Entra ID through the real CLI: `auth: entra` makes the openai provider ask @azure/identity's
 * DefaultAzureCredential for a token (scope https://cognitiveservices.azure.com/.default). The test plays
 * the managed identity endpoint (App Service style: IDENTITY_ENDPOINT + IDENTITY_HEADER, on loopback), and
 * the emulator accepts only the bearer token that endpoint issued.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { makeProject } from './harness.ts';
import type { Project } from './harness.ts';

vi.setConfig({ testTimeout: 120_000 });

const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.entra-test-token.signature';

let project: Project | undefined;
let identity: Server | undefined;
afterEach(async () => {
  await project?.close();
  await new Promise((resolve) => (identity ? identity.close(resolve) : resolve(undefined)));
  project = undefined;
  identity = undefined;
});

async function identityEndpoint(token: string): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  identity = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} header=${String(req.headers['x-identity-header'])}`);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        access_token: token,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: 'https://cognitiveservices.azure.com',
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => identity!.listen(0, '127.0.0.1', resolve));
  const address = identity.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/msi/token`, requests };
}

async function entraProject(): Promise<Project> {
  const p = await makeProject({ emulator: { bearerTokens: [TOKEN] } });
  await p.write(
    'sora.config.yaml',
    (await p.read('sora.config.yaml')).replace('    type: openai\n', '    type: openai\n    auth: entra\n'),
  );
  await p.write(
    'storyboard.yaml',
    'version: 1\ndefaults: { model: sora-2, size: 1280x720, seconds: 4 }\nshots:\n  harbor:\n    prompt: A misty harbor at dawn.\n',
  );
  return p;
}

it('builds with a token from DefaultAzureCredential, which never reaches a file or the output', async () => {
  project = await entraProject();
  const endpoint = await identityEndpoint(TOKEN);
  const env = {
    OPENAI_API_KEY: '',
    IDENTITY_ENDPOINT: endpoint.url,
    IDENTITY_HEADER: 'identity-header-value',
  };
  const result = await project.run(['build', '--reporter', 'plain'], { env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(endpoint.requests[0]).toBe(
    'GET /msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fcognitiveservices.azure.com header=identity-header-value',
  );
  expect(project.emulator.requestLog().every((r) => r.status === 200)).toBe(true);
  expect(project.emulator.requestLog().length).toBeGreaterThan(2);
  expect(result.stdout).not.toContain(TOKEN);
  for (const file of await project.files()) {
    expect((await readFile(join(project.dir, file))).includes(TOKEN), file).toBe(false);
  }
});

it('reports a token the service refuses as an authentication failure of the shot, without retrying the create', async () => {
  project = await entraProject();
  const endpoint = await identityEndpoint('a-token-the-service-does-not-know');
  const env = { OPENAI_API_KEY: '', IDENTITY_ENDPOINT: endpoint.url, IDENTITY_HEADER: 'h' };
  const result = await project.run(['build', '--reporter', 'plain'], { env });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/\[harbor\] failed: .*401/);
  expect(result.stdout).toContain('check the provider credentials');
  expect(result.stdout).not.toContain('a-token-the-service-does-not-know');
  const creates = project.emulator.requestLog().filter((r) => r.method === 'POST');
  // One create, and (Entra only) one more with a freshly fetched token: a 401 starts no job.
  expect(creates.map((r) => r.status)).toEqual([401, 401]);
});
