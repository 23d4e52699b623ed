import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayMetrics } from '../../replay/metrics/replay-metrics.js';
import { writeReplayReports } from '../../replay/report/write-reports.js';
import { makeTempDir } from '../support/temp-dir.js';
import { fixtureReportInput } from './report-fixture.js';
import { CHROMIUM_PATH, chromiumMissing, skipBecause } from '../support/skip-reason.js';

/**
 * report.html opened by a real browser: Debian's chromium driven by
 * playwright-core (no browser download). Proves the file is self-contained
 * (no request leaves file://), has no console errors, and that its charts
 * really plot something — then screenshots it and checks the picture is not
 * blank.
 */

const CHROMIUM = CHROMIUM_PATH;

interface ChartFacts {
  id: string;
  width: number;
  height: number;
  paths: { series: string; length: number; width: number; height: number }[];
  points: number;
  bars: number;
}

describe.skipIf(skipBecause(chromiumMissing()))('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-html-'));
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await cleanup();
  });

  /** Opens a report, failing on console errors, page errors and any request that is not the file itself. */
  async function open(path: string) {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== pathToFileURL(path).href) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    return { page, problems };
  }

  it('renders every chart with plotted, visible data and takes a non-blank screenshot', async () => {
    const [, , html] = await writeReplayReports(join(dir, 'full'), fixtureReportInput());
    const { page, problems } = await open(html!);

    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          id: svg.id,
          width: box.width,
          height: box.height,
          paths: [...svg.querySelectorAll<SVGPathElement>('path.series')].map((p) => {
            const b = p.getBoundingClientRect();
            return { series: p.dataset.series ?? '', length: p.getTotalLength(), width: b.width, height: b.height };
          }),
          points: [...svg.querySelectorAll('circle.point')].filter((c) => c.getBoundingClientRect().width > 0).length,
          bars: [...svg.querySelectorAll('rect.bar')].filter((r) => r.getBoundingClientRect().width > 0).length,
        };
      }),
    );
    const byId = new Map<string, ChartFacts>(charts.map((c) => [c.id, c]));
    expect([...byId.keys()]).toEqual(['chart-rate', 'chart-latency', 'chart-distribution', 'chart-status']);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.height, c.id).toBeGreaterThan(50);
    }
    // Rate: the plan, what was sent and errors, one point per second for 25 s.
    const rate = byId.get('chart-rate')!;
    expect(rate.paths.map((p) => p.series)).toEqual(['planned (recorded, scheduled)', 'replayed (sent)', 'errors']);
    // The replayed line dips to 0 during the stall and spikes after it: it spans real height.
    const sent = rate.paths[1]!;
    expect(sent.length).toBeGreaterThan(500);
    expect(sent.height).toBeGreaterThan(100);
    expect(rate.points).toBeGreaterThanOrEqual(60);
    // Latency over time: p50 and p99, the stall visible as a peak.
    const latency = byId.get('chart-latency')!;
    expect(latency.paths.map((p) => p.series)).toEqual(['p50', 'p99']);
    expect(latency.paths[1]!.height).toBeGreaterThan(100);
    const dist = byId.get('chart-distribution')!;
    expect(dist.paths.map((p) => p.series)).toEqual(['corrected', 'uncorrected']);
    expect(dist.paths.every((p) => p.length > 100)).toBe(true);
    expect(byId.get('chart-status')!.bars).toBe(4); // 2xx, 4xx, 5xx, no response

    // Tables: thresholds with verdicts, endpoints.
    expect(await page.$$eval('#thresholds tbody tr', (rows) => rows.map((r) => r.className))).toEqual(['fail', 'pass', 'pass', 'pass', 'fail']);
    expect(await page.$$eval('#endpoints tbody tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual([
      'GET /users/:id',
      'GET /search',
      'POST /orders',
      'GET /health',
    ]);

    const png = await page.screenshot({ fullPage: true, path: join(dir, 'report.png') });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const colours = await countColours(png);
    // Text, grid lines, five line colours, bars: a blank or failed render has a handful.
    expect(colours).toBeGreaterThan(200);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('an empty run (nothing sent) still renders, saying there is no data', async () => {
    const input = fixtureReportInput({ snapshot: new ReplayMetrics().snapshot(), thresholds: [], plan: undefined });
    const [, , html] = await writeReplayReports(join(dir, 'empty'), input);
    const { page, problems } = await open(html!);
    expect(await page.$$eval('svg.chart text.empty', (t) => t.map((x) => x.textContent))).toEqual(['no data', 'no data', 'no data', 'no responses']);
    expect(await page.textContent('body')).toContain('No thresholds were set');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the file holds no external references at all', async () => {
    const [, , html] = await writeReplayReports(join(dir, 'refs'), fixtureReportInput());
    const text = await readFile(html!, 'utf8');
    expect(text).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(text).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(text).toContain("Content-Security-Policy\" content=\"default-src 'none'");
  });

  /** Decodes the PNG in a blank page (canvas) and counts distinct RGB colours. */
  async function countColours(png: Buffer): Promise<number> {
    const page = await browser.newPage();
    const n = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    }, png.toString('base64'));
    await page.close();
    return n;
  }
});
