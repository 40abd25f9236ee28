#!/usr/bin/env node
// The sources are TypeScript that Node runs directly (type stripping, Node 22.18+/24), so a clone works with
// no build step. `npm ci` also compiles them into dist/ (the `prepare` script), which starts faster (no
// stripping of ~100 files at every start); that copy is used only while it is newer than every source file,
// so an edited source is never shadowed by a stale build.
import { readdirSync, statSync } from 'node:fs';
import module from 'node:module';

// V8's compiled code for our modules and their dependencies is kept on disk (in the OS temp folder, or
// NODE_COMPILE_CACHE), so later runs skip most of the parsing and compiling at start-up.
module.enableCompileCache?.();

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `sora-build needs Node.js 22.18 or newer (found ${process.version}). ` +
      'Inside this repository, run it through npm or npx, which use the pinned Node 24.\n',
  );
  process.exit(2);
}

/** Newest modification time (ms) of the files under `dir`, or Infinity when it cannot be read. */
function newestMtime(dir) {
  let newest = 0;
  const pending = [dir];
  try {
    while (pending.length > 0) {
      const d = pending.pop();
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const path = `${d}/${entry.name}`;
        if (entry.isDirectory()) pending.push(path);
        else newest = Math.max(newest, statSync(path).mtimeMs);
      }
    }
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  return newest;
}

function compiledIsFresh() {
  try {
    const built = statSync(new URL('../dist/.built', import.meta.url)).mtimeMs;
    return built >= newestMtime(new URL('../src', import.meta.url).pathname);
  } catch {
    return false;
  }
}

const entry = compiledIsFresh() ? '../dist/cli/main.js' : '../src/cli/main.ts';
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
