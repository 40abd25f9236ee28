import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChokidarWatcher } from '../../src/watch/chokidar-watcher.ts';

let dir: string;
let watcher: ChokidarWatcher;
afterEach(async () => {
  await watcher.close();
  await rm(dir, { recursive: true, force: true });
});

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error(`timed out: ${what}`);
}

describe('ChokidarWatcher', () => {
  it('reports changes of wanted files only, including one created later and one replaced by rename', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sora-build-chokidar-'));
    const manifest = path.join(dir, 'storyboard.yaml');
    const config = path.join(dir, 'sora.config.yaml');
    await writeFile(manifest, 'a');
    await writeFile(path.join(dir, 'other.txt'), 'x');
    watcher = new ChokidarWatcher();
    const seen: string[] = [];
    watcher.onChange((p) => seen.push(path.basename(p)));
    await watcher.setPaths([manifest, config]);

    await writeFile(path.join(dir, 'other.txt'), 'y');
    await writeFile(manifest, 'b');
    await until(() => seen.includes('storyboard.yaml'), 'the manifest change');
    await writeFile(config, 'version: 1\n'); // did not exist when watching started
    await until(() => seen.includes('sora.config.yaml'), 'the new config');
    seen.length = 0;
    // chokidar coalesces events on one file within ~100 ms (below the session's quiet period anyway).
    await new Promise((r) => setTimeout(r, 200));
    // An editor's atomic save: write a temp file, rename it over the manifest.
    await writeFile(path.join(dir, '.storyboard.yaml.swp'), 'c');
    await rename(path.join(dir, '.storyboard.yaml.swp'), manifest);
    await until(() => seen.includes('storyboard.yaml'), 'the atomic save');
    expect(seen.every((s) => s === 'storyboard.yaml' || s === 'sora.config.yaml')).toBe(true);

    // Narrowing the set stops reports for the dropped file.
    await watcher.setPaths([config]);
    seen.length = 0;
    await writeFile(manifest, 'd');
    await writeFile(config, 'version: 1 # edited\n');
    await until(() => seen.includes('sora.config.yaml'), 'the config edit');
    expect(seen).not.toContain('storyboard.yaml');
  });
});
