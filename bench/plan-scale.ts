/**
 * How `sora-build plan` scales: generates 1k / 10k / 100k-shot projects under bench/.work/ and times
 *   - in-process: loadProject (read, parse, analyze) and computePlan (graph, keys, states, estimates) and the
 *     table formatting, each measured inside a fresh process;
 *   - whole process: `node bin/sora-build.js plan --json` from spawn to exit, with its peak memory.
 * Two states per size: `new` (never built: every key computed, dependants blocked) and `pinned` (every shot
 * fresh: every lock entry, store object and key checked).
 *
 * Usage: npx node bench/plan-scale.ts [SIZES...] [--pinned-max N]
 *   SIZES defaults to 1000 10000 100000; pinned projects are generated up to --pinned-max (default 10000),
 *   because pinning 100k shots writes 200k small files. Results also go to bench/.work/plan-scale.json.
 * Target (issue 2): 10k shots under 2 s and 300 MB.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateProject } from './generate-manifest.ts';

const repo = path.resolve(import.meta.dirname, '..');
const work = path.join(repo, 'bench/.work');
const bin = path.join(repo, 'bin/sora-build.js');

interface InProcess {
  readonly loadMs: number;
  readonly planMs: number;
  readonly formatMs: number;
  /** CPU time (user + system) of the same phases: the wall times above inflate on a busy machine. */
  readonly loadCpuMs: number;
  readonly planCpuMs: number;
  readonly toGenerate: number;
  readonly maxRssMb: number;
}

/** Child mode: plan the project in `dir` once, print the phase timings as JSON. */
async function measureInProcess(dir: string): Promise<void> {
  const { loadProject } = await import('../src/manifest/load-project.ts');
  const { computePlan } = await import('../src/plan/compute-plan.ts');
  const { formatPlan } = await import('../src/cli/commands/plan.ts');
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const c0 = cpu();
  const t0 = performance.now();
  const loaded = await loadProject({ cwd: dir, env: {} });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const t1 = performance.now();
  const c1 = cpu();
  const computed = await computePlan({ config: loaded.config, manifest: loaded.manifest });
  if (!computed.ok) throw new Error(JSON.stringify(computed.error));
  const t2 = performance.now();
  const c2 = cpu();
  const text = formatPlan(computed.value);
  const t3 = performance.now();
  const result: InProcess = {
    loadMs: t1 - t0,
    planMs: t2 - t1,
    formatMs: t3 - t2,
    loadCpuMs: c1 - c0,
    planCpuMs: c2 - c1,
    toGenerate: computed.value.plan.totals.toGenerate + (text.length > 0 ? 0 : NaN),
    maxRssMb: ownPeakRssKb() / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

/** This process's own peak RSS in kB: VmHWM (ru_maxrss would include the parent's, see lib.ts). */
function ownPeakRssKb(): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

function run(
  args: string[],
  cwd: string,
): Promise<{ ms: number; stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - start, stdout, stderr, code: code ?? -1 }));
  });
}

/** Reports the child's peak RSS (its own VmHWM: see EXIT_HOOK in lib.ts) on stderr as it exits. */
const RSS_HOOK =
  'data:text/javascript,import fs from "node:fs";process.on("exit",()=>{const u=process.resourceUsage();' +
  'let s="";try{s=fs.readFileSync("/proc/self/status","utf8")}catch{}const m=/VmHWM:\\s+(\\d+)/.exec(s);' +
  'process.stderr.write("\\nmaxrss_kb="+(m?m[1]:u.maxRSS)+" cpu_us="+(u.userCPUTime+u.systemCPUTime)+"\\n")})';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'pinned-max': { type: 'string' }, measure: { type: 'string' } },
  });
  if (values.measure !== undefined) return measureInProcess(values.measure);
  const sizes = positionals.length > 0 ? positionals.map(Number) : [1_000, 10_000, 100_000];
  const pinnedMax = Number(values['pinned-max'] ?? 10_000);
  await mkdir(work, { recursive: true });
  const rows: Record<string, unknown>[] = [];
  console.log(`node ${process.version}, ${cpus().length} cpus, load average ${loadavg()[0]!.toFixed(2)}`);
  console.log('times in ms as wall/cpu (the wall time inflates on a busy machine; cpu does less); RSS in MB');
  console.log('shots    state          load         plan  format  RSS |  process plan --json   RSS');
  for (const shots of sizes) {
    for (const state of ['new', 'pinned'] as const) {
      if (state === 'pinned' && shots > pinnedMax) continue;
      const dir = path.join(work, `plan-${shots}-${state}`);
      await generateProject({ dir, shots, pinned: state === 'pinned' });
      const inner = await run([import.meta.filename, '--measure', dir], repo);
      if (inner.code !== 0) throw new Error(inner.stderr);
      const m = JSON.parse(inner.stdout) as InProcess;
      // Whole process, twice: the first run also warms the OS file cache; the second is reported.
      await run(['--import', RSS_HOOK, bin, 'plan', '--json'], dir);
      const whole = await run(['--import', RSS_HOOK, bin, 'plan', '--json'], dir);
      if (whole.code !== 0) throw new Error(whole.stderr);
      const rssKb = Number(/maxrss_kb=(\d+)/.exec(whole.stderr)?.[1]);
      const cpuUs = Number(/cpu_us=(\d+)/.exec(whole.stderr)?.[1]);
      const doc = JSON.parse(whole.stdout) as { totals: { to_generate: number } };
      if (doc.totals.to_generate !== m.toGenerate)
        throw new Error('in-process and whole-process plans differ');
      const row = {
        shots,
        state,
        loadMs: Math.round(m.loadMs),
        planMs: Math.round(m.planMs),
        formatMs: Math.round(m.formatMs),
        loadCpuMs: Math.round(m.loadCpuMs),
        planCpuMs: Math.round(m.planCpuMs),
        inProcessRssMb: Math.round(m.maxRssMb),
        processMs: Math.round(whole.ms),
        processCpuMs: Math.round(cpuUs / 1000),
        processRssMb: Math.round(rssKb / 1024),
        toGenerate: m.toGenerate,
      };
      rows.push(row);
      const pair = (wall: number, cpu: number): string => `${wall}/${cpu}`;
      console.log(
        `${String(shots).padEnd(8)} ${state.padEnd(7)} ${pair(row.loadMs, row.loadCpuMs).padStart(11)}  ` +
          `${pair(row.planMs, row.planCpuMs).padStart(11)}  ${String(row.formatMs).padStart(6)}  ` +
          `${String(row.inProcessRssMb).padStart(3)} | ${pair(row.processMs, row.processCpuMs).padStart(19)}  ` +
          `${String(row.processRssMb).padStart(4)}`,
      );
    }
  }
  await writeFile(path.join(work, 'plan-scale.json'), `${JSON.stringify(rows, null, 2)}\n`);
}

await main();
