import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '../commands/cli-harness.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import { computePlan } from '../../src/plan/compute-plan.ts';
import type { ProjectConfig } from '../../src/config/types.ts';

const repo = path.resolve(import.meta.dirname, '../..');

describe('computePlan', () => {
  it('keys ignore the endpoint, deployments and provider name, but not the provider family', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'refs'));
      await copyFile(path.join(repo, 'examples/launch/storyboard.yaml'), path.join(dir, 'storyboard.yaml'));
      await copyFile(path.join(repo, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png'));
      await copyFile(path.join(repo, 'sora.config.yaml'), path.join(dir, 'sora.config.yaml'));
      const loaded = await loadProject({ cwd: dir, env: {}, provider: 'azure' });
      if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
      const keys = async (config: ProjectConfig, manifest = loaded.manifest): Promise<(string | null)[]> => {
        const r = await computePlan({ config, manifest });
        if (!r.ok) throw new Error(JSON.stringify(r.error));
        return r.value.plan.shots.map((s) => s.key);
      };
      const azure = await keys(loaded.config);
      const elsewhere = await keys({
        ...loaded.config,
        provider: {
          ...loaded.config.provider,
          name: 'openai-direct',
          baseUrl: 'https://api.openai.com/v1/',
          auth: 'api-key',
          deployments: {},
          quota: { createsPerMinute: 10, maxInFlight: 10 },
          pricing: {},
        },
      });
      expect(azure.filter((k) => k !== null)).toHaveLength(3);
      expect(elsewhere).toEqual(azure);
      // Each shot is keyed by the family of the provider it is built by (here `--provider emulator`).
      const onEmulator = await loadProject({ cwd: dir, env: {}, provider: 'emulator' });
      if (!onEmulator.ok) throw new Error('not ok');
      const emulator = await keys(onEmulator.config, onEmulator.manifest);
      for (const [i, key] of emulator.entries()) if (key !== null) expect(key).not.toBe(azure[i]);
    });
  });

  it('reports an unknown --shot as a usage failure', async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, 'refs'));
      await copyFile(path.join(repo, 'examples/launch/storyboard.yaml'), path.join(dir, 'storyboard.yaml'));
      await copyFile(path.join(repo, 'examples/launch/refs/mug.png'), path.join(dir, 'refs/mug.png'));
      const loaded = await loadProject({ cwd: dir, env: {} });
      if (!loaded.ok) throw new Error('load failed');
      const r = await computePlan({ config: loaded.config, manifest: loaded.manifest, shotIds: ['nope'] });
      expect(r).toEqual({
        ok: false,
        error: {
          reason: 'unknown-shot',
          message: "unknown shot 'nope'\nvalid shots: harbor, mug, mug-teal, mug-teal-night, teaser",
        },
      });
    });
  });
});
