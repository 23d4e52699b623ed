// One pcap import in its own process, so its peak RSS is its own:
//   pcap-worker.ts <capture> <store-dir>
// Times capturePcap end to end: reading, decoding, TCP reassembly, HTTP
// parsing, redaction and writing the store (gzip NDJSON) — what
// `reprise capture pcap FILE --out STORE` does, minus CLI start-up.
import { capturePcap } from '../capture/pcap/capture-pcap.js';

const [file, store] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const s = await capturePcap(file!, store!);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({
  seconds,
  exchanges: s.exchanges,
  packets: s.packets,
  bytes: s.bytes,
  incomplete: s.incomplete,
  noResponse: s.noResponse,
  droppedTotal: s.droppedTotal,
  maxRssMB: process.resourceUsage().maxRSS / 1024,
})}\n`);
