import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * What tshark decodes as HTTP exchanges in a capture: requests in frame order,
 * each paired with its final response through `http.request_in` (interim 1xx
 * responses are skipped, as reprise stores only the final one). The
 * reference the pcap importer is checked against.
 */
export interface TsharkExchange {
  method: string;
  uri: string;
  /** Final status, or null when tshark saw no response. */
  status: number | null;
}

export function hasTshark(): boolean {
  return tsharkVersion() !== undefined;
}

/** '4.0.17', or undefined when tshark is not installed. */
export function tsharkVersion(): string | undefined {
  try {
    const out = execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /\b(\d+\.\d+\.\d+)\b/.exec(out)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  }
}

// Control characters: URIs can hold '|' and ',' (tshark's default aggregator).
const SEP = '\u0002';
const AGG = '\u0003';

function tsharkArgs(file: string): string[] {
  // -n: no name resolution (no DNS lookups from a test).
  return ['-n', '-r', file, '-Y', 'http.request || http.response', '-T', 'fields', '-E', `separator=${SEP}`, '-E', `aggregator=${AGG}`, '-e', 'frame.number', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code', '-e', 'http.request_in'];
}

/** 256 MiB: the field dump of a large capture; far above any fixture's. */
const MAX_OUTPUT = 256 << 20;

export function tsharkExchanges(file: string): TsharkExchange[] {
  return parseFields(execFileSync('tshark', tsharkArgs(file), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: MAX_OUTPUT }));
}

/** The same, without blocking: several files can be decoded at once. */
export async function tsharkExchangesAsync(file: string): Promise<TsharkExchange[]> {
  const { stdout } = await promisify(execFile)('tshark', tsharkArgs(file), { encoding: 'utf8', maxBuffer: MAX_OUTPUT });
  return parseFields(stdout);
}

function parseFields(out: string): TsharkExchange[] {
  const requests = new Map<number, TsharkExchange>();
  const order: number[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, methods, uris, codes, requestIns] = line.split(SEP);
    // One frame can hold several pipelined messages: their fields are joined by AGG.
    const ms = methods ? methods.split(AGG) : [];
    const us = uris ? uris.split(AGG) : [];
    ms.forEach((m, i) => {
      const key = Number(frame) * 1000 + i;
      requests.set(key, { method: m, uri: us[i] ?? '', status: null });
      order.push(key);
    });
    const cs = codes ? codes.split(AGG) : [];
    const rs = requestIns ? requestIns.split(AGG) : [];
    cs.forEach((c, i) => {
      const code = Number(c);
      if (code >= 100 && code < 200 && code !== 101) return;
      const reqFrame = Number(rs[i] ?? rs[0]);
      const key = [...requests.keys()].find((k) => Math.floor(k / 1000) === reqFrame && requests.get(k)!.status === null);
      if (key !== undefined) requests.get(key)!.status = code;
    });
  }
  return order.map((k) => requests.get(k)!);
}
