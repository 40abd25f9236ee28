#!/usr/bin/env node
// An installed package runs the compiled JavaScript in dist/ (built by the `prepare` script at `npm pack`
// and `npm ci`; src/ is not shipped). In a clone, the TypeScript sources run directly (type stripping,
// Node 22.18+), so an edit needs no build step; dist/ is used there only while it is newer than every
// source file, so an edited source is never shadowed by a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';

// V8's compiled code for our modules and their dependencies is kept on disk (in the OS temp folder, or
// NODE_COMPILE_CACHE), so later runs skip most of the parsing and compiling at start-up.
module.enableCompileCache?.();

const sources = new URL('../src', import.meta.url).pathname;
const clone = existsSync(sources);

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
    return !clone || built >= newestMtime(sources);
  } catch {
    return false;
  }
}

const compiled = compiledIsFresh();
// The compiled code needs Node 22 (package.json `engines`); the sources also need type stripping (22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (!compiled && major === 22 && minor < 18)) {
  process.stderr.write(
    `sora-build needs Node.js ${compiled ? '22' : '22.18'} or newer (found ${process.version}).\n` +
      (clone
        ? 'Inside this repository, run it through npm or npx, which use the pinned Node 24.\n'
        : "Install one, or pin it in this project as sora-build's own repository does: `npm install -D node@24`\n" +
          '(npx then runs sora-build on it).\n'),
  );
  process.exit(2);
}

const { main } = await import(compiled ? '../dist/cli/main.js' : '../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
