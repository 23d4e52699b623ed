import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { loadTransformPipeline } from '../../../transform/config/load-pipeline.js';
import { transformStore } from '../../../transform/transform-store.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { ex } from '../../transform/transform-helpers.js';

/**
 * redact marks a whole body (`response.body`) when it edits a text body by
 * detector, or when a JSON body has more than 64 redacted places. Diff then
 * treats the body's content as redacted: the recorded body was changed on
 * purpose, so its differences from the live answer are not regressions. The
 * status, the headers and whether there is a body at all are still compared.
 */

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

function fields(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${e.endpoint} ${f.field} ${f.kind}`)).sort();
}

/** What the service answered for request i (as recorded, and as the candidate answers it). */
function answer(i: number, candidate: boolean): Exchange {
  const id = `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`;
  const base = { ...ex({ path: i % 2 === 0 ? `/notes/${i}` : `/contacts/${i}`, seq: i }), id, start: T0 + i * 1000 };
  const headers: Array<[string, string]> = [];
  let text: string;
  if (i % 2 === 0) {
    // A text body: redact edits it by detector spans and marks the whole body.
    headers.push(['Content-Type', 'text/plain; charset=utf-8']);
    text = `ticket ${i}\nreporter: user${i}@example.test\nstatus: open\n`;
  } else {
    // A JSON body with 70 e-mail fields under distinct keys: more than 64 marks collapse to the body.
    headers.push(['Content-Type', 'application/json']);
    text = JSON.stringify(Object.fromEntries(Array.from({ length: 70 }, (_, k) => [`contact${k}`, `c${k}.${i}@example.test`])));
  }
  if (candidate && i === 3) headers.push(['X-New-Header', 'yes']);
  if (candidate && i === 2) {
    // An error page instead of the text: another kind of body, not a redacted value.
    headers[0] = ['Content-Type', 'text/html'];
    text = '<html><body>502 Bad Gateway</body></html>';
  }
  const status = candidate && i === 4 ? 500 : 200;
  return { ...base, response: { status, httpVersion: '1.1', headers, body: { encoding: 'utf8', data: text, size: Buffer.byteLength(text) } } };
}

describe('diff: a body redacted whole', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-whole-body-')));
  afterEach(async () => cleanup());

  it('reports no body content differences, but still status and header differences', async () => {
    const raw = `${dir}/raw`;
    const recorded = `${dir}/recorded`;
    const candidate = `${dir}/candidate`;
    const n = 6;
    const wr = await openStoreWriter(raw);
    const wc = await openStoreWriter(candidate);
    for (let i = 0; i < n; i++) {
      await wr.write(answer(i, false));
      await wc.write(answer(i, true));
    }
    await Promise.all([wr.close(), wc.close()]);
    // The recorded store as a user makes it: the real redact step over the raw capture.
    const pipeline = await loadTransformPipeline({ yaml: 'steps:\n  - type: redact\n    detectors: [email]\n' });
    await transformStore(raw, recorded, pipeline);
    const marks: string[][] = [];
    for await (const e of readExchanges(recorded)) marks.push(e.redactions ?? []);
    expect(marks).toEqual(Array.from({ length: n }, () => ['response.body']));

    const report = await diffStores({ baselineStore: recorded, candidateStore: candidate });
    expect(report.pairs).toBe(n);
    expect(fields(report)).toEqual(['GET /contacts/:id header.x-new-header extra', 'GET /notes/:id body type', 'GET /notes/:id header.content-type value', 'GET /notes/:id status status']);
  });
});
