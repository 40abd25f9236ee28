/**
 * Benchmark 5, downloads: 8 concurrent downloads of 200 MB videos (the emulator's `largeVideoBytes` fault
 * pads each MP4 with a `free` box) through our download path, the provider's `download` streamed into
 * `Store.ingest` (what run-job.ts downloadVariant does, minus the MP4 check of the result), in a child
 * process whose RSS is sampled every 10 ms; against `curl` fetching the same 8 URLs into files on the same
 * disk, 8 processes at once, in the same run. Runs alternate so every contender sees the same machine;
 * throughput is total bytes over wall time.
 *
 * Two more contenders explain the ratio:
 * - `curl` + fsync: each file is fsynced when its curl exits, the durability `Store.ingest` gives (a
 *   video is on disk before the store names it), so the disk's flush bandwidth is in both figures;
 * - Node's `fetch` receiving only: the same 8 bodies read and dropped in a child (no hashing, no writing),
 *   the ceiling of the HTTP stack the `openai` SDK runs on, on this machine.
 *
 * Child mode: node bench/downloads.ts --child ours|receive <project dir> <emulator url> <id>...
 */
import { spawn } from 'node:child_process';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Row } from './lib.ts';
import { API_KEY, WORK, emulatorConfig, fmtSpread, log, spread, verdict } from './lib.ts';

const VIDEOS = 8;
const BYTES = 200 * 1024 * 1024;

interface ChildReport {
  readonly ms: number;
  readonly bytes: number;
  readonly baseRssMb: number;
  readonly peakRssMb: number;
}

