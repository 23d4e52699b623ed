import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { diffLive } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import { judgeDiff, parseDiffThresholds } from '../../../replay/diff/diff-thresholds.js';
import { writeDiffReports } from '../../../replay/diff/report/write-diff-reports.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { startRelease, writeRecordedStore, type RunningRelease } from './support/release-servers.js';
import { CHROMIUM_PATH, chromiumMissing, skipBecause } from '../../support/skip-reason.js';

/**
 * Must-show 2: the JUnit and HTML reports of a real diff render in a real
 * browser. Headless Debian Chromium (driven by playwright-core, which
 * downloads nothing) parses the JUnit XML with its XML parser and renders
 * the HTML page, which is screenshotted. Skipped, with the reason printed,
 * only when /usr/bin/chromium is absent.
 */

const CHROMIUM = CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(skipBecause(chromiumMissing()))('diff reports render in headless Chromium', () => {
  let browser: Browser;
  let servers: RunningRelease[] = [];
  let dir: string;
  let cleanup: () => Promise<void>;
  let report: DiffReport;
  let files: { json: string; junit: string; html: string };

  beforeAll(async () => {
    const tmp = await makeTempDir('reprise-diff-render-');
    dir = tmp.dir;
    cleanup = tmp.cleanup;
    const store = await writeRecordedStore(join(dir, 'store'));
    servers = await Promise.all([startRelease('A'), startRelease('B'), startRelease('A')]);
    report = await diffLive({ store, baseline: servers[0]!.url, candidate: servers[1]!.url, baseline2: servers[2]!.url });
    files = await writeDiffReports(report, judgeDiff(report, parseDiffThresholds('no high, max_medium=5')), join(dir, 'out'));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
    await cleanup?.();
  });

  it('JUnit XML parses in the browser and has one suite per endpoint plus thresholds', async () => {
    const xml = await readFile(files.junit, 'utf8');
    const page = await browser.newPage();
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const err = doc.querySelector('parsererror');
      const root = doc.documentElement;
      return {
        error: err ? err.textContent : null,
        root: root.nodeName,
        tests: root.getAttribute('tests'),
        failures: root.getAttribute('failures'),
        suites: [...doc.querySelectorAll('testsuite')].map((s) => [s.getAttribute('name'), s.getAttribute('failures')]),
        failureTypes: [...doc.querySelectorAll('failure')].map((f) => f.getAttribute('type')),
      };
    }, xml);
    await page.close();
    expect(parsed.error).toBeNull();
    expect(parsed.root).toBe('testsuites');
    expect(parsed.suites).toEqual([
      ['GET /health', '2'],
      ['GET /orders/:id', '1'],
      ['GET /users/:id', '1'],
      ['GET /catalog', '1'],
      ['thresholds', '1'],
    ]);
    // 3 high + 2 medium findings fail; 4 low ones pass; "no high" fails, "max_medium=5" passes.
    expect(parsed.failureTypes.sort()).toEqual(['high', 'high', 'high', 'medium', 'medium', 'threshold']);
    expect(parsed.tests).toBe('11');
  });

  it('HTML renders self-contained, side by side, and screenshots', async () => {
    const html = await readFile(files.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http/i);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${files.html}`);
    const seen = await page.evaluate(() => ({
      title: document.title,
      h2: [...document.querySelectorAll('h2')].map((h) => h.textContent ?? ''),
      badges: [...document.querySelectorAll('.finding .badge')].map((b) => b.textContent),
      sbsHeads: [...document.querySelectorAll('table.sbs')].slice(0, 1).map((t) => [...t.querySelectorAll('th')].map((th) => th.textContent)),
      firstExample: [...document.querySelectorAll('table.sbs tr')].slice(1, 2).map((tr) => [...tr.querySelectorAll('td pre')].map((p) => p.textContent))[0],
      width: document.body.scrollWidth,
      height: document.body.scrollHeight,
    }));
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(seen.title).toBe('reprise diff: 3 high, 2 medium, 4 low');
    expect(seen.h2.some((h) => h.startsWith('GET /health'))).toBe(true);
    expect(seen.h2).toContain('Root causes');
    expect(seen.badges.filter((b) => b === 'high')).toHaveLength(3);
    expect(seen.sbsHeads[0]).toEqual(['where', 'baseline', 'candidate']);
    expect(seen.firstExample).toHaveLength(2);
    expect(seen.width).toBeLessThanOrEqual(1280); // no horizontal overflow from long values
    const png = await page.screenshot({ fullPage: true });
    await page.close();
    await writeFile(join(dir, 'diff-report.png'), png);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBeGreaterThan(900);
    expect(png.length).toBeGreaterThan(30_000);
  });
});
