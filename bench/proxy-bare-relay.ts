// The floor of the proxy's stack, for the proxy bench: node:http in front of
// an undici Pool with stream(), relaying status, headers and body — what
// reprise's relay is built on, with nothing else (no hop-by-hop filtering, no
// abort on client loss, no error answers, no taps, no recording). It is not a
// usable proxy; it shows how much of the gap to nginx is the Node stack itself.
//   proxy-bare-relay.js <upstream-url>
// Prints {"port":…} once listening; when its stdin closes it prints its peak
// RSS and exits; a `gc` line on stdin gets its scavenge pauses (the same protocol as proxy-worker.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Pool } from 'undici';
import { serveMinorGcStats } from './proxy-gc-stats.js';

const [upstream] = process.argv.slice(2);
// The same pool bound as the reverse proxy's default.
const pool = new Pool(upstream!, { connections: 256 });
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  pool.stream(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers: req.rawHeaders, responseHeaders: 'raw', opaque: res },
    ({ statusCode, headers }) => {
      res.writeHead(statusCode, headers as unknown as string[]);
      return new Writable({
        write(chunk: Buffer, _enc, callback) {
          if (res.write(chunk)) callback();
          else res.once('drain', () => callback());
        },
        final(callback) {
          res.end(callback);
        },
      });
    },
    (err) => {
      if (err) res.destroy();
    },
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
serveMinorGcStats(() => {
  process.stdout.write(`${JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(0);
});
