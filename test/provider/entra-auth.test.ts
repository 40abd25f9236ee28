import { afterEach, describe, expect, it } from 'vitest';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { FakeClock } from '../../src/core/clock.ts';
import { asVideoId } from '../../src/core/brand.ts';
import { createProvider } from '../../src/provider/create-provider.ts';
import { COGNITIVE_SERVICES_SCOPE } from '../../src/provider/entra-token-provider.ts';
import { ProviderError, type VideoProvider } from '../../src/provider/types.ts';
import { sendJson, startCannedServer, videoJson, type CannedServer } from './canned-server.ts';
import { providerConfig } from './provider-config.ts';

const HOUR = 3_600_000;

/** Issues `entra-token-1`, `entra-token-2`, … each valid for an hour of the test clock. */
class TestCredential implements TokenCredential {
  readonly scopes: (string | string[])[] = [];
  issued = 0;
  failWith: Error | undefined;
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.scopes.push(scopes);
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.issued++;
    return Promise.resolve({
      token: `entra-token-${this.issued}-abcdefghijklmnop`,
      expiresOnTimestamp: this.clock.now() + HOUR,
    });
  }
}

let server: CannedServer | undefined;
/** When set, the server answers every authorised request with a 500 that echoes the Authorization header. */
let echo500 = false;
let provider: VideoProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await server?.close();
  provider = undefined;
  server = undefined;
  echo500 = false;
});

/** A server that accepts only the bearer tokens in `accepted` (the test edits the set as it goes). */
async function setUp(
  accepted: Set<string>,
  clock: FakeClock,
  credential: TestCredential,
  baseUrlPath = '/openai/v1',
) {
  server = await startCannedServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const token = auth.replace(/^Bearer /, '');
    if (!accepted.has(token)) {
      return sendJson(res, 401, {
        error: {
          message: `Access token ${token} is invalid or expired. (${auth})`,
          type: 'invalid_request_error',
          code: '401',
        },
      });
    }
    if (echo500) {
      return sendJson(res, 500, { error: { message: `server saw ${auth}`, type: 'server_error' } });
    }
    sendJson(res, 200, videoJson());
  });
  provider = await createProvider({
    config: providerConfig({ baseUrl: `${server.url}${baseUrlPath}`, auth: 'entra' }),
    // An API key in the environment must not be used under `auth: entra`.
    env: { AZURE_OPENAI_API_KEY: 'not-the-entra-token', AZURE_CLIENT_SECRET: 's3cr3t-client-value' },
    clock,
    cacheDir: '/x',
    credential,
  });
  return { server, provider };
}

const tokenOf = (n: number): string => `entra-token-${n}-abcdefghijklmnop`;

describe('Entra ID authentication', () => {
  it('sends the credential token as a bearer and refreshes it before it expires', async () => {
    const clock = new FakeClock(1_760_000_000_000);
    const credential = new TestCredential(clock);
    const accepted = new Set([tokenOf(1)]);
    const { server, provider } = await setUp(accepted, clock, credential);

    await provider.retrieve(asVideoId('video_1'));
    await provider.create({ model: 'sora-2', prompt: 'p', size: '1280x720', seconds: 4 });
    expect(credential.issued).toBe(1);
    expect(credential.scopes).toEqual([COGNITIVE_SERVICES_SCOPE]);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${tokenOf(1)}`,
      `Bearer ${tokenOf(1)}`,
    ]);
    expect(server.requests[0]!.headers['api-key']).toBeUndefined();

    // 50 minutes on: still 10 minutes left, more than the 5-minute margin, so the token is reused.
    await clock.advance(50 * 60_000);
    await provider.retrieve(asVideoId('video_1'));
    expect(credential.issued).toBe(1);

    // 56 minutes on: inside the margin, a new token is fetched before the old one expires.
    await clock.advance(6 * 60_000);
    accepted.add(tokenOf(2));
    await provider.retrieve(asVideoId('video_1'));
    expect(credential.issued).toBe(2);
    expect(server.requests.at(-1)!.headers.authorization).toBe(`Bearer ${tokenOf(2)}`);
  });

  it('answers a 401 with one fresh token, also for create (a 401 starts no job)', async () => {
    const clock = new FakeClock(1_760_000_000_000);
    const credential = new TestCredential(clock);
    const accepted = new Set([tokenOf(1)]);
    const { server, provider } = await setUp(accepted, clock, credential);
    await provider.retrieve(asVideoId('video_1'));
    // The token is revoked server-side before it expires.
    accepted.clear();
    accepted.add(tokenOf(2));
    await provider.create({ model: 'sora-2', prompt: 'p', size: '1280x720', seconds: 4 });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${tokenOf(1)}`,
      `Bearer ${tokenOf(1)}`,
      `Bearer ${tokenOf(2)}`,
    ]);
    // A second 401 in a row is reported, not retried again.
    accepted.clear();
    const error = await provider.retrieve(asVideoId('video_1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
    expect(server.requests).toHaveLength(5);
    const text = `${(error as Error).message}\n${(error as Error).stack}`;
    expect(text).not.toContain(tokenOf(2));
    expect(text).not.toContain(tokenOf(3));
    expect(text).not.toContain('abcdefghijklmnop');
  });

  it('never shows the token in an error, even when the server echoes the header', async () => {
    const clock = new FakeClock(0);
    const credential = new TestCredential(clock);
    const { provider } = await setUp(new Set([tokenOf(1)]), clock, credential);
    echo500 = true;
    // A create, because it is never retried (a read would wait on the FakeClock between retries).
    const error = (await provider
      .create({ model: 'sora-2', prompt: 'p', size: '1280x720', seconds: 4 })
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('server');
    expect(error.message).toBe('test: create: 500 server saw Bearer [redacted]');
    let all = `${error.message}\n${error.stack}`;
    for (let c: unknown = error.cause; c instanceof Error; c = c.cause) all += `\n${c.message}\n${c.stack}`;
    expect(all).not.toContain('abcdefghijklmnop');
  });

  it('reports a credential that cannot get a token as auth, naming the DefaultAzureCredential variables', async () => {
    const clock = new FakeClock(0);
    const credential = new TestCredential(clock);
    credential.failWith = new Error('AADSTS7000215: Invalid client secret provided: s3cr3t-client-value');
    const { server, provider } = await setUp(new Set(), clock, credential);
    const error = (await provider.retrieve(asVideoId('video_1')).catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'auth', delivered: 'no' });
    expect(error.message).toContain(
      'could not get an Entra ID token for https://cognitiveservices.azure.com/.default',
    );
    expect(error.message).toContain('AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET');
    expect(error.message).not.toContain('s3cr3t-client-value');
    expect(error.message).toContain('AADSTS7000215: Invalid client secret provided: [redacted]');
    expect(server.requests).toHaveLength(0);
  });
});
