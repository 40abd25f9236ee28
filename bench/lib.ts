/**
 * Shared pieces of the benchmark runner: statistics (median with min and max), running the real CLI as a
 * child process with its peak memory and I/O counters, and the result rows the table is printed from.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..');
export const BIN = path.join(REPO, 'bin/sora-build.js');
export const WORK = path.join(REPO, 'bench/.work');

/** Median, min and max of several runs of one measurement. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

export type Verdict = 'pass' | 'FAIL' | 'info';

/** One line of the table. */
export interface Row {
  readonly metric: string;
  /** Human text of the value, e.g. `0.41 s (0.39-0.47, n=7)`. */
  readonly value: string;
  readonly target: string;
  readonly verdict: Verdict;
  /** Raw figures for results.json. */
  readonly data?: unknown;
}

export const fmtSpread = (s: Spread, unit: string, digits = 2): string =>
  `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)}, n=${s.runs})`;

export const verdict = (ok: boolean): Verdict => (ok ? 'pass' : 'FAIL');

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Real milliseconds from spawn to exit. */
  readonly ms: number;
  /** Peak resident set of the child, kB (from its own process.resourceUsage at exit). */
  readonly maxRssKb: number;
  /** /proc/self/io of the child at exit: bytes asked of read() (rchar) and bytes fetched from disk. */
  readonly rchar: number;
  readonly readBytes: number;
  readonly cpuMs: number;
}

/**
 * Prints the child's own counters on stderr as it exits: peak RSS, CPU time and /proc/self/io. Loaded with
 * `--import`, so it measures the whole process without changing the code under test. The peak is VmHWM from
 * /proc/self/status, the high-water mark of the process's own memory: Linux carries `ru_maxrss` (what
 * `resourceUsage().maxRSS` reports) over from the parent through fork and exec, so a child smaller than the
 * benchmark runner would report the runner's size.
 */
const EXIT_HOOK =
  'data:text/javascript,import fs from "node:fs";process.on("exit",()=>{const u=process.resourceUsage();' +
  'const r=(f)=>{try{return fs.readFileSync(f,"utf8")}catch{return ""}};const io=r("/proc/self/io");' +
  'const g=(t,k)=>{const m=new RegExp(k+":\\\\s+(\\\\d+)").exec(t);return m?m[1]:"-1"};' +
  'const hwm=Number(g(r("/proc/self/status"),"VmHWM"));' +
  'process.stderr.write("\\n@bench maxrss_kb="+(hwm>0?hwm:u.maxRSS)+" cpu_us="+(u.userCPUTime+u.systemCPUTime)+' +
  '" rchar="+g(io,"rchar")+" read_bytes="+g(io,"read_bytes")+"\\n")})';

export function runNode(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', EXIT_HOOK, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      const num = (k: string): number => Number(new RegExp(`${k}=(-?\\d+)`).exec(stderr)?.[1] ?? NaN);
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/\n@bench .*\n?/, ''),
        ms,
        maxRssKb: num('maxrss_kb'),
        rchar: num('rchar'),
        readBytes: num('read_bytes'),
        cpuMs: num('cpu_us') / 1000,
      });
    });
  });
}

/** The environment for a CLI child: ours minus anything that would point it at a real service. */
export function cliEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(OPENAI_|AZURE_|SORA_BUILD_)/.test(k)) env[k] = v;
  }
  return { ...env, NO_COLOR: '1', CI: '1', ...extra };
}

export const API_KEY = 'sk-bench-not-a-secret';

/** `sora.config.yaml` for a standalone emulator at `url`. */
export function emulatorConfig(
  url: string,
  quota: { createsPerMinute: number; maxInFlight: number },
): string {
  return [
    'version: 1',
    'provider: local',
    'providers:',
    '  local:',
    '    type: openai',
    `    base_url: ${url}/v1`,
    `    quota: { creates_per_minute: ${quota.createsPerMinute}, max_in_flight: ${quota.maxInFlight} }`,
    '    pricing: { sora-2: { usd_per_second: 0.1 } }',
    '',
  ].join('\n');
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
