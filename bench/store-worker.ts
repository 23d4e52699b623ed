// One benchmark phase in its own process, so its peak RSS is its own:
//   store-worker.ts write <dir> <n>   |   store-worker.ts read <dir>
import { openStoreWriter } from '../store/segment-writer.js';
import { readExchanges } from '../store/segment-reader.js';
import { syntheticExchange } from '../test/support/synthetic-exchange.js';
import { newExchangeId } from '../store/exchange-id.js';

const [phase, dir, nText] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
let count = 0;
if (phase === 'write') {
  const n = Number(nText);
  const w = await openStoreWriter(dir!, { segmentBytes: 64 * 1024 * 1024 });
  // 1,024 distinct records reused with a fresh id and time each: what is timed
  // is the store's work, not building test objects.
  const templates = Array.from({ length: 1024 }, (_, i) => syntheticExchange(i));
  for (let i = 0; i < n; i++) {
    const t = templates[i & 1023]!;
    const start = t.start + i * 1000;
    await w.write({ ...t, id: newExchangeId(start / 1000), start });
  }
  await w.close();
  count = n;
} else {
  for await (const ex of readExchanges(dir!)) if (ex.v === 1) count++;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ phase, count, seconds, perSecond: count / seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
