// The demo API releases in a process of their own, so the servers and the
// replay do not share one event loop (that would show up as schedule lag
// that is the demo's, not reprise's). Prints one JSON line with the URLs,
// then serves until its stdin closes (the parent exited) or SIGTERM.
import { startDemoApi } from './demo-api.js';

const token = process.argv[2] ?? 'demo-service-token';
const apis = await Promise.all([
  startDemoApi({ version: 1, staticTokens: [token], latencyMs: 2 }),
  startDemoApi({ version: 2, staticTokens: [token], latencyMs: 2 }),
  startDemoApi({ version: 1, staticTokens: [token], latencyMs: 2 }),
]);
const stop = async (): Promise<void> => {
  await Promise.all(apis.map((a) => a.close()));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ v1: apis[0]!.url, v2: apis[1]!.url, v1b: apis[2]!.url })}\n`);
