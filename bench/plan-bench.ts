/**
 * Benchmark 2, planning scale: `sora-build plan --json` as a whole process on generated never-built
 * projects of 1k, 10k and 100k shots (bench/generate-manifest.ts, the generator bench/plan-scale.ts uses;
 * run that script for the per-phase breakdown and the pinned state). Two cases per size, each the median of
 * several runs with min and max:
 * - after an edit: one line of the manifest changed before every run, so the analysis cache misses and the
 *   whole manifest is parsed and analysed: what a user waits for after saving the storyboard. The target
 *   and the growth (marginal cost per shot between sizes, flat when planning is linear) use this case;
 * - unchanged: the same manifest again (the analysis cache hits).
 * Peak RSS comes from the child's own `process.resourceUsage()`.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { generateProject } from './generate-manifest.ts';
import type { Row, Spread } from './lib.ts';
import { BIN, WORK, cliEnv, fmtSpread, log, runNode, spread, verdict } from './lib.ts';

interface Case {
  readonly seconds: Spread;
  readonly rssMb: Spread;
}

export async function planScale(options: { sizes: readonly number[]; runs: number }): Promise<Row[]> {
  const rows: Row[] = [];
  const edited = new Map<number, Case>();
  const unchanged = new Map<number, Case>();
  for (const shots of options.sizes) {
    const dir = path.join(WORK, `plan-${shots}-new`);
    await generateProject({ dir, shots });
    const env = cliEnv({});
    const plan = async (): Promise<{ s: number; mb: number }> => {
      const r = await runNode([BIN, 'plan', '--json'], { cwd: dir, env });
      if (r.code !== 0)
        throw new Error(`plan failed on ${shots} shots (${r.code}): ${r.stderr.slice(-2000)}`);
      return { s: r.ms / 1000, mb: r.maxRssKb / 1024 };
    };
    await plan(); // warms the OS file cache and the reference image's stat cache
    const measure = async (before: (run: number) => Promise<void>): Promise<Case> => {
      const got: { s: number; mb: number }[] = [];
      for (let run = 0; run < options.runs; run++) {
        await before(run);
        got.push(await plan());
      }
      return { seconds: spread(got.map((g) => g.s)), rssMb: spread(got.map((g) => g.mb)) };
    };
    // A comment is an edit like any other to the analysis cache (its key is the manifest's bytes).
    const manifest = path.join(dir, 'storyboard.yaml');
    edited.set(shots, await measure((run) => appendFile(manifest, `# edit ${run}\n`)));
    unchanged.set(shots, await measure(() => Promise.resolve()));
    log(
      `plan: ${shots} shots, after an edit ${edited.get(shots)!.seconds.median.toFixed(2)} s / ${edited.get(shots)!.rssMb.median.toFixed(0)} MB, unchanged ${unchanged.get(shots)!.seconds.median.toFixed(2)} s`,
    );
  }
  for (const shots of options.sizes) {
    const e = edited.get(shots)!;
    const u = unchanged.get(shots)!;
    const isTarget = shots === 10_000;
    const n = shots.toLocaleString('en');
    rows.push(
      {
        metric: `2. plan ${n} shots after an edit: time (whole process)`,
        value: fmtSpread(e.seconds, ' s'),
        target: isTarget ? '< 2 s' : '',
        verdict: isTarget ? verdict(e.seconds.median < 2) : 'info',
        data: { seconds: e.seconds },
      },
      {
        metric: `2. plan ${n} shots after an edit: peak RSS`,
        value: fmtSpread(e.rssMb, ' MB', 0),
        target: isTarget ? '< 300 MB' : '',
        verdict: isTarget ? verdict(e.rssMb.median < 300) : 'info',
        data: { rssMb: e.rssMb },
      },
      {
        metric: `2. plan ${n} shots unchanged (analysis cache): time, RSS`,
        value: `${fmtSpread(u.seconds, ' s')}; ${u.rssMb.median.toFixed(0)} MB`,
        target: '',
        verdict: 'info',
        data: { seconds: u.seconds, rssMb: u.rssMb },
      },
    );
  }
  // Marginal cost per shot between consecutive sizes (start-up cancels out), after an edit.
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const marginal: string[] = [];
  const perShot: number[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1]!;
    const b = sizes[i]!;
    const us = ((edited.get(b)!.seconds.median - edited.get(a)!.seconds.median) / (b - a)) * 1e6;
    const kb = ((edited.get(b)!.rssMb.median - edited.get(a)!.rssMb.median) / (b - a)) * 1024;
    perShot.push(us);
    marginal.push(`${a / 1000}k->${b / 1000}k: ${us.toFixed(0)} us, ${kb.toFixed(1)} kB per shot`);
  }
  const growth = perShot.length >= 2 ? perShot[perShot.length - 1]! / perShot[perShot.length - 2]! : 1;
  rows.push({
    metric: '2. plan growth after an edit: marginal cost per shot',
    value: `${marginal.join('; ')}; ratio ${growth.toFixed(2)}`,
    target: 'linear: ratio <= 1.5',
    verdict: verdict(growth <= 1.5),
    data: { marginalUsPerShot: perShot },
  });
  return rows;
}
