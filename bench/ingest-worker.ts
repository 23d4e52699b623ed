// The ingest endpoint in its own process, for the ingest bench:
//   ingest-worker.js reprise <store-dir> <api-key>   `reprise capture ingest` as the CLI runs it (defaults)
//   ingest-worker.js anchor                          a bare node:http server that reads each POST body whole
//                                                    and answers 202: the ceiling of any node ingest endpoint
// Prints {"port":…} once listening; when its stdin closes it shuts down (the
// store flushed and sealed), prints its summary and peak RSS, and exits.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startIngestServer } from '../capture/apigw/ingest-server.js';

const [mode, store, apiKey] = process.argv.slice(2);
const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024;

if (mode === 'reprise') {
  const server = await startIngestServer({ host: '127.0.0.1', port: 0, store: store!, apiKey: apiKey! });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  onStdinEnd(async () => ({ summary: await server.close() }));
} else if (mode === 'anchor') {
  const answer = JSON.stringify({ accepted: 1, duplicates: 0, rejected: 0, errors: [] });
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks); // what any endpoint does before it can look at the payload
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  onStdinEnd(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    return {};
  });
} else {
  throw new Error(`ingest-worker: unknown mode ${mode}`);
}

function onStdinEnd(close: () => Promise<Record<string, unknown>>): void {
  process.stdin.resume();
  process.stdin.on('end', async () => {
    const report = await close();
    process.stdout.write(`${JSON.stringify({ ...report, maxRssMB: peakRssMB() })}\n`);
    process.stdin.pause();
  });
}
