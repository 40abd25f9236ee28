/**
 * The ffmpeg binary that `@ffmpeg-installer/ffmpeg` ships (from npm, nothing downloaded at run time), and a
 * way to run it as a child process. Used by the emulator's placeholder renderer and by the store's local
 * derivation of thumbnails and spritesheets.
 */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The ffmpeg binary from `@ffmpeg-installer/ffmpeg`. When installs skipped package scripts the binary can lack
 * its exec bit: then it is chmodded in place, or copied into a temp cache and chmodded there.
 */
export function resolveFfmpegPath(): string {
  let path: string;
  try {
    path = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch (error) {
    throw new Error(
      `sora-build needs the @ffmpeg-installer/ffmpeg package for this platform (placeholder videos, thumbnails made locally): ${String(error)}`,
    );
  }
  return ensureExecutable(path);
}

/**
 * `path` itself when it can be executed (after a chmod if needed), else an executable copy under
 * `cacheRoot`, renamed into place so concurrent processes never run a half-written copy.
 */
export function ensureExecutable(path: string, cacheRoot: string = tmpdir()): string {
  if (isExecutable(path)) return path;
  try {
    chmodSync(path, 0o755);
    if (isExecutable(path)) return path;
  } catch {
    // Read-only install: fall through to the cached copy.
  }
  const cacheDir = join(cacheRoot, `sora-build-ffmpeg-${statSync(path).size}`);
  const copy = join(cacheDir, 'ffmpeg');
  if (!isExecutable(copy)) {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${copy}.${process.pid}.tmp`;
    copyFileSync(path, temp);
    chmodSync(temp, 0o755);
    renameSync(temp, copy);
  }
  return copy;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs ffmpeg with `args` in `cwd`; rejects with the end of its stderr when it fails or the signal aborts. */
export function runFfmpeg(
  binary: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly signal?: AbortSignal } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}
