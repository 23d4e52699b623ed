// autocannon posting API Gateway forwarder payloads, for the ingest bench:
//   ingest-load.js <url> <seconds> <connections> <api-key> <redeliver-every> <ids-file>
// Each POST carries one payload (the forwarder's one-message-per-POST shape)
// with a fresh request id; every `redeliver-every`-th POST instead re-sends an
// earlier payload byte for byte, as an at-least-once forwarder does after a
// timeout. Each connection keeps one request in flight (autocannon's default),
// so the id a response belongs to is the one that connection sent last.
// Writes the request id of every payload answered 2xx to `ids-file` (one per
// line) and prints one JSON line: counts, the accepted/duplicate totals the
// server's answers reported, throughput, and latency percentiles in µs.
import { writeFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { samplePayload } from '../test/capture/apigw/apigw-fixtures.js';

// autocannon ships no types and the project has no @types for it: the part
// used here is typed locally, and the module is imported by a name the
// compiler does not resolve, so no ambient declaration leaks into the project.
interface AutocannonInstance extends PromiseLike<{ duration: number; errors: number; timeouts: number }> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
const AUTOCANNON: string = 'autocannon';
const { default: autocannon } = (await import(AUTOCANNON)) as { default: (options: Record<string, unknown>) => AutocannonInstance };

const [url, secondsText, connectionsText, apiKey, redeliverText, idsFile] = process.argv.slice(2);
const redeliverEvery = Number(redeliverText);

interface Sent { id: string; redelivery: boolean }
interface ConnectionContext { sent?: Sent }

let next = 0;
let redeliveries = 0;
const answered2xx = new Set<string>();
let ok = 0;
let accepted = 0;
let duplicates = 0;
let rejected = 0;
let non2xx = 0;
let unparsable = 0;
const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

const instance = autocannon({
  url: url!,
  duration: Number(secondsText),
  connections: Number(connectionsText),
  pipelining: 1,
  requests: [{
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey! },
    setupRequest(request: Record<string, unknown>, context: ConnectionContext) {
      const i = next++;
      // A redelivery repeats the payload sent `redeliverEvery` earlier (already stored, or in flight on another connection).
      const redelivery = redeliverEvery > 0 && i % redeliverEvery === redeliverEvery - 1;
      const n = redelivery ? i - redeliverEvery + 1 : i;
      if (redelivery) redeliveries++;
      const payload = samplePayload(n);
      context.sent = { id: payload.request_id as string, redelivery };
      return { ...request, body: JSON.stringify(payload) };
    },
    onResponse(status: number, body: string, context: ConnectionContext) {
      if (status < 200 || status > 299) return void non2xx++;
      ok++;
      answered2xx.add(context.sent!.id);
      try {
        const r = JSON.parse(body) as { accepted: number; duplicates: number; rejected: number };
        accepted += r.accepted;
        duplicates += r.duplicates;
        rejected += r.rejected;
      } catch {
        unparsable++;
      }
    },
  }],
});
instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latency.recordValue(Math.max(1, Math.round(ms * 1000))));
const result = await instance;
writeFileSync(idsFile!, [...answered2xx].join('\n'));
const pct = (p: number): number => latency.getValueAtPercentile(p);
process.stdout.write(`${JSON.stringify({
  sent: next,
  redeliveries,
  ok,
  distinct2xx: answered2xx.size,
  accepted,
  duplicates,
  rejected,
  non2xx,
  unparsable,
  errors: result.errors,
  timeouts: result.timeouts,
  seconds: result.duration,
  perSecond: ok / result.duration,
  latencyUs: { p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: latency.maxValue },
})}\n`);
