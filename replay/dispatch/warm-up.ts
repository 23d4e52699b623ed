import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange } from '../../store/exchange.js';
import { ReplayMetrics } from '../metrics/replay-metrics.js';
import { runOpenModel } from '../schedule/open-model-scheduler.js';
import type { PlannedSend } from '../schedule/replay-plan.js';
import { startRunClock } from '../schedule/run-clock.js';
import { checkTarget } from '../safety/target-policy.js';
import { ReplayDispatcher } from './replay-dispatcher.js';

/**
 * Warm the engine up before the run clock starts, against a throwaway
 * server on loopback — nothing reaches the target.
 *
 * Why: undici compiles its HTTP parser (WebAssembly) and loads its HTTP/1
 * client on the first connection, and V8 runs the send path interpreted until
 * it has seen it often. Measured on a busy 2-core machine at 5,000 sends/s,
 * the first second of a cold run was ~300 ms behind schedule (p50), the
 * fourth within 2 ms. wrk2 excludes a 10 s calibration period from its
 * figures for the same reason; here the cost is paid before the clock starts
 * instead, so every real send is measured.
 */
export async function warmUpEngine(sample: Exchange, options: { sends?: number; maxMs?: number } = {}): Promise<void> {
  const sends = options.sends ?? 10_000;
  // Bounded in time too: a slow machine gets a partial warm-up rather than a long start.
  const stop = AbortSignal.timeout(options.maxMs ?? 1_000);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('warm'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const clock = startRunClock();
  const dispatcher = new ReplayDispatcher({ target: checkTarget(`http://127.0.0.1:${port}`), clock, connections: 32, timeoutMs: 5_000 });
  const metrics = new ReplayMetrics();
  // Templates would need the run's variables; the warm-up sends the exchange as recorded.
  const plain: Exchange = { ...sample, meta: {} };
  async function* plan(): AsyncGenerator<PlannedSend> {
    for (let i = 0; i < sends; i++) yield { exchange: plain, copy: i, intendedUs: 0 };
  }
  try {
    await runOpenModel(plan(), { send: async (s) => metrics.record((await dispatcher.send(s)).result), drop: () => undefined }, { clock, concurrency: 32, signal: stop });
  } finally {
    await dispatcher.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
