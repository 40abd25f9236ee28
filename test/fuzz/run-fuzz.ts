/**
 * `npm run fuzz [-- --minutes N] [-- --seed S]`: the hostile-input property of
 * test/fuzz/hostile-input.test.ts for as long as asked (default 30 minutes), every case through the real
 * command as a child process (`validate`, then `plan --json`), killed after the time bound. It stops by
 * itself; failing cases are kept under fuzz-failures/ (storyboard, config, env and what was printed) and
 * the summary gives the cases run, the time, the failures and the largest output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { hostileCase, inputBytes, violations } from './hostile-cases.ts';
import { COMMANDS, runChild, withCaseDir } from './run-case.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000_000) },
    out: { type: 'string', default: 'fuzz-failures' },
    /** Another checkout's bin/sora-build.js, e.g. to see that the property finds the bugs of an old one. */
    bin: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed);
if (!(minutes > 0) || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--minutes N] [--seed S] [--out DIR] [--bin PATH]\n');
  process.exit(2);
}

const started = Date.now();
const deadline = started + minutes * 60_000;
let cases = 0;
let runs = 0;
let failures = 0;
const largest = { stdout: { bytes: 0, what: '' }, stderr: { bytes: 0, what: '' } };
let slowest = { ms: 0, what: '' };
let lastReport = started;

const log = (text: string): void => {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
};
log(`fuzz: seed ${seed}, ${minutes} min, until ${new Date(deadline).toISOString()}`);

for (let batch = 0; Date.now() < deadline; batch++) {
  for (const c of fc.sample(hostileCase(), { seed: seed + batch, numRuns: 20 })) {
    if (Date.now() >= deadline) break;
    cases++;
    const id = `${seed + batch}-${cases}`;
    // A throw here is the harness's own failure (e.g. a case it cannot write): counted, shown, not fatal.
    await withCaseDir(c, async (dir) => {
      for (const args of COMMANDS) {
        const run = await runChild(
          args,
          c,
          dir,
          values.bin === undefined ? {} : { bin: path.resolve(values.bin) },
        );
        runs++;
        const what = `case ${id} ${args.join(' ')}`;
        if (run.stdoutBytes > largest.stdout.bytes) largest.stdout = { bytes: run.stdoutBytes, what };
        if (run.stderrBytes > largest.stderr.bytes) largest.stderr = { bytes: run.stderrBytes, what };
        if (run.ms > slowest.ms) slowest = { ms: run.ms, what };
        const found = violations(run, inputBytes(c));
        if (found.length === 0) continue;
        failures++;
        log(`FAIL ${what}: ${found.join('; ')}`);
        const keep = path.join(values.out, `${id}-${args[0]}`);
        await mkdir(keep, { recursive: true });
        await writeFile(path.join(keep, 'storyboard.yaml'), c.manifest);
        if (c.config !== undefined) await writeFile(path.join(keep, 'sora.config.yaml'), c.config);
        await writeFile(
          path.join(keep, 'case.json'),
          JSON.stringify(
            { args: [...args, ...c.args], env: c.env, violations: found, code: run.code, ms: run.ms },
            null,
            2,
          ),
        );
        await writeFile(path.join(keep, 'stdout.txt'), run.stdout.slice(0, 1_000_000));
        await writeFile(path.join(keep, 'stderr.txt'), run.stderr.slice(0, 1_000_000));
      }
    }).catch((error: unknown) => {
      failures++;
      log(`FAIL case ${id}: the harness failed: ${String(error)}`);
    });
    if (Date.now() - lastReport >= 60_000) {
      lastReport = Date.now();
      log(`${cases} cases, ${runs} runs, ${failures} failures`);
    }
  }
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
log(
  [
    `done: ${cases} cases (${runs} runs) in ${((Date.now() - started) / 60_000).toFixed(1)} min, ${failures} failures`,
    `largest stdout ${kib(largest.stdout.bytes)} (${largest.stdout.what})`,
    `largest stderr ${kib(largest.stderr.bytes)} (${largest.stderr.what})`,
    `slowest run ${(slowest.ms / 1000).toFixed(2)} s (${slowest.what})`,
  ].join('\n  '),
);
process.exitCode = failures === 0 ? 0 : 1;
