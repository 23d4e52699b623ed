import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberListFlag, pinnedNode, type BenchFlags, type BenchResult } from './bench-support.js';
import { toolVersions, wrkCapture } from './wrk-capture.js';

/**
 * pcap import throughput and peak RSS on a real capture of a wrk run against
 * nginx (see wrk-capture.ts), at two sizes to show RSS does not follow the
 * file size. reprise runs `capturePcap` into a fresh store (the store write
 * included) in a pinned worker; the anchor, in the same run on the same core,
 * is `tshark -r FILE -Y http.request -T fields -e http.request.uri`, timed
 * from outside (its start-up included) with peak RSS from `/usr/bin/time -f %M`.
 * MB are 10^6 bytes of capture file. Each tool runs `runs` times,
 * alternating, and its fastest run is reported (a shared VM's noise only ever
 * adds time), with its highest peak RSS. The exchange count reprise finds is
 * checked against tshark's request count.
 */

export interface PcapBenchOptions {
  /** Target capture sizes in MB (default 7 and 70). */
  sizesMB?: number[];
  /** Runs of each tool per size (default 3): the fastest is reported, and the highest peak RSS. */
  runs?: number;
}

const TIME = '/usr/bin/time';

export async function benchPcap(options: PcapBenchOptions = {}): Promise<BenchResult[]> {
  const log = (line: string): void => void process.stderr.write(`bench pcap: ${line}\n`);
  log(toolVersions());
  const worker = fileURLToPath(new URL('./pcap-worker.ts', import.meta.url));
  const results: BenchResult[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'reprise-bench-pcap-'));
  try {
    const empty = emptyCapture(tmp);
    const startup = Math.min(...[1, 2, 3].map(() => runTshark(empty, tmp).seconds));
    for (const target of options.sizesMB ?? [7, 70]) {
      const cap = await wrkCapture(target, log);
      const mb = cap.bytes / 1e6;
      const label = `${mb.toFixed(mb < 10 ? 1 : 0)} MB`;
      const rs: WorkerReport[] = [];
      const ts: TsharkReport[] = [];
      for (let run = 1; run <= (options.runs ?? 3); run++) {
        log(`${label}: run ${run}: reprise import, then tshark…`);
        const store = join(tmp, `store-${target}`);
        rs.push(JSON.parse(pinnedNode([worker, cap.file, store])) as WorkerReport);
        rmSync(store, { recursive: true, force: true });
        ts.push(runTshark(cap.file, tmp));
      }
      const r = { ...fastest(rs), maxRssMB: Math.max(...rs.map((x) => x.maxRssMB)) };
      const t = { ...fastest(ts), maxRssMB: ts.some((x) => x.maxRssMB === undefined) ? undefined : Math.max(...ts.map((x) => x.maxRssMB!)) };
      log(`${label}: reprise ${rs.map((x) => x.seconds.toFixed(2)).join(', ')} s; tshark ${ts.map((x) => x.seconds.toFixed(2)).join(', ')} s`);
      const same = r.exchanges === t.requests;
      if (!same) log(`${label}: exchange count differs — reprise ${r.exchanges}, tshark ${t.requests}`);
      results.push(
        { name: `pcap import ${label}`, value: mb / r.seconds, unit: 'MB/s', anchor: 'tshark', anchorValue: mb / t.seconds, rssMB: r.maxRssMB, extra: `${cap.packets} packets; tshark ${t.seconds.toFixed(1)} s incl. ${startup.toFixed(1)} s start-up` },
        { name: `pcap import ${label}`, value: r.exchanges / r.seconds, unit: 'exchanges/s', anchor: 'tshark', anchorValue: t.requests / t.seconds, extra: `exchanges: reprise ${r.exchanges}, tshark ${t.requests}${same ? ' (equal)' : ' (DIFFER)'}` },
        t.maxRssMB === undefined
          ? { name: `pcap peak RSS ${label}`, value: r.maxRssMB, unit: 'MB', extra: `tshark RSS not measured: ${TIME} missing` }
          : { name: `pcap peak RSS ${label}`, value: r.maxRssMB, unit: 'MB', anchor: 'tshark', anchorValue: t.maxRssMB },
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

interface WorkerReport {
  seconds: number;
  exchanges: number;
  maxRssMB: number;
}

interface TsharkReport {
  seconds: number;
  requests: number;
  maxRssMB: number | undefined;
}

function fastest<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** The anchor command, pinned to CPU 0 like the worker; wall time measured here. */
function runTshark(file: string, tmp: string): TsharkReport {
  const outFile = join(tmp, 'tshark.out');
  const timeFile = join(tmp, 'tshark.time');
  const tshark = ['tshark', '-r', file, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'];
  const haveTime = existsSync(TIME);
  const out = openSync(outFile, 'w');
  const t0 = process.hrtime.bigint();
  try {
    execFileSync('taskset', ['-c', '0', ...(haveTime ? [TIME, '-o', timeFile, '-f', '%M'] : []), ...tshark], { stdio: ['ignore', out, 'ignore'] });
  } finally {
    closeSync(out);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // One line per frame with requests; several requests in one frame (pipelining) are joined by ','.
  // The bench's URIs hold no ',' and wrk does not pipeline, so this counts requests.
  const requests = readFileSync(outFile, 'utf8').split('\n').filter((l) => l !== '').reduce((n, l) => n + l.split(',').length, 0);
  const kib = haveTime ? Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) : NaN;
  return { seconds, requests, maxRssMB: Number.isFinite(kib) ? kib / 1024 : undefined };
}

/** A pcap with a header and no packets: tshark's start-up time alone. */
function emptyCapture(tmp: string): string {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const file = join(tmp, 'empty.pcap');
  writeFileSync(file, header);
  return file;
}

/** `npm run bench -- pcap [--pcap-mb=7,70]` (captures cached under bench/out/ by size). */
export function runBench(flags: BenchFlags): Promise<BenchResult[]> {
  return benchPcap({ sizesMB: numberListFlag(flags, 'pcap-mb') });
}
