// One diff benchmark phase in its own process, so its peak RSS is its own:
//   diff-worker.ts compare <n> [noise]   n pairs through the diff engine (with a second baseline when "noise")
//   diff-worker.ts anchor <n>            the same pairs through JSON.parse + util.isDeepStrictEqual
//   diff-worker.ts make <dir> <n>        write a baseline and a candidate store (not timed)
//   diff-worker.ts stores <dir>          diffStores over them, store → report
//   diff-worker.ts pair-only <dir>       the same stores read and paired, nothing compared
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { storedBodyToComparable } from '../replay/diff/comparable-body.js';
import { DiffAccumulator } from '../replay/diff/diff-accumulator.js';
import { compileDiffRules } from '../replay/diff/diff-rules.js';
import type { ResponseSide } from '../replay/diff/diff-types.js';
import { diffStores } from '../replay/diff/run-diff.js';
import { pairStores } from '../replay/diff/offline-pairs.js';
import { newExchangeId } from '../store/exchange-id.js';
import { openStoreWriter } from '../store/segment-writer.js';
import { BENCH_HEADERS, benchExchange, benchPool } from './diff-pairs.js';

const [phase, a, b] = process.argv.slice(2);
const pool = benchPool();
const date = new Date().toUTCString();
const headers = [BENCH_HEADERS(date), BENCH_HEADERS(date), BENCH_HEADERS(date)] as const;
const rules = compileDiffRules();

function side(text: string, h: Array<[string, string]>, latencyMs: number): ResponseSide {
  // From the stored form, as offline diff sees it: Buffer, sha256, cap check included in the timing.
  return { status: 200, headers: h, body: storedBodyToComparable({ encoding: 'utf8', data: text, size: text.length }, rules.bodyCap), latencyMs };
}

let count = 0;
let extra: Record<string, unknown> = {};
let t0 = process.hrtime.bigint();
if (phase === 'compare') {
  const n = Number(a);
  const noise = b === 'noise';
  const acc = new DiffAccumulator(rules);
  for (let i = 0; i < n; i++) {
    const p = pool[i % pool.length]!;
    const endpoint = `GET /products/:id`;
    acc.addPair({
      endpoint,
      exchangeId: String(i),
      baseline: side(p.baseline, headers[0], 1.2),
      candidate: side(p.candidate, headers[1], 1.4),
      ...(noise ? { baseline2: side(p.baseline2, headers[2], 1.3) } : {}),
    });
  }
  count = n;
  const r = acc.finish({ mode: 'offline', sides: { baseline: 'bench', candidate: 'bench' } });
  extra = { findings: r.endpoints.flatMap((e) => e.findings.map((f) => `${f.field} ${f.kind} ${f.count}`)), setAside: r.setAside.length };
} else if (phase === 'anchor') {
  const n = Number(a);
  let equal = 0;
  for (let i = 0; i < n; i++) {
    const p = pool[i % pool.length]!;
    // Same input form as the engine gets (bytes), parsed and deep-compared: the floor of any structural diff.
    const x = JSON.parse(Buffer.from(p.baseline).toString('utf8'));
    const y = JSON.parse(Buffer.from(p.candidate).toString('utf8'));
    if (isDeepStrictEqual(x, y)) equal++;
  }
  count = n;
  extra = { equal };
} else if (phase === 'make') {
  const n = Number(b);
  const [left, right] = await Promise.all([openStoreWriter(join(a!, 'left')), openStoreWriter(join(a!, 'right'))]);
  for (let i = 0; i < n; i++) {
    const p = pool[i % pool.length]!;
    const id = newExchangeId();
    await left.write(benchExchange(i, id, p.baseline));
    await right.write(benchExchange(i, id, p.candidate));
  }
  await Promise.all([left.close(), right.close()]);
  count = n;
} else if (phase === 'pair-only') {
  // The same two stores read and paired, nothing compared: how much of "stores" is reading.
  t0 = process.hrtime.bigint();
  const counts = { unmatchedBaseline: 0, unmatchedCandidate: 0 };
  for await (const p of pairStores(join(a!, 'left'), join(a!, 'right'), counts)) if (p.baseline.id) count++;
} else if (phase === 'stores') {
  t0 = process.hrtime.bigint();
  const r = await diffStores({ baselineStore: join(a!, 'left'), candidateStore: join(a!, 'right') });
  count = r.pairs;
  extra = { unmatched: r.unmatched, findings: r.totals.findings };
} else {
  throw new Error(`diff-worker: unknown phase ${phase}`);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ count, seconds, perSecond: count / seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, ...extra }));
