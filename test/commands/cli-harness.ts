/**
 * Runs the real command line in-process (the same `main` that bin/sora-build.js calls) with captured
 * streams, so end-to-end command tests stay fast. Watch is tested as a real child process elsewhere.
 */
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeRedactor, SECRET_ENV_VARS } from '../../src/cli/context.ts';
import type { CliContext } from '../../src/cli/context.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Text fed to stdin; `stdinIsTTY` pretends a terminal is attached. */
  readonly stdin?: string;
  readonly stdinIsTTY?: boolean;
  readonly signal?: AbortSignal;
}

export async function runCli(args: string[], options: RunOptions): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.stdinIsTTY === true) stdin.isTTY = true;
  stdin.end(options.stdin ?? '');
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const env = options.env ?? {};
  const ctx: CliContext = {
    cwd: options.cwd,
    env,
    stdout,
    stderr,
    stdin,
    signal: options.signal ?? new AbortController().signal,
    redact: makeRedactor(SECRET_ENV_VARS.map((n) => env[n])),
  };
  const code = await main(args, ctx);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
