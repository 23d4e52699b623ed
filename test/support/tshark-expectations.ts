import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TsharkExchange } from './tshark-http.js';

/**
 * The capture fixtures that are compared with tshark, and tshark's answers
 * for them committed to test/fixtures/pcap/tshark-expectations.json, so the
 * comparison still runs where tshark is not installed. The JSON is written by
 * scripts/make-tshark-expectations.ts; never edit it by hand.
 */

/** Ours: made by scripts/make-pcap-fixtures.ts. */
export const OWN_PCAPS = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
/** The public Zeek and tcpdump captures, beside the repository (origins in their README.md). */
export const SHARED_PCAPS = fileURLToPath(new URL('../../../shared/fixtures/pcaps/', import.meta.url));
export const EXPECTATIONS_FILE = fileURLToPath(new URL('../fixtures/pcap/tshark-expectations.json', import.meta.url));

export interface PcapFixture {
  /** Stable name: 'reprise/<file>' for ours, 'zeek/<file>' and 'tcpdump/<file>' for the public ones. */
  name: string;
  path: string;
}

/** One request as tshark decodes it: method, request-target as sent, final status (null: none). */
export type TsharkRow = [method: string, uri: string, status: number | null];

export interface TsharkExpectations {
  generator: string;
  /** tshark version that produced `files`. */
  tshark: string;
  files: Record<string, TsharkRow[]>;
}

const CAPTURE = /\.(pcap|pcapng)$/;

/** Every fixture capture present on this machine (the shared ones only when ../shared is there), by name. */
export function pcapFixtures(): PcapFixture[] {
  const list = (dir: string, prefix: string): PcapFixture[] =>
    existsSync(dir) ? readdirSync(dir).filter((f) => CAPTURE.test(f)).sort().map((f) => ({ name: `${prefix}/${f}`, path: dir + f })) : [];
  return [...list(OWN_PCAPS, 'reprise'), ...list(`${SHARED_PCAPS}zeek/`, 'zeek'), ...list(`${SHARED_PCAPS}tcpdump/`, 'tcpdump')];
}

export function tsharkRow(t: TsharkExchange): TsharkRow {
  return [t.method, t.uri, t.status];
}

export function readTsharkExpectations(): TsharkExpectations {
  return JSON.parse(readFileSync(EXPECTATIONS_FILE, 'utf8')) as TsharkExpectations;
}

/** JSON with one request per line, so a regenerated file diffs line by line. */
export function formatTsharkExpectations(e: TsharkExpectations): string {
  const files = Object.keys(e.files).sort().map((name) => {
    const rows = e.files[name]!.map((r) => `      ${JSON.stringify(r)}`);
    return `    ${JSON.stringify(name)}: ${rows.length === 0 ? '[]' : `[\n${rows.join(',\n')}\n    ]`}`;
  });
  return `{\n  "generator": ${JSON.stringify(e.generator)},\n  "tshark": ${JSON.stringify(e.tshark)},\n  "files": {\n${files.join(',\n')}\n  }\n}\n`;
}
