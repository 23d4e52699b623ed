import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange } from '../../store/exchange.js';
import { replayAnnotations } from '../../transform/exchange-editor.js';
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
 *
 * Two phases. A burst of one recorded request, all overdue, gets the send
 * path compiled quickly. Then, when the caller gives it, the first part of
 * the run's own plan, on its own schedule: that is what runs once the clock
 * starts — records parsed from the store (V8 optimizes for their shape; a
 * copy made here would have another), the plan and the scheduler's paced
 * path (sleeping until a send is due), which a burst never takes. Without it
 * the first half second of a 4,000/s run was 13–27 ms behind at p99 on 2
 * cores, against 1.5–5 ms once the engine had run before.
 */
export interface WarmUpOptions {
  /** Sends of the burst phase (default 10,000). */
  sends?: number;
  /** Time bound of the burst phase, ms (default 600): a slow machine gets a partial warm-up rather than a long start. */
  maxMs?: number;
  /** The start of the run's own plan, read afresh; sent on its schedule for up to `pacedMs`. */
  paced?: AsyncIterable<PlannedSend>;
  /** Time bound of the paced phase, ms (default 400). */
  pacedMs?: number;
}

export async function warmUpEngine(sample: Exchange, options: WarmUpOptions = {}): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('warm'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dispatcher = new ReplayDispatcher({ target: checkTarget(`http://127.0.0.1:${port}`), clock: startRunClock(), connections: 32, timeoutMs: 5_000 });
  const metrics = new ReplayMetrics();
  const sink = { send: async (s: PlannedSend) => metrics.record((await dispatcher.send(s)).result), drop: () => undefined };
  try {
    const plain = asRecorded(sample);
    const sends = options.sends ?? 10_000;
    async function* burst(): AsyncGenerator<PlannedSend> {
      for (let i = 0; i < sends; i++) yield { exchange: plain, copy: i, intendedUs: 0 };
    }
    await runOpenModel(burst(), sink, { clock: startRunClock(), concurrency: 32, signal: AbortSignal.timeout(options.maxMs ?? 600) });
    if (options.paced) {
      const stop = AbortSignal.timeout(options.pacedMs ?? 400);
      await runOpenModel(recordedOnly(options.paced), sink, { clock: startRunClock(), concurrency: 32, signal: stop });
    }
  } finally {
    await dispatcher.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Templates and extraction rules need the run's variables and live values: the warm-up sends such an exchange as recorded. */
function usesRunState(ex: Exchange): boolean {
  const a = replayAnnotations(ex);
  return (a.templates?.length ?? 0) > 0 || (a.extract?.length ?? 0) > 0;
}

function asRecorded(ex: Exchange): Exchange {
  return usesRunState(ex) ? { ...ex, meta: {} } : ex;
}

async function* recordedOnly(plan: AsyncIterable<PlannedSend>): AsyncGenerator<PlannedSend> {
  for await (const s of plan) yield usesRunState(s.exchange) ? { ...s, exchange: asRecorded(s.exchange) } : s;
}
