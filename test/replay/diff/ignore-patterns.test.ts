import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffStores } from '../../../replay/diff/run-diff.js';
import type { DiffReport } from '../../../replay/diff/diff-report.js';
import type { Exchange } from '../../../store/exchange.js';
import { openStoreWriter } from '../../../store/segment-writer.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { ex } from '../../transform/transform-helpers.js';

/** `--ignore` patterns as docs/diff.md shows them, on two real stores. */

const T0 = Date.UTC(2026, 10, 23, 9) * 1000;

function fields(report: DiffReport): string[] {
  return report.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind}`)).sort();
}

function answer(i: number, revision: number, headers: Array<[string, string]>): Exchange {
  const text = JSON.stringify({ id: i, revision, meta: { revision }, items: [{ sku: 'a', revision }] });
  return {
    ...ex({ path: `/docs/${i}`, seq: i }),
    id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    start: T0 + i * 1000,
    response: { status: 200, httpVersion: '1.1', headers: [['Content-Type', 'application/json'], ...headers], body: { encoding: 'utf8', data: text, size: text.length } },
  };
}

describe('diff --ignore patterns', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let stores: { left: string; right: string };
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('reprise-diff-ignore-'));
    stores = { left: `${dir}/left`, right: `${dir}/right` };
    const wl = await openStoreWriter(stores.left);
    const wr = await openStoreWriter(stores.right);
    for (let i = 0; i < 3; i++) {
      await wl.write(answer(i, 1, [['X-Build', 'v1'], ['Set-Cookie', 'SID=1; Path=/']]));
      await wr.write(answer(i, 2, [['X-Build', 'v2'], ['Set-Cookie', 'SID=2; Path=/; Secure']]));
    }
    await Promise.all([wl.close(), wr.close()]);
  });
  afterEach(async () => cleanup());

  const diff = (ignore: string[]) => diffStores({ baselineStore: stores.left, candidateStore: stores.right, rules: { ignore } });

  it('`$.**.x` covers x at any depth, the top level included', async () => {
    const headers = ['header.set-cookie.SID value', 'header.x-build value'];
    expect(fields(await diff([]))).toEqual(['$.items[*].revision value', '$.meta.revision value', '$.revision value', ...headers]);
    expect(fields(await diff(['$.**.revision']))).toEqual(headers);
    expect(fields(await diff(['$.meta.**.revision']))).toEqual(['$.items[*].revision value', '$.revision value', ...headers]);
    expect(fields(await diff(['**.revision', 'header.**']))).toEqual([]);
  });

  it('`*` as a step is one step of either kind, a key or an array element; `[*]` an element only', async () => {
    const headers = ['header.set-cookie.SID value', 'header.x-build value'];
    expect(fields(await diff(['$.items.*.revision']))).toEqual(['$.meta.revision value', '$.revision value', ...headers]);
    expect(fields(await diff(['$.*.revision']))).toEqual(['$.items[*].revision value', '$.revision value', ...headers]);
    expect(fields(await diff(['$.*.*.revision', 'header.*']))).toEqual(['$.meta.revision value', '$.revision value']);
    expect(fields(await diff(['$.items[*].revision', '$[*].revision']))).toEqual(['$.meta.revision value', '$.revision value', ...headers]);
    // Within a key, `*` is any run of characters in that key only.
    expect(fields(await diff(['$.rev*', '$.ite*.revision']))).toEqual(['$.items[*].revision value', '$.meta.revision value', ...headers]);
  });

  it('an example path copied from the report (one array element) is refused with the field to write instead', async () => {
    const finding = (await diff([])).endpoints.flatMap((e) => e.findings).find((f) => f.field === '$.items[*].revision')!;
    const copied = finding.examples[0]!.path;
    expect(copied).toBe('$.items[0].revision');
    await expect(diff([copied])).rejects.toThrow(`ignore "$.items[0].revision" names one array element; findings are per field, every element as [*]: use "$.items[*].revision"`);
    expect(fields(await diff([finding.field, 'header', '$.revision', '$.meta']))).toEqual([]);
  });

  it('header names match in any case, as everywhere else in diff; cookie names keep theirs', async () => {
    expect(fields(await diff(['header.X-Build', 'header.Set-Cookie.SID', '$']))).toEqual([]);
    expect(fields(await diff(['Header.X-B*', 'HEADER.SET-COOKIE.S*', '$']))).toEqual([]);
    expect(fields(await diff(['header.x-build', 'header.set-cookie.sid', '$']))).toEqual(['header.set-cookie.SID value']);
  });
});
