import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffLive } from '../../../replay/diff/run-diff.js';
import type { Exchange } from '../../../store/exchange.js';
import { newExchangeId } from '../../../store/exchange-id.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { makeTempDir } from '../../support/temp-dir.js';

/**
 * A text or HTML body is one field (`body`). When every response carries a
 * clock line, `body` differs between the two baselines on every pair; if the
 * clock were not masked, the noise statistics would file `body` under noise
 * and a real change in the same body would never be reported.
 */

const servers: Server[] = [];
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await cleanup?.();
  cleanup = undefined;
});

// One clock for all three servers that moves a second per response, so no two answers share a
// timestamp even when they come within the same millisecond (a real clock would make this flaky).
let tick = 0;
const clock = () => new Date(Date.UTC(2026, 10, 23, 9) + ++tick * 1000).toISOString();

async function startTextRelease(release: string): Promise<string> {
  const server = createServer((req, res) => {
    const now = clock();
    if (req.url === '/report.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`Daily report\ngenerated at ${now}\ntotal: ${release === 'B' ? 41 : 42}\n`);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><body><p>Rendered ${now}</p><p>${release === 'B' ? 'Sign up' : 'Sign in'}</p></body></html>`);
  });
  server.keepAliveTimeout = 1_000;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function writeStore(dir: string, paths: string[]): Promise<string> {
  const w = await openStoreWriter(dir);
  const t0 = Date.UTC(2026, 10, 23, 9);
  for (const [i, path] of paths.entries()) {
    const ex: Exchange = {
      v: 1,
      id: newExchangeId(t0 + i),
      start: (t0 + i) * 1000,
      duration: 1000,
      source: { kind: 'synthetic', captureId: 'text-noise-test' },
      request: { method: 'GET', scheme: 'http', authority: 'site.example.test', path, query: '', httpVersion: '1.1', headers: [['Host', 'site.example.test']], body: null },
      response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'text/plain']], body: null },
    };
    await w.write(ex);
  }
  await w.close();
  return dir;
}

describe('diff live: text and HTML bodies with a clock line', () => {
  it('with a second baseline, a real change in the body is reported, not filed as noise', async () => {
    const tmp = await makeTempDir('reprise-diff-text-noise-');
    cleanup = tmp.cleanup;
    const store = await writeStore(join(tmp.dir, 'store'), Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? '/report.txt' : '/page')));
    const [a, a2, b] = await Promise.all([startTextRelease('A'), startTextRelease('A'), startTextRelease('B')]);
    const report = await diffLive({ store, baseline: a, candidate: b, baseline2: a2, concurrency: 1 });
    const found = Object.fromEntries(report.endpoints.map((e) => [e.endpoint, e.findings.map((f) => `${f.field} ${f.kind} ${f.count}`)]));
    expect(found).toEqual({ 'GET /report.txt': ['body value 3'], 'GET /page': ['body value 3'] });
    const txt = report.endpoints.find((e) => e.endpoint === 'GET /report.txt')!.findings[0]!;
    expect(txt.examples[0]).toMatchObject({ baseline: 'line 3: "total: 42"', candidate: 'line 3: "total: 41"' });
    expect(report.endpoints.every((e) => e.suppressedAsNoise.length === 0)).toBe(true);

    // Baseline against itself: the masked clock is no difference at all.
    const same = await diffLive({ store, baseline: a, candidate: a2, baseline2: a, concurrency: 1 });
    expect(same.totals.findings).toBe(0);
  });
});
