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
 * A form-encoded response (an OAuth token endpoint: `access_token=…&scope=…`)
 * redacted field by field leaves `response.body.form.<name>` marks. Diff
 * compares such a body as text, as one field; the redacted fields' values are
 * set aside on both sides, so the rest of the body is still compared (and the
 * live token never lands in the report).
 */

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

function findings(report: DiffReport): Array<{ field: string; kind: string; count: number; examples: string[] }> {
  return report.endpoints.flatMap((e) => e.findings.map((f) => ({ field: f.field, kind: f.kind, count: f.count, examples: f.examples.map((x) => `${x.baseline} → ${x.candidate}`) })));
}

function tokenResponse(i: number, token: string, scope: string): Exchange {
  const text = `access_token=${token}&scope=${scope}&token_type=bearer`;
  return {
    ...ex({ method: 'POST', path: '/login/oauth/access_token', body: `code=c${i}`, seq: i }),
    id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    start: T0 + i * 1000,
    response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: { encoding: 'utf8', data: text, size: text.length } },
  };
}

describe('diff: a form body with redacted fields', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir('reprise-diff-form-')));
  afterEach(async () => cleanup());

  it('sets the redacted fields aside and still compares the others', async () => {
    const raw = `${dir}/raw`;
    const recorded = `${dir}/recorded`;
    const candidate = `${dir}/candidate`;
    const wr = await openStoreWriter(raw);
    const wc = await openStoreWriter(candidate);
    for (let i = 0; i < 4; i++) {
      await wr.write(tokenResponse(i, `gho_recorded${i}`, 'repo'));
      // Each release issues its own token; the candidate also narrows the scope on one request.
      await wc.write(tokenResponse(i, `gho_candidate${i}`, i === 3 ? 'read%3Auser' : 'repo'));
    }
    await Promise.all([wr.close(), wc.close()]);
    const pipeline = await loadTransformPipeline({ yaml: 'steps:\n  - type: redact\n    formFields: [access_token]\n' });
    await transformStore(raw, recorded, pipeline);
    for await (const e of readExchanges(recorded)) expect(e.redactions).toEqual(['response.body.form.access_token']);

    const report = await diffStores({ baselineStore: recorded, candidateStore: candidate });
    expect(report.pairs).toBe(4);
    const found = findings(report);
    expect(found.map((f) => `${f.field} ${f.kind} ${f.count}`)).toEqual(['body value 1']);
    expect(found[0]!.examples.join('\n')).toContain('scope=read%3Auser');
    expect(found[0]!.examples.join('\n')).not.toContain('gho_candidate');
  });
});
