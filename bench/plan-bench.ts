/**
 * Benchmark 2, planning scale: `sora-build plan --json` as a whole process on generated never-built
 * projects of 1k, 10k and 100k shots (bench/generate-manifest.ts, the generator bench/plan-scale.ts uses;
 * run that script for the per-phase breakdown and the pinned state). Time and peak RSS per size, and the
 * growth: the marginal cost per shot between sizes, which stays flat when planning is linear.
 */
import path from 'node:path';
import { generateProject } from './generate-manifest.ts';
import type { Row, Spread } from './lib.ts';
import { BIN, WORK, cliEnv, fmtSpread, log, runNode, spread, verdict } from './lib.ts';

export async function planScale(options: { sizes: readonly number[]; runs: number }): Promise<Row[]> {
  const rows: Row[] = [];
  const seconds = new Map<number, Spread>();
  const rss = new Map<number, Spread>();
  for (const shots of options.sizes) {
    const dir = path.join(WORK, `plan-${shots}-new`);
    await generateProject({ dir, shots });
    const env = cliEnv({});
    await runNode([BIN, 'plan', '--json'], { cwd: dir, env }); // warms the OS file cache
    const times: number[] = [];
    const mem: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const r = await runNode([BIN, 'plan', '--json'], { cwd: dir, env });
      if (r.code !== 0)
        throw new Error(`plan failed on ${shots} shots (${r.code}): ${r.stderr.slice(-2000)}`);
      times.push(r.ms / 1000);
      mem.push(r.maxRssKb / 1024);
    }
    seconds.set(shots, spread(times));
    rss.set(shots, spread(mem));
    log(`plan: ${shots} shots ${spread(times).median.toFixed(2)} s, ${spread(mem).median.toFixed(0)} MB`);
  }
  for (const shots of options.sizes) {
    const t = seconds.get(shots)!;
    const m = rss.get(shots)!;
    const isTarget = shots === 10_000;
    rows.push({
      metric: `2. plan ${shots.toLocaleString('en')} shots: time (whole process)`,
      value: fmtSpread(t, ' s'),
      target: isTarget ? '< 2 s' : '',
      verdict: isTarget ? verdict(t.median < 2) : 'info',
      data: { seconds: t },
    });
    rows.push({
      metric: `2. plan ${shots.toLocaleString('en')} shots: peak RSS`,
      value: fmtSpread(m, ' MB', 0),
      target: isTarget ? '< 300 MB' : '',
      verdict: isTarget ? verdict(m.median < 300) : 'info',
      data: { rssMb: m },
    });
  }
  // Marginal cost per shot between consecutive sizes (start-up cancels out).
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const marginal: string[] = [];
  const perShot: number[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1]!;
    const b = sizes[i]!;
    const us = ((seconds.get(b)!.median - seconds.get(a)!.median) / (b - a)) * 1e6;
    const kb = ((rss.get(b)!.median - rss.get(a)!.median) / (b - a)) * 1024;
    perShot.push(us);
    marginal.push(`${a / 1000}k->${b / 1000}k: ${us.toFixed(0)} us, ${kb.toFixed(1)} kB per shot`);
  }
  const growth = perShot.length >= 2 ? perShot[perShot.length - 1]! / perShot[perShot.length - 2]! : 1;
  rows.push({
    metric: '2. plan growth: marginal cost per shot',
    value: `${marginal.join('; ')}; ratio ${growth.toFixed(2)}`,
    target: 'linear: ratio <= 1.5',
    verdict: verdict(growth <= 1.5),
    data: { marginalUsPerShot: perShot },
  });
  return rows;
}
