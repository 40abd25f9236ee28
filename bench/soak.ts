/**
 * `npm run soak`: minutes of random kills and faults over 30-shot storyboards (24 shots and a remix chain of
 * 6), each cycle ending in one clean build; prints how many videos the service made per shot and exits 1
 * unless every shot was made exactly once, every file is whole and the API key is nowhere. Not part of
 * `npm test`.
 *
 * Each round runs the real CLI (sometimes two at once, sometimes `watch`) against the emulator on loopback,
 * through the fault proxy, with a random mix of: a SIGKILL at a random durable write (the test-only switch,
 * src/core/test-faults.ts) or after a random real delay; ENOSPC/EIO on a random kind of write; lost create
 * responses; truncated or corrupted downloads; polls and List answering 500 or resetting. Faults heal at
 * random. The emulator clock runs 200 times real time, so the 24 h before a video expires is 7 minutes:
 * longer than the soak may run, so "made once" stays the right expectation.
 *
 * Usage: npm run soak [-- --minutes 3] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { moneyProject, storyboard } from '../test/support/money-project.ts';
import type { MoneyProject } from '../test/support/money-project.ts';
import type { ProxyRule } from '../test/support/fault-proxy.ts';
import { ROUTES } from '../test/support/fault-proxy.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '3' }, seed: { type: 'string', default: '1' } },
});
const minutes = Number(values.minutes);
if (!(minutes > 0 && minutes <= 6))
  throw new TypeError(`Expected --minutes in (0, 6], got ${values.minutes}`);

// A small seeded generator (mulberry32), so a seed replays the same choices (not the same timings).
let state = Number(values.seed) >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number): boolean => random() < p;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

const SHOTS = 24;
const CHAIN = 6;
const prompts = [
  ...Array.from({ length: SHOTS }, (_, i) => `Shot s${i + 1}.`),
  ...Array.from({ length: CHAIN }, (_, i) => `Remix r${i + 1}.`),
];
/** The project of the current cycle (a fresh one, with its own emulator, every few rounds). */
let project: MoneyProject;

function randomProxyRules(): ProxyRule[] {
  const rules: ProxyRule[] = [];
  const times = 1 + Math.floor(random() * 6);
  if (chance(0.3)) rules.push({ ...ROUTES.create, fault: 'drop-response', times });
  if (chance(0.2)) rules.push({ ...ROUTES.remix, fault: 'drop-response', times });
  if (chance(0.3)) rules.push({ ...ROUTES.list, fault: pick(['status-500', 'reset'] as const), times });
  if (chance(0.3)) rules.push({ ...ROUTES.poll, fault: pick(['status-500', 'reset'] as const), times });
  if (chance(0.3))
    rules.push({ ...ROUTES.content, fault: pick(['truncate', 'corrupt', 'reset'] as const), times });
  return rules;
}

function randomSwitch(): string | undefined {
  const parts: string[] = [];
  // A clean 30-shot build makes about 360 durable writes; later rounds of a cycle fewer.
  if (chance(0.5))
    parts.push(`${pick(['crash-at-write', 'crash-after-write'])}:${1 + Math.floor(random() * 250)}`);
  if (chance(0.2)) {
    const kind = pick(['store', 'journal', 'lockfile', 'action-cache', 'out', 'ledger']);
    parts.push(`${pick(['enospc', 'eio'])}:${kind}:${1 + Math.floor(random() * 3)}`);
  }
  return parts.length === 0 ? undefined : parts.join(',');
}

/** One process of a round: build (or watch, killed later), maybe SIGKILLed after a random delay. */
async function oneProcess(): Promise<string> {
  const faults = randomSwitch();
  const env = faults === undefined ? {} : { SORA_BUILD_TEST_FAULTS: faults };
  const watch = chance(0.15);
  const child = project.spawn(watch ? ['watch', '--reporter', 'plain'] : ['build', '--reporter', 'plain'], {
    env,
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const killAfter = watch ? 2000 + random() * 6000 : chance(0.3) ? random() * 4000 : 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfter);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  project.results.push({ code, signal: signal as NodeJS.Signals | null, stdout: out, stderr: '' });
  if (/internal error/.test(out))
    log(
      `  internal error:\n${out
        .split('\n')
        .filter((l) => /internal error|at /.test(l))
        .slice(0, 4)
        .join('\n')}`,
    );
  return `${watch ? 'watch' : 'build'}${faults === undefined ? '' : ` [${faults}]`} -> ${signal ?? code}`;
}

/**
 * Cycles until the deadline: a fresh project, 3 to 8 rounds of faults, then everything healed and one clean
 * build, whose outcome is tallied. Fresh projects keep every round paying for something (a built project
 * would only be rebuilt from cache).
 */
const deadline = Date.now() + minutes * 60_000;
let rounds = 0;
let processes = 0;
const made: number[] = [];
const problems: string[] = [];
for (let cycle = 1; Date.now() < deadline; cycle++) {
  project = await moneyProject({
    storyboard: storyboard({ shots: SHOTS, remixChain: CHAIN }),
    speed: 200,
    maxInFlight: 8,
  });
  try {
    const cycleRounds = 3 + Math.floor(random() * 6);
    for (let r = 0; r < cycleRounds && Date.now() < deadline; r++) {
      rounds++;
      project.proxy.setRules(randomProxyRules());
      project.emulator.setFaults({
        lostCreateResponseRate: chance(0.2) ? 0.3 : 0,
        truncateDownloadRate: chance(0.2) ? 0.5 : 0,
      });
      const count = chance(0.25) ? 2 : 1;
      const outcomes = await Promise.all(Array.from({ length: count }, () => oneProcess()));
      log(`cycle ${cycle} round ${r + 1}: ${outcomes.join(' | ')}`);
    }
    project.proxy.heal();
    project.emulator.setFaults({ lostCreateResponseRate: 0, truncateDownloadRate: 0 });
    // Renders on first download and a loaded machine make a clean 30-shot build slow: give it minutes.
    const final = await project.build([], { timeoutMs: 300_000 });
    processes += project.results.length;
    const videos = await project.videosPerPrompt();
    const counts = prompts.map((p) => videos[p] ?? 0);
    made.push(...counts);
    if (final.code !== 0)
      problems.push(`cycle ${cycle}: final build exit ${final.code}: ${final.stdout}${final.stderr}`);
    problems.push(...(await project.integrityProblems()).map((p) => `cycle ${cycle}: ${p}`));
    problems.push(...(await project.secretLeaks()).map((l) => `cycle ${cycle}: API key in ${l}`));
    log(`cycle ${cycle}: final exit ${final.code}, videos per shot ${counts.join(' ')}`);
  } finally {
    await project.close();
  }
}

const histogram = new Map<number, number>();
for (const n of made) histogram.set(n, (histogram.get(n) ?? 0) + 1);
const lines = [
  `soak: ${minutes} min, seed ${values.seed}, ${made.length / prompts.length} projects of ${prompts.length} shots, ${rounds} rounds of faults, ${processes} CLI processes`,
  `shots by videos made: ${[...histogram]
    .sort((a, b) => a[0] - b[0])
    .map(([n, c]) => `${c} made ${n}x`)
    .join(', ')}`,
  `total videos: ${made.reduce((a, b) => a + b, 0)} for ${made.length} shots`,
  `problems (final build, files, API key): ${problems.length === 0 ? 'none' : `\n${problems.join('\n')}`}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = made.every((n) => n === 1) && problems.length === 0 ? 0 : 1;
