// One metrics benchmark phase in its own process, so its peak RSS is its own:
//   metrics-worker.ts reprise <n>   — ReplayMetrics.record per result, then snapshot()
//   metrics-worker.ts anchor <n>    — autocannon's own latency histogram, one recordValue per response
import { createRequire } from 'node:module';
import { ReplayMetrics } from '../replay/metrics/replay-metrics.js';
import type { RequestResult } from '../replay/replay-result.js';

const [phase, nText] = process.argv.slice(2);
const n = Number(nText);

// 4,096 result templates (50 endpoints, a long-tailed latency mix, some errors)
// reused with advancing times: what is timed is the measurement, not building objects.
const templates: RequestResult[] = [];
let x = 7;
const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let i = 0; i < 4096; i++) {
  const latency = Math.floor(300 + rnd() ** 4 * 200_000);
  templates.push({
    endpoint: `GET /api/e${i % 50}/:id`,
    exchangeId: `e${i}`,
    copy: 0,
    intendedUs: 0,
    sentUs: Math.floor(rnd() * 200),
    doneUs: latency,
    status: rnd() < 0.01 ? 503 : 200,
    ...(rnd() < 0.001 ? { error: { kind: 'timeout' as const, message: 'timeout' } } : {}),
    bytesSent: 200,
    bytesReceived: 1500,
  });
}

// 20,000 results per second of run time: the timed-mode rate.
const SPACING_US = 50;
const t0 = process.hrtime.bigint();
let snapshotMs = 0;
let summaryBytes = 0;
if (phase === 'reprise') {
  const m = new ReplayMetrics();
  for (let i = 0; i < n; i++) {
    const t = templates[i & 4095]!;
    const base = i * SPACING_US;
    // A fresh object per result, as the dispatcher makes one per send.
    m.record({ ...t, intendedUs: base, sentUs: base + t.sentUs!, doneUs: base + t.doneUs });
  }
  const s0 = process.hrtime.bigint();
  const snap = m.snapshot();
  snapshotMs = Number(process.hrtime.bigint() - s0) / 1e6;
  summaryBytes = JSON.stringify(snap).length;
} else {
  const require = createRequire(import.meta.url);
  const { getHistograms } = require('autocannon/lib/histUtil.js') as { getHistograms: () => { latencies: { recordValue(v: number): void } } };
  const { latencies } = getHistograms();
  for (let i = 0; i < n; i++) {
    const t = templates[i & 4095]!;
    const base = i * SPACING_US;
    const r = { ...t, intendedUs: base, sentUs: base + t.sentUs!, doneUs: base + t.doneUs };
    // autocannon records response time in ms (float) per response.
    latencies.recordValue((r.doneUs - r.sentUs) / 1000);
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9 - snapshotMs / 1000;
process.stdout.write(`${JSON.stringify({ phase, n, seconds, perSecond: n / seconds, snapshotMs, summaryBytes, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
