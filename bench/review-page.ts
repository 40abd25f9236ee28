/**
 * The review page with a 200-shot storyboard (issue 16: "loads in under a second"): a pinned project
 * (bench/generate-manifest.ts), `startReviewServer` in this process, and Debian's Chromium through
 * playwright-core. Each run opens the page in a fresh browser context (no HTTP cache) and measures, from
 * navigation start, the sheet rendered (every card in the DOM) and the `load` event (which waits for the
 * lazy posters in view). Posters are made once beforehand (the steady state: they are kept by video
 * digest), so the figure is the page, not ffmpeg. Also counted: posters requested during the load, which
 * shows that the ones out of view are not fetched.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { generateProject } from './generate-manifest.ts';
import type { Row } from './lib.ts';
import { WORK, fmtSpread, log, spread, verdict } from './lib.ts';
import { startReviewServer } from '../src/review/review-server.ts';

export async function reviewPage(options: { shots?: number; runs: number }): Promise<Row[]> {
  const shots = options.shots ?? 200;
  const dir = path.join(WORK, `review-${shots}`);
  log(`review: generating a pinned ${shots}-shot project`);
  await generateProject({ dir, shots, pinned: true });
  const server = await startReviewServer({ review: { cwd: dir, env: {} } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const posters = path.join(dir, '.sora-build', 'review', 'posters');
    await mkdir(posters, { recursive: true });
    const frame = await sharp({ create: { width: 480, height: 270, channels: 3, background: '#335577' } })
      .jpeg()
      .toBuffer();
    for (const [digest, kind] of server.current().media)
      if (kind === 'video') await writeFile(path.join(posters, `${digest}.jpg`), frame);

    const rendered: number[] = [];
    const loaded: number[] = [];
    const requested: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      let posterRequests = 0;
      page.on('request', (r) => {
        if (r.url().endsWith('.jpg')) posterRequests++;
      });
      await page.goto(server.url, { waitUntil: 'load' });
      const t = await page.evaluate<{ load: number; rendered: number; cards: number }>(`(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const mark = performance.getEntriesByName('sheet-rendered')[0];
        return { load: nav.loadEventEnd, rendered: mark ? mark.startTime : -1, cards: document.querySelectorAll('#sheet > .shot').length };
      })()`);
      if (t.cards !== shots) throw new Error(`expected ${shots} cards, found ${t.cards}`);
      rendered.push(t.rendered / 1000);
      loaded.push(t.load / 1000);
      requested.push(posterRequests);
      await context.close();
    }
    const load = spread(loaded);
    return [
      {
        metric: `review page, ${shots} shots: sheet rendered`,
        value: fmtSpread(spread(rendered), ' s', 3),
        target: '',
        verdict: 'info',
      },
      {
        metric: `review page, ${shots} shots: load event`,
        value: fmtSpread(load, ' s', 3),
        target: '< 1 s',
        verdict: verdict(load.median < 1),
      },
      {
        metric: `review page, ${shots} shots: posters fetched at load`,
        value: `${spread(requested).median} of ${shots}`,
        target: 'only those in view',
        verdict: verdict(spread(requested).max < shots / 2),
      },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
