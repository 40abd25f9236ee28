#!/usr/bin/env node
// The sources are TypeScript run directly by Node's type stripping (Node 22.18+/24), so there is no build
// step between a clone and a working command.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `sora-build needs Node.js 22.18 or newer (found ${process.version}). ` +
      'Inside this repository, run it through npm or npx, which use the pinned Node 24.\n',
  );
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
