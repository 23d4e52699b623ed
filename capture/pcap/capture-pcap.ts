import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { RepriseError } from '../../errors.js';
import type { Exchange } from '../../store/exchange.js';
import { writeExchanges } from '../../store/write-exchanges.js';
import { DEFAULT_SECRET_HEADERS, redactSecretHeaders } from '../../transform/redact-headers.js';
import { HttpExchangeAssembler, type HttpExchangeAssemblerOptions } from './http-exchange-assembler.js';
import { orderByStart } from './http-exchange-order.js';
import { newPacketStats, type PacketStats } from './packet-stats.js';
import { readTcpSegments, type ReadTcpSegmentsOptions } from './read-tcp-segments.js';
import type { DropCounts, TcpSegment } from './tcp-segment.js';

/**
 * Packets → Exchanges: the whole pcap pipeline behind `reprise capture pcap`
 * and `capture vxlan`. Segments stream through the reassembler one at a time;
 * finished exchanges are put back into start-time order (bounded window),
 * secret headers are redacted unless turned off, and a summary says what was
 * seen and what was dropped, each drop with its reason.
 */

export interface PcapCaptureOptions {
  /** Shown in errors and used as captureId: a path, or '-' for stdin. */
  name: string;
  captureId?: string;
  /** Server ports (default: detect HTTP by parsing, with common ports as a hint). */
  serverPorts?: number[];
  /** Keep only traffic to/from these ports / addresses. */
  ports?: number[];
  hosts?: string[];
  /** Capture-time window, µs since the epoch; `to` exclusive. */
  from?: number;
  to?: number;
  vxlanPorts?: number[];
  /** Bytes of each body stored (default 1 MiB). */
  bodyCap?: number;
  /** Header names to redact (default: Authorization, Cookie, Set-Cookie, API keys); false stores them in clear. */
  redactHeaders?: readonly string[] | false;
  /** Called every 100k packets with the running summary. */
  onProgress?: (summary: PcapCaptureSummary) => void;
}

export interface PcapCaptureSummary {
  format: string | undefined;
  packets: number;
  bytes: number;
  tcpSegments: number;
  connections: number;
  exchanges: number;
  /** Exchanges with missing bytes (a capture gap), marked `incomplete`. */
  incomplete: number;
  /** Requests whose response was never seen. */
  noResponse: number;
  /** Everything not used, by reason: packets (link/IP/filter) and stream events (not-http, memory). */
  dropped: DropCounts;
  droppedTotal: number;
  /** Byte offset where the capture ended mid-record (a killed tcpdump), if it did. */
  truncatedAt: number | undefined;
  unsupportedLinkTypes: number[];
  /** Exchanges that came out of start-time order despite the reorder window. */
  outOfOrder: number;
}

/**
 * The Exchanges in a capture stream, in start-time order.
 *
 * @example
 * const summary = newPcapCaptureSummary();
 * for await (const ex of pcapExchanges(createReadStream('traffic.pcap'), { name: 'traffic.pcap' }, summary)) console.log(ex.request.path);
 */
export async function* pcapExchanges(input: Readable, options: PcapCaptureOptions, summary: PcapCaptureSummary = newPcapCaptureSummary()): AsyncGenerator<Exchange> {
  const packets = newPacketStats();
  const redact = options.redactHeaders === false ? null : (options.redactHeaders ?? DEFAULT_SECRET_HEADERS);
  const ready: Exchange[] = [];
  const ordered = orderByStart((ex) => ready.push(redact ? redactSecretHeaders(ex, redact) : ex));
  const asmOptions: HttpExchangeAssemblerOptions = { captureId: options.captureId ?? basename(options.name) };
  if (options.serverPorts) asmOptions.serverPorts = options.serverPorts;
  if (options.bodyCap !== undefined) asmOptions.bodyCap = options.bodyCap;
  const asm = new HttpExchangeAssembler(asmOptions, (ex) => ordered.push(ex));
  const segOptions: ReadTcpSegmentsOptions = { name: options.name };
  if (options.ports) segOptions.ports = options.ports;
  if (options.hosts) segOptions.hosts = options.hosts;
  if (options.from !== undefined) segOptions.from = options.from;
  if (options.to !== undefined) segOptions.to = options.to;
  if (options.vxlanPorts) segOptions.vxlanPorts = options.vxlanPorts;
  let nextProgress = 100_000;
  const update = (): void => fillSummary(summary, packets, asm, ordered.late);
  // A corrupt record stops the read, but what came before it was captured: the exchanges waiting in the
  // reorder window (and those cut short, marked incomplete as at a truncated end) are handed out before
  // the error, so the caller can store them.
  let failure: { err: unknown } | null = null;
  try {
    for await (const seg of readTcpSegments(input, segOptions, packets)) {
      asm.push(seg);
      if (ready.length > 0) yield* ready.splice(0);
      if (options.onProgress && packets.packets >= nextProgress) {
        nextProgress += 100_000;
        update();
        options.onProgress(summary);
      }
    }
  } catch (err) {
    failure = { err };
  }
  asm.end();
  ordered.flush();
  yield* ready.splice(0);
  update();
  if (failure) throw failure.err;
}

