/**
 * A node:http target behind reprise's recording reverse proxy, in its own
 * process: the replay under test then does not share an event loop with the
 * proxy that checks it (on a 2-core machine one loop cannot both send at
 * 300/s on time and proxy and record the same traffic).
 *
 * Usage: tsx recording-proxy-child.ts <store>; prints `{"url": …}` once
 * listening, and on SIGTERM closes the proxy (flushing the store) and exits.
 */
import { openRecorder } from '../../capture/proxy/exchange-recorder.js';
import { startReverseProxy } from '../../capture/proxy/reverse-proxy.js';
import { startTarget } from './replay-fixture.js';

const store = process.argv[2];
if (!store) throw new Error('usage: recording-proxy-child.ts <store>');
const target = await startTarget();
const recorder = await openRecorder(store, { redactHeaders: false, writer: { flushIntervalMs: 50 } });
const proxy = await startReverseProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: target.url, recorder, shutdownTimeoutMs: 5_000 });
process.stdout.write(`${JSON.stringify({ url: proxy.address.url })}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    await proxy.close();
    await target.close();
    process.exit(0);
  })();
});
