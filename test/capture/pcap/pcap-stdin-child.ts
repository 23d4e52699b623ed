// Child process for the stdin test: reads a capture from process.stdin, as
// `reprise import -` will, and prints what it found as one JSON line.
import { newPacketStats } from '../../../capture/pcap/packet-stats.js';
import { readTcpSegments } from '../../../capture/pcap/read-tcp-segments.js';

const stats = newPacketStats();
let segments = 0;
let payload = 0;
for await (const s of readTcpSegments(process.stdin, { name: '-' }, stats)) {
  segments++;
  payload += s.payload.length;
}
process.stdout.write(`${JSON.stringify({ segments, payload, packets: stats.packets, truncatedAt: stats.truncatedAt ?? null })}\n`);
