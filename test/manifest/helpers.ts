/** Runs `loadProject` from the repository root and prints its diagnostics exactly as `validate` does. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../../src/manifest/format-diagnostic.ts';
import { loadProject } from '../../src/manifest/load-project.ts';
import type { LoadedProject } from '../../src/manifest/load-project.ts';

export const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface CheckOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly configPath?: string;
  readonly provider?: string;
}

export interface Checked {
  readonly ok: boolean;
  /** Every diagnostic (errors and warnings), formatted and concatenated. */
  readonly text: string;
  readonly project: LoadedProject;
}

export async function check(manifestPath: string | undefined, options: CheckOptions = {}): Promise<Checked> {
  const cwd = options.cwd ?? REPO;
  const project = await loadProject({
    cwd,
    env: options.env ?? {},
    manifestPath,
    configPath: options.configPath,
    provider: options.provider,
  });
  const diagnostics = project.ok ? project.warnings : project.diagnostics;
  return { ok: project.ok, text: diagnostics.map((d) => formatDiagnostic(d, { cwd })).join(''), project };
}
