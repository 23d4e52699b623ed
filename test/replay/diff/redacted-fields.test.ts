import { describe, expect, it } from 'vitest';
import { storedBodyToComparable } from '../../../replay/diff/comparable-body.js';
import { DiffAccumulator } from '../../../replay/diff/diff-accumulator.js';
import { compileDiffRules } from '../../../replay/diff/diff-rules.js';
import type { ResponseSide } from '../../../replay/diff/diff-types.js';
import { ex, runSteps } from '../../transform/transform-helpers.js';

const json = (text: string): ResponseSide => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: storedBodyToComparable({ encoding: 'utf8', data: text, size: Buffer.byteLength(text) }, 1 << 20),
  latencyMs: 1,
});

function fieldsReported(recorded: string, live: string, redactions: readonly string[]): string[] {
  const acc = new DiffAccumulator(compileDiffRules());
  acc.addPair({ endpoint: 'GET /x', exchangeId: '1', baseline: json(recorded), candidate: json(live), redactions });
  return acc.finish({ mode: 'offline', sides: { baseline: 'a', candidate: 'b' } }).endpoints.flatMap((e) => e.findings.map((f) => f.field));
}

describe('diff never reports what redact replaced', () => {
  it('also under a mark bounded for depth or length (`$.a.a..*`), and only there', async () => {
    // A body nested 5,000 levels, redacted: the mark names an ancestor 32 levels down and everything below it.
    const nested = (email: string, extra: string): string => `{"top":${extra},"deep":${'{"a":'.repeat(5000)}{"email":"${email}"}${'}'.repeat(5000)}}`;
    const [out] = await runSteps([{ type: 'redact', detectors: ['email'] }], [ex({ resBody: nested('ada@example.test', '1') })]);
    const recorded = out!.response!.body!.data;
    expect(out!.redactions).toEqual([`response.body.$.deep${'.a'.repeat(31)}..*`]);
    // Live, the value is whole (and `top` really changed): the deep difference is set aside, `top` is not.
    expect(fieldsReported(recorded, nested('ada@example.test', '2'), out!.redactions!)).toEqual(['$.top']);
    expect(fieldsReported(recorded, nested('ada@example.test', '2'), []).sort()).toEqual(['$.deep' + '.a'.repeat(63), '$.top'].sort());
  });
});
