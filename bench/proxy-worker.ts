// The recording reverse proxy in its own process, as `reprise capture proxy`
// runs it (defaults: every exchange recorded, secrets redacted, 1 MiB body cap):
//   proxy-worker.js <upstream-url> <store-dir>
// Prints {"port":…} once listening; answers a `gc` line on stdin with its
// scavenge pauses since the last one (proxy-gc-stats.ts); when its stdin closes it shuts the proxy
// down (store flushed and sealed) and prints the final stats, then exits.
import { openRecorder } from '../capture/proxy/exchange-recorder.js';
import { startReverseProxy } from '../capture/proxy/reverse-proxy.js';
import { serveMinorGcStats } from './proxy-gc-stats.js';

const [upstream, store] = process.argv.slice(2);
const recorder = await openRecorder(store!);
const proxy = await startReverseProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: upstream!, recorder });
process.stdout.write(`${JSON.stringify({ port: proxy.address.port })}\n`);

serveMinorGcStats(async () => {
  const stats = await proxy.close();
  process.stdout.write(`${JSON.stringify({ stats, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.stdin.pause();
});
