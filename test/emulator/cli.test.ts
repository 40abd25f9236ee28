/** `sora-build emulator`: prints its URLs, serves until the signal aborts, refuses bad flags. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.ts';
import { main } from '../../src/cli/main.ts';

function context(env: Record<string, string> = {}): {
  ctx: CliContext;
  out: () => string;
  err: () => string;
  abort: () => void;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const controller = new AbortController();
  return {
    ctx: {
      cwd: process.cwd(),
      env,
      stdout,
      stderr,
      stdin: new PassThrough(),
      signal: controller.signal,
      redact: (t) => t,
    },
    out: () => out,
    err: () => err,
    abort: () => controller.abort(new Error('interrupted')),
  };
}

describe('sora-build emulator', () => {
  it('prints its base URLs, serves requests on a scaled clock, and stops on Ctrl-C', async () => {
    const c = context({ SORA_EMULATOR_API_KEY: 'sk-only-this' });
    const exit = main(['emulator', '--speed', '1000', '--creates-per-minute', '5', '--seed', '9'], c.ctx);
    while (!c.out().includes('Ctrl-C')) await new Promise((r) => setTimeout(r, 10));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(c.out())![1]!;
    expect(c.out()).toContain(`OpenAI base URL: ${url}/v1\n`);
    expect(c.out()).toContain(`Azure base URL:  ${url}/openai/v1\n`);
    expect(c.out()).toContain(`fal queue:       ${url}/fal/queue (for https://queue.fal.run)`);
    expect(c.out()).toContain('Clock:           1000x real time\n');
    const denied = await fetch(`${url}/v1/videos`, { headers: { authorization: 'Bearer other' } });
    expect(denied.status).toBe(401);
    const created = await fetch(`${url}/v1/videos`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-only-this', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'cli' }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('x-ratelimit-limit-requests')).toBe('5');
    const { id } = (await created.json()) as { id: string };
    // 4 s of video at 6 s/s is 24 emulator seconds: 24 ms of real time at 1000x.
    await new Promise((r) => setTimeout(r, 100));
    const done = await fetch(`${url}/v1/videos/${id}`, { headers: { 'api-key': 'sk-only-this' } });
    expect(((await done.json()) as { status: string }).status).toBe('completed');
    c.abort();
    expect(await exit).toBe(0);
    expect(c.out()).toMatch(/sora-build emulator stopped\n$/);
    await expect(fetch(`${url}/v1/videos`)).rejects.toThrow();
  });

  it('refuses a non-loopback host without --allow-remote, and bad numbers, with exit 2', async () => {
    const remote = context();
    expect(await main(['emulator', '--host', '0.0.0.0'], remote.ctx)).toBe(2);
    expect(remote.err()).toContain("Refusing to bind the emulator to the non-loopback host '0.0.0.0'");
    expect(remote.err()).toContain('--allow-remote');
    const bad = context();
    expect(await main(['emulator', '--port', 'x', '--speed', '0', '--faults', '{'], bad.ctx)).toBe(2);
    expect(bad.err()).toBe(
      "sora-build emulator: Expected --port to be a non-negative number, but got 'x'.\n" +
        "sora-build emulator: Expected --speed to be a positive number, but got '0'.\n" +
        "sora-build emulator: Expected --faults to be a JSON object, but got '{'.\n",
    );
    const unknown = context();
    expect(await main(['emulator', '--bogus'], unknown.ctx)).toBe(2);
  });
});
