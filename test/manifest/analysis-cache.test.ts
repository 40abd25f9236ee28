/** The analysis cache: an unchanged project skips analysis, and any input that changed is a miss. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadProject } from '../../src/manifest/load-project.ts';
import type { LoadedProject } from '../../src/manifest/load-project.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sora-analysis-cache-'));
  await writeFile(path.join(dir, 'sora.config.yaml'), 'version: 1\nprovider: emulator\n');
  await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#204060' } })
    .png()
    .toFile(path.join(dir, 'ref.png'));
  // Old enough not to be racily clean.
  const past = new Date(Date.now() - 60_000);
  await utimes(path.join(dir, 'ref.png'), past, past);
  await writeFile(path.join(dir, 'storyboard.yaml'), MANIFEST);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MANIFEST = `version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
shots:
  a:
    prompt: A harbor, \${env:LOOK}.
    input_reference: ref.png
  b:
    remix_of: a
    prompt: In teal.
  c:
    model: sora-2-next
    prompt: Unknown model, a warning.
`;

const load = (env: Record<string, string>): Promise<LoadedProject> =>
  loadProject({ cwd: dir, env, manifestPath: 'storyboard.yaml' });

function ok(p: LoadedProject): Extract<LoadedProject, { ok: true }> {
  if (!p.ok) throw new Error(p.diagnostics.map((d) => d.message).join('\n'));
  return p;
}

it('returns the same manifest and warnings from the cache as from a full analysis', async () => {
  const first = ok(await load({ LOOK: 'golden hour' }));
  expect(await readdir(path.join(dir, '.sora-build', 'analysis'))).toHaveLength(1);
  const second = ok(await load({ LOOK: 'golden hour' }));
  expect([...second.manifest.shots.entries()]).toEqual([...first.manifest.shots.entries()]);
  expect(second.manifest.envVarsUsed).toEqual(['LOOK']);
  expect(second.warnings.map((w) => [w.message, w.location.range])).toEqual(
    first.warnings.map((w) => [w.message, w.location.range]),
  );
  expect(second.warnings).toHaveLength(1);
  expect(second.manifest.shots.get('a' as never)?.prompt).toBe('A harbor, golden hour.');
});

it('misses when an ${env:} value, the manifest or a reference image changes', async () => {
  ok(await load({ LOOK: 'golden hour' }));
  expect(ok(await load({ LOOK: 'blue hour' })).manifest.shots.get('a' as never)?.prompt).toBe(
    'A harbor, blue hour.',
  );

  await writeFile(path.join(dir, 'storyboard.yaml'), MANIFEST.replace('In teal.', 'In gold.'));
  expect(ok(await load({ LOOK: 'x' })).manifest.shots.get('b' as never)?.prompt).toBe('In gold.');
  // The new analysis replaced the old one: one entry per manifest.
  expect(await readdir(path.join(dir, '.sora-build', 'analysis'))).toHaveLength(1);

  await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000000' } })
    .png()
    .toFile(path.join(dir, 'ref.png'));
  const broken = await load({ LOOK: 'x' });
  expect(broken.ok).toBe(false);
  expect(!broken.ok && broken.diagnostics.map((d) => d.message).join('\n')).toContain('640x480');
});

it('never caches an analysis with errors, and keys ${env:} values by their sha256', async () => {
  const missing = await load({});
  expect(missing.ok).toBe(false);
  expect(await readdir(path.join(dir, '.sora-build', 'analysis')).catch(() => [])).toEqual([]);
  ok(await load({ LOOK: 'dusk' }));
  const [file] = await readdir(path.join(dir, '.sora-build', 'analysis'));
  const entry = JSON.parse(await readFile(path.join(dir, '.sora-build', 'analysis', file!), 'utf8')) as {
    env: Record<string, string>;
  };
  expect(entry.env).toEqual({ LOOK: createHash('sha256').update('dusk').digest('hex') });
});

it('trusts an image whose stat data moved (or is racily clean) when its bytes are the same', async () => {
  const { AnalysisCache } = await import('../../src/manifest/analysis-cache.ts');
  ok(await load({ LOOK: 'dusk' }));
  const cache = new AnalysisCache(path.join(dir, '.sora-build'));
  const parts = {
    manifestPath: path.join(dir, 'storyboard.yaml'),
    contents: MANIFEST,
    providerType: 'emulator',
    providers: 'emulator\nemulator=emulator',
    root: dir,
  };
  expect(await cache.lookup(parts, { LOOK: 'dusk' })).toBeDefined();
  // Touched just now: new mtime and ctime, within the racy window, same bytes: still a hit.
  const now = new Date();
  await utimes(path.join(dir, 'ref.png'), now, now);
  expect(await cache.lookup(parts, { LOOK: 'dusk' })).toBeDefined();
  // Same size, one byte different: a miss.
  const bytes = await readFile(path.join(dir, 'ref.png'));
  bytes[bytes.length >> 1] = 0xff ^ bytes[bytes.length >> 1]!;
  await writeFile(path.join(dir, 'ref.png'), bytes);
  expect(await cache.lookup(parts, { LOOK: 'dusk' })).toBeUndefined();
});

it('records the stat data of an image found unchanged by its bytes, once it is out of the racy window', async () => {
  const { AnalysisCache } = await import('../../src/manifest/analysis-cache.ts');
  ok(await load({ LOOK: 'dusk' }));
  const parts = {
    manifestPath: path.join(dir, 'storyboard.yaml'),
    contents: MANIFEST,
    providerType: 'emulator',
    providers: 'emulator\nemulator=emulator',
    root: dir,
  };
  const entryFile = async () => {
    const [name] = await readdir(path.join(dir, '.sora-build', 'analysis'));
    return JSON.parse(await readFile(path.join(dir, '.sora-build', 'analysis', name!), 'utf8')) as {
      writtenAt: number;
      images: { mtimeMs: number }[];
    };
  };
  const touched = new Date(Date.now() - 30_000);
  await utimes(path.join(dir, 'ref.png'), touched, touched);
  const { mtimeMs } = await stat(path.join(dir, 'ref.png'));
  // Within the racy window (the touch's ctime is now): a hit by the bytes, nothing recorded.
  expect(
    await new AnalysisCache(path.join(dir, '.sora-build')).lookup(parts, { LOOK: 'dusk' }),
  ).toBeDefined();
  expect((await entryFile()).images[0]!.mtimeMs).not.toBe(mtimeMs);
  // Five seconds later: the same hit, and the new stat data is kept, so the next run need not read it.
  const later = Date.now() + 5_000;
  const cache = new AnalysisCache(path.join(dir, '.sora-build'), { now: () => later });
  expect(await cache.lookup(parts, { LOOK: 'dusk' })).toBeDefined();
  const entry = await entryFile();
  expect(entry.images[0]!.mtimeMs).toBe(mtimeMs);
  expect(entry.writtenAt).toBe(later);
});
