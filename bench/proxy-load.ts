// A fixed-rate (open-model) load generator, wrk2-style, for the proxy bench:
//   proxy-load.js <url> <rate/s> <seconds> <warm-up seconds>
// Request i is due at start + i/rate whatever happened to earlier ones, and
// its latency is measured from that due time to the last body byte — so a
// stall is charged to every request it delayed (no coordinated omission).
// Prints one JSON line: latency percentiles in µs over the measured part, and
// how late the generator itself sent (its own noise floor).
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

const [url, rateText, secondsText, warmupText] = process.argv.slice(2);
const rate = Number(rateText);
const target = new URL(url!);
const warmup = Math.round(rate * Number(warmupText ?? 1));
const total = warmup + Math.round(rate * Number(secondsText));
const intervalNs = 1e9 / rate;

// The schedule is kept by a thread that only sleeps: Atomics.wait takes
// fractional milliseconds (a futex wait, ~50 µs timer slack), where setTimeout
// on this thread would fire up to 1 ms late and a setImmediate spin would burn
// the core the upstream shares. The thread posts each request's index when it
// is due; this thread sends it. Both read the same monotonic clock.
const TIMER = `
const { parentPort, workerData } = require('node:worker_threads');
const { startNs, intervalNs, total } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < total; i++) {
  const due = startNs + i * intervalNs;
  for (let left = due - Number(process.hrtime.bigint()); left > 0; left = due - Number(process.hrtime.bigint())) {
    Atomics.wait(cell, 0, 0, left / 1e6);
  }
  parentPort.postMessage(i);
}`;

// More connections than 1 k/s ever needs at sub-millisecond latency: a stall
// opens new ones rather than queueing requests behind it.
const pool = new Pool(target.origin, { connections: 64, keepAliveTimeout: 60_000 });
const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const latency = newHistogram();
const sendLag = newHistogram();
const path = `${target.pathname}${target.search}`;
const startNs = Number(process.hrtime.bigint()) + 300e6; // time for the timer thread to start
let completed = 0;
let failed = 0;
let non2xx = 0;
let settled = 0;
let finish: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));

async function send(i: number): Promise<void> {
  const due = startNs + i * intervalNs;
  if (i >= warmup) sendLag.recordValue(Math.max(1, Math.round((Number(process.hrtime.bigint()) - due) / 1000)));
  try {
    const { statusCode, body } = await pool.request({ path, method: 'GET' });
    await body.dump();
    completed++;
    if (statusCode < 200 || statusCode > 299) non2xx++;
    if (i >= warmup) latency.recordValue(Math.max(1, Math.round((Number(process.hrtime.bigint()) - due) / 1000)));
  } catch {
    failed++;
  } finally {
    if (++settled === total) finish();
  }
}

const timer = new Worker(TIMER, { eval: true, workerData: { startNs, intervalNs, total } });
timer.on('message', (i: number) => void send(i));
await finished;
await pool.close();
await timer.terminate();
const pct = (h: hdr.Histogram): Record<string, number> => ({ p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue });
process.stdout.write(`${JSON.stringify({ sent: total, completed, failed, non2xx, measured: latency.totalCount, latencyUs: pct(latency), sendLagUs: pct(sendLag) })}\n`);
