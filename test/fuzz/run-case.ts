/**
 * Runs one hostile case two ways: in-process through `main` (the entry bin/sora-build.js calls, with the
 * same context shape), which is fast enough for property tests, and as the real command in a child process,
 * which also catches what only a process shows (a hang, a crash of the runtime, an out-of-memory abort).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../commands/cli-harness.ts';
import type { HostileCase, RunOutcome } from './hostile-cases.ts';
import { BOUNDS, writeCase } from './hostile-cases.ts';

const OWN_BIN = fileURLToPath(new URL('../../bin/sora-build.js', import.meta.url));

export const COMMANDS: readonly (readonly string[])[] = [['validate'], ['plan', '--json']];

export async function withCaseDir<T>(c: HostileCase, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sora-build-fuzz-'));
  try {
    await writeCase(dir, c);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function outcome(
  code: number | null,
  stdout: string,
  stderr: string,
  ms: number,
  timedOut: boolean,
): RunOutcome {
  return {
    code,
    stdout,
    stderr,
    stdoutBytes: Buffer.byteLength(stdout),
    stderrBytes: Buffer.byteLength(stderr),
    ms,
    timedOut,
  };
}

/** In-process; a run that does not settle within the bound is reported as timed out (and left behind). */
export async function runInProcess(
  args: readonly string[],
  c: HostileCase,
  cwd: string,
): Promise<RunOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), BOUNDS.ms);
  });
  try {
    const run = await Promise.race([runCli([...args, ...c.args], { cwd, env: c.env }), timeout]);
    const ms = performance.now() - started;
    if (run === 'timeout') return outcome(null, '', '', ms, true);
    return outcome(run.code, run.stdout, run.stderr, ms, false);
  } catch (error) {
    // main catches everything a command throws; a throw here is a bug of its own.
    return outcome(
      null,
      '',
      `internal error (thrown out of main): ${String(error)}`,
      performance.now() - started,
      false,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * As a child process of the real command (`bin`: another checkout's bin/sora-build.js, to compare);
 * killed after the bound with SIGKILL (SIGTERM is handled: the first one only asks a command to stop).
 */
export function runChild(
  args: readonly string[],
  c: HostileCase,
  cwd: string,
  options: { readonly bin?: string } = {},
): Promise<RunOutcome> {
  const started = performance.now();
  const argv = [options.bin ?? OWN_BIN, ...args, ...c.args];
  const child = spawn(process.execPath, argv, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, ...c.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept up to a cap past the bound, so a flood is measured without holding gigabytes.
  const cap = 4 * 1024 * 1024;
  let stdout = '';
  let stderr = '';
  let outBytes = 0;
  let errBytes = 0;
  child.stdout.on('data', (b: Buffer) => {
    outBytes += b.length;
    if (stdout.length < cap) stdout += b.toString('utf8');
  });
  child.stderr.on('data', (b: Buffer) => {
    errBytes += b.length;
    if (stderr.length < cap) stderr += b.toString('utf8');
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, BOUNDS.ms);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        ...(signal === null ? {} : { signal }),
        stdout,
        stderr,
        stdoutBytes: outBytes,
        stderrBytes: errBytes,
        ms: performance.now() - started,
        timedOut,
      });
    });
  });
}