/** Node's fetch, reading the bodies and dropping them: what the SDK's HTTP stack alone can do here. */
async function receiveChild(url: string, ids: readonly string[]): Promise<void> {
  const start = performance.now();
  const sizes = await Promise.all(
    ids.map(async (id) => {
      const res = await fetch(`${url}/v1/videos/${id}/content`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      let bytes = 0;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
      return bytes;
    }),
  );
  const report: ChildReport = {
    ms: performance.now() - start,
    bytes: sizes.reduce((a, b) => a + b, 0),
    baseRssMb: 0,
    peakRssMb: 0,
  };
  process.stdout.write(JSON.stringify(report));
}

async function child(dir: string, ids: readonly string[]): Promise<void> {
  const { loadProject } = await import('../src/manifest/load-project.ts');
  const { createProvider } = await import('../src/provider/create-provider.ts');
  const { Store } = await import('../src/cache/store.ts');
  const { systemClock } = await import('../src/core/clock.ts');
  const { asVideoId } = await import('../src/core/brand.ts');
  const loaded = await loadProject({ cwd: dir, env: { OPENAI_API_KEY: API_KEY } });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const { config } = loaded;
  const provider = await createProvider({
    config: config.provider,
    env: { OPENAI_API_KEY: API_KEY },
    clock: systemClock,
    cacheDir: config.cacheDir,
  });
  const store = Store.open(config.cacheDir, { clock: systemClock });
  // Baseline after everything is loaded and one request has warmed the client. The child runs without
  // --expose-gc, as the CLI does: the store's own young collections (src/cache/scavenge.ts) are measured.
  await provider.retrieve(asVideoId(ids[0]!));
  const baseRss = process.memoryUsage.rss();
  let peak = baseRss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const start = performance.now();
  const results = await Promise.all(
    ids.map(async (id) => {
      const download = await provider.download(asVideoId(id), 'video');
      const got = await store.ingest(download.body, {
        expected: download.contentLength === null ? {} : { bytes: download.contentLength },
      });
      if (!got.ok) throw new Error(`ingest failed: ${JSON.stringify(got.error)}`);
      return got.value.bytes;
    }),
  );
  const ms = performance.now() - start;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  await provider.close();
  const report: ChildReport = {
    ms,
    bytes: results.reduce((a, b) => a + b, 0),
    baseRssMb: baseRss / 2 ** 20,
    peakRssMb: peak / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(report));
}

function exec(
  cmd: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function which(cmd: string): Promise<boolean> {
  return (await exec('sh', ['-c', `command -v ${cmd}`], '/').catch(() => ({ code: 1 }))).code === 0;
}

/**
 * The baseline: curl, 8 processes at once; or, without curl, Node's fetch streamed to files. With `fsync`,
 * each file is fsynced as soon as its download ends (inside the timed span).
 */
async function baseline(
  url: string,
  ids: readonly string[],
  dir: string,
  useCurl: boolean,
  fsync: boolean,
): Promise<number> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const start = performance.now();
  await Promise.all(
    ids.map(async (id, i) => {
      const target = path.join(dir, `${i}.mp4`);
      const source = `${url}/v1/videos/${id}/content`;
      if (useCurl) {
        const r = await exec(
          'curl',
          ['-sSf', '-o', target, '-H', `Authorization: Bearer ${API_KEY}`, source],
          dir,
        );
        if (r.code !== 0) throw new Error(`curl failed: ${r.stderr}`);
      } else {
        const { createWriteStream } = await import('node:fs');
        const { pipeline } = await import('node:stream/promises');
        const { Readable } = await import('node:stream');
        const res = await fetch(source, { headers: { authorization: `Bearer ${API_KEY}` } });
        await pipeline(Readable.fromWeb(res.body as never), createWriteStream(target));
      }
      if (fsync) {
        const handle = await open(target, 'r+');
        await handle.sync();
        await handle.close();
      }
    }),
  );
  const ms = performance.now() - start;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

export async function downloads(options: { runs: number }): Promise<Row[]> {
  const { startEmulator } = await import('../src/emulator/server.ts');
  const emulator = await startEmulator({
    apiKeys: [API_KEY],
    createsPerMinute: Infinity,
    renderSecondsPerSecond: 0,
    renderOnCreate: true,
    renderFps: 1,
    faults: { largeVideoBytes: BYTES },
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < VIDEOS; i++) {
      const res = await fetch(`${emulator.url}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sora-2', prompt: `download ${i}`, size: '1280x720', seconds: '4' }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const project = path.join(WORK, 'downloads');
    await rm(project, { recursive: true, force: true });
    await mkdir(project, { recursive: true });
    await writeFile(
      path.join(project, 'sora.config.yaml'),
      emulatorConfig(emulator.url, { createsPerMinute: 100, maxInFlight: 8 }),
    );
    await writeFile(path.join(project, 'storyboard.yaml'), 'version: 1\nshots: {}\n');
    const useCurl = await which('curl');
    const runChild = async (mode: 'ours' | 'receive'): Promise<ChildReport> => {
      await rm(path.join(project, '.sora-build'), { recursive: true, force: true });
      const r = await exec(
        process.execPath,
        [import.meta.filename, '--child', mode, project, emulator.url, ...ids],
        project,
      );
      if (r.code !== 0) throw new Error(`download child (${mode}) failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as ChildReport;
    };
    const fetchFiles = (fsync: boolean): Promise<number> =>
      baseline(emulator.url, ids, path.join(project, 'baseline'), useCurl, fsync);
    // Warm-up: renders done, page cache and sockets in the same state for every contender.
    await fetchFiles(false);
    const ours: ChildReport[] = [];
    const plain: number[] = [];
    const durable: number[] = [];
    const receive: ChildReport[] = [];
    for (let run = 0; run < options.runs; run++) {
      ours.push(await runChild('ours'));
      plain.push(await fetchFiles(false));
      durable.push(await fetchFiles(true));
      receive.push(await runChild('receive'));
    }
    await rm(path.join(project, '.sora-build'), { recursive: true, force: true });
    const total = VIDEOS * BYTES;
    const mbs = (bytes: number, ms: number): number => bytes / 2 ** 20 / (ms / 1000);
    const oursMBs = spread(ours.map((o) => mbs(o.bytes, o.ms)));
    const plainMBs = spread(plain.map((ms) => mbs(total, ms)));
    const durableMBs = spread(durable.map((ms) => mbs(total, ms)));
    const receiveMBs = spread(receive.map((o) => mbs(o.bytes, o.ms)));
    const growth = spread(ours.map((o) => o.peakRssMb - o.baseRssMb));
    const ratio = spread(ours.map((o, i) => mbs(o.bytes, o.ms) / mbs(total, plain[i]!)));
    const durableRatio = spread(ours.map((o, i) => mbs(o.bytes, o.ms) / mbs(total, durable[i]!)));
    const receiveRatio = spread(receive.map((o, i) => mbs(o.bytes, o.ms) / mbs(total, plain[i]!)));
    const tool = useCurl ? 'curl' : 'Node fetch (curl not installed)';
    log(
      `downloads: ours ${oursMBs.median.toFixed(0)} MB/s, ${tool} ${plainMBs.median.toFixed(0)} MB/s, with fsync ${durableMBs.median.toFixed(0)} MB/s, Node fetch receiving only ${receiveMBs.median.toFixed(0)} MB/s`,
    );
    return [
      {
        metric: '5. 8 x 200 MB downloads: peak RSS growth',
        value: fmtSpread(growth, ' MB', 1),
        target: '< 64 MB',
        verdict: verdict(growth.median < 64),
        data: { growth, runs: ours },
      },
      {
        metric: `5. download throughput vs ${tool} (same run, paired)`,
        value: `${fmtSpread(ratio, '', 2)}; ours ${oursMBs.median.toFixed(0)} MB/s, ${tool} ${plainMBs.median.toFixed(0)} MB/s`,
        target: '>= 0.7',
        verdict: verdict(ratio.median >= 0.7),
        data: { ratio, oursMBs, theirsMBs: plainMBs, tool },
      },
      {
        metric: `5. ... vs ${tool} + fsync of each file (ours fsyncs too)`,
        value: `${fmtSpread(durableRatio, '', 2)}; ${tool} + fsync ${durableMBs.median.toFixed(0)} MB/s`,
        target: 'same durability',
        verdict: 'info',
        data: { durableRatio, durableMBs },
      },
      {
        metric: `5. ceiling: Node fetch receiving only (no hash, no disk) vs ${tool}`,
        value: `${fmtSpread(receiveRatio, '', 2)}; ${receiveMBs.median.toFixed(0)} MB/s`,
        target: "the SDK's HTTP stack",
        verdict: 'info',
        data: { receiveRatio, receiveMBs },
      },
    ];
  } finally {
    await emulator.close();
  }
}

if (process.argv[2] === '--child') {
  const [mode, dir, url, ...ids] = process.argv.slice(3);
  if (mode === 'receive') await receiveChild(url!, ids);
  else await child(dir!, ids);
}
