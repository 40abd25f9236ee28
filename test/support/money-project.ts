/**
 * A project for the money-path tests (test/money/): the e2e harness's temp project and in-process emulator
 * (real CLI child processes, one scaled clock), with the fault proxy between them, and the checks every
 * scenario ends with: videos the service made per shot, every stored and placed file whole, the lockfile
 * readable, the API key nowhere.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLockfile } from '../../src/cache/lockfile.ts';
import { API_KEY, makeProject } from '../e2e/harness.ts';
import type { CliResult, Project } from '../e2e/harness.ts';
import { startFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';

export { API_KEY };

export interface MoneyProject extends Project {
  readonly proxy: FaultProxy;
  /** Every CLI result so far, for the secret scan. */
  readonly results: CliResult[];
  /** Runs `build --reporter plain` (plus `args`), remembering the result; killed after `timeoutMs` (60 s). */
  build(
    args?: readonly string[],
    options?: { readonly env?: Record<string, string>; readonly timeoutMs?: number },
  ): Promise<CliResult>;
  /** Videos the service made, per prompt (each shot has its own prompt), straight from its List. */
  videosPerPrompt(): Promise<Record<string, number>>;
  /**
   * Problems with the files: an object in the store whose bytes do not hash to its name, a lockfile that
   * does not parse, a pinned shot whose out/ file is missing or differs from the pinned digest. Empty when
   * all is well.
   */
  integrityProblems(): Promise<string[]>;
  /** Files (relative paths) or CLI outputs that contain the API key. */
  secretLeaks(): Promise<string[]>;
}

export interface MoneyProjectOptions {
  readonly storyboard: string;
  /** Emulator clock ms per real ms. @default 2000 */
  readonly speed?: number;
  /** @default 8 */
  readonly maxInFlight?: number;
}

export async function moneyProject(options: MoneyProjectOptions): Promise<MoneyProject> {
  const speed = options.speed ?? 2000;
  const project = await makeProject({
    speed,
    emulator: { createsPerMinute: 10_000, renderFps: 1, seed: 11 },
    quota: { createsPerMinute: 10_000, maxInFlight: options.maxInFlight ?? 8 },
  });
  const proxy = await startFaultProxy({ target: project.emulator.url });
  await writeFile(
    join(project.dir, 'sora.config.yaml'),
    [
      'version: 1',
      'provider: local',
      'providers:',
      '  local:',
      '    type: openai',
      `    base_url: ${proxy.url}/v1`,
      `    quota: { creates_per_minute: 10000, max_in_flight: ${options.maxInFlight ?? 8} }`,
      '',
    ].join('\n'),
  );
  await project.write('storyboard.yaml', options.storyboard);
  const results: CliResult[] = [];
  const close = project.close.bind(project);
  return Object.assign(project, {
    proxy,
    results,
    async build(
      args: readonly string[] = [],
      options: { readonly env?: Record<string, string>; readonly timeoutMs?: number } = {},
    ) {
      const result = await project.run(['build', '--reporter', 'plain', ...args], {
        env: options.env ?? {},
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      });
      results.push(result);
      return result;
    },
    async videosPerPrompt() {
      const counts: Record<string, number> = {};
      let after: string | undefined;
      for (;;) {
        const query = `limit=100${after === undefined ? '' : `&after=${after}`}`;
        const res = await fetch(`${project.emulator.url}/v1/videos?${query}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        const page = (await res.json()) as { data: { id: string; prompt: string }[]; has_more: boolean };
        for (const v of page.data) counts[v.prompt] = (counts[v.prompt] ?? 0) + 1;
        if (!page.has_more || page.data.length === 0) return counts;
        after = page.data[page.data.length - 1]!.id;
      }
    },
    async integrityProblems() {
      const problems: string[] = [];
      const cas = join(project.dir, '.sora-build', 'cas', 'sha256');
      for (const prefix of await readdir(cas).catch(() => [] as string[])) {
        for (const rest of await readdir(join(cas, prefix))) {
          const bytes = await readFile(join(cas, prefix, rest));
          const digest = createHash('sha256').update(bytes).digest('hex');
          if (digest !== prefix + rest) problems.push(`store object ${prefix}${rest} hashes to ${digest}`);
        }
      }
      const lock = await readLockfile(join(project.dir, 'storyboard.lock'));
      if (!lock.ok) return [...problems, `lockfile: ${JSON.stringify(lock.error)}`];
      for (const [id, entry] of lock.value.shots) {
        const file = await readFile(join(project.dir, 'out', `${id}.mp4`)).catch(() => undefined);
        if (file === undefined) problems.push(`out/${id}.mp4 is missing`);
        else if (createHash('sha256').update(file).digest('hex') !== entry.output) {
          problems.push(`out/${id}.mp4 does not match its pinned digest`);
        }
      }
      return problems;
    },
    async secretLeaks() {
      const leaks: string[] = [];
      for (const file of await project.files()) {
        if ((await readFile(join(project.dir, file))).includes(API_KEY)) leaks.push(file);
      }
      results.forEach((r, i) => {
        if (r.stdout.includes(API_KEY) || r.stderr.includes(API_KEY)) leaks.push(`output of run ${i + 1}`);
      });
      return leaks;
    },
    async close() {
      await proxy.close();
      await close();
    },
  });
}

/** A storyboard of `n` plain shots `s1..sn` (prompt `Shot sK.`), with `remixes` remix shots chained on s1. */
export function storyboard(options: { readonly shots: number; readonly remixChain?: number }): string {
  const lines = ['version: 1', 'defaults:', '  model: sora-2', '  size: 1280x720', '  seconds: 4', 'shots:'];
  for (let i = 1; i <= options.shots; i++) lines.push(`  s${i}:`, `    prompt: Shot s${i}.`);
  let parent = 's1';
  for (let i = 1; i <= (options.remixChain ?? 0); i++) {
    lines.push(`  r${i}:`, `    remix_of: ${parent}`, `    prompt: Remix r${i}.`);
    parent = `r${i}`;
  }
  return `${lines.join('\n')}\n`;
}