/** The same pipeline fed from any TcpSegment source (the live VXLAN listener). */
export async function* segmentExchanges(segments: AsyncIterable<TcpSegment>, options: PcapCaptureOptions, packets: PacketStats, summary: PcapCaptureSummary): AsyncGenerator<Exchange> {
  const redact = options.redactHeaders === false ? null : (options.redactHeaders ?? DEFAULT_SECRET_HEADERS);
  const ready: Exchange[] = [];
  const ordered = orderByStart((ex) => ready.push(redact ? redactSecretHeaders(ex, redact) : ex), { windowUs: 5_000_000 });
  const asm = new HttpExchangeAssembler({ captureId: options.captureId ?? options.name, ...(options.serverPorts ? { serverPorts: options.serverPorts } : {}) }, (ex) => ordered.push(ex));
  for await (const seg of segments) {
    asm.push(seg);
    if (ready.length > 0) yield* ready.splice(0);
  }
  asm.end();
  ordered.flush();
  yield* ready.splice(0);
  fillSummary(summary, packets, asm, ordered.late);
}

export function newPcapCaptureSummary(): PcapCaptureSummary {
  return { format: undefined, packets: 0, bytes: 0, tcpSegments: 0, connections: 0, exchanges: 0, incomplete: 0, noResponse: 0, dropped: {}, droppedTotal: 0, truncatedAt: undefined, unsupportedLinkTypes: [], outOfOrder: 0 };
}

function fillSummary(s: PcapCaptureSummary, p: PacketStats, asm: HttpExchangeAssembler, late: number): void {
  const a = asm.stats;
  const dropped: DropCounts = { ...p.drops };
  for (const [k, v] of Object.entries(a.drops)) dropped[k as keyof DropCounts] = (dropped[k as keyof DropCounts] ?? 0) + (v ?? 0);
  Object.assign(s, {
    format: p.format,
    packets: p.packets,
    bytes: p.bytes,
    tcpSegments: p.segments,
    connections: a.connections,
    exchanges: a.exchanges,
    incomplete: a.incomplete,
    noResponse: a.noResponse,
    dropped,
    droppedTotal: Object.values(dropped).reduce((x, y) => x + (y ?? 0), 0),
    truncatedAt: p.truncatedAt,
    unsupportedLinkTypes: [...p.unsupportedLinkTypes],
    outOfOrder: late,
  });
}

/**
 * Import a capture file (or '-' for stdin) into a store.
 *
 * @example
 * const summary = await capturePcap('traffic.pcap', './store', { ports: [8080] });
 */
export async function capturePcap(input: string, store: string, options: Omit<PcapCaptureOptions, 'name'> = {}): Promise<PcapCaptureSummary> {
  const summary = newPcapCaptureSummary();
  const stream = input === '-' ? process.stdin : await openCaptureFile(input);
  await writeExchanges(pcapExchanges(stream, { ...options, name: input }, summary), store);
  return summary;
}

async function openCaptureFile(file: string): Promise<Readable> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new RepriseError('INPUT_UNREADABLE', 'not a file', { location: { file } });
  } catch (err) {
    if (err instanceof RepriseError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepriseError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', code === 'ENOENT' ? 'no such file' : (err as Error).message, { cause: err, location: { file } });
  }
  // 1 MiB reads: few syscalls on big captures; the reader copies only records that straddle chunks.
  return createReadStream(file, { highWaterMark: 1024 * 1024 });
}

/** The summary as the terminal shows it. */
export function formatPcapSummary(s: PcapCaptureSummary): string {
  const drops = Object.entries(s.dropped).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `packets      ${s.packets} (${s.bytes} bytes${s.format ? `, ${s.format}` : ''})${s.truncatedAt !== undefined ? `; capture ends mid-record at byte ${s.truncatedAt}` : ''}`,
    `tcp          ${s.tcpSegments} segments, ${s.connections} connections`,
    `exchanges    ${s.exchanges} (${s.incomplete} incomplete, ${s.noResponse} without response)`,
    `dropped      ${s.droppedTotal}${drops ? ` — ${drops}` : ''}${s.unsupportedLinkTypes.length ? ` (unsupported link types: ${s.unsupportedLinkTypes.join(', ')})` : ''}`,
  ].join('\n');
}
