import { execFileSync } from 'node:child_process';

/** `--name=value` flags given to `npm run bench` (a bare `--name` is "true"). */
export type BenchFlags = Map<string, string>;

/** A comma-separated numeric flag (`--pcap-mb=7,70`), or undefined when not given. */
export function numberListFlag(flags: BenchFlags, name: string): number[] | undefined {
  const raw = flags.get(name);
  return raw === undefined ? undefined : raw.split(',').map(Number);
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The anchor tool measured in the same run, and its figure in the same unit. */
  anchor?: string;
  anchorValue?: number;
  rssMB?: number;
  extra?: string;
}

/** Run a TypeScript bench worker under tsx, pinned to CPU 0 ("one core"), returning its stdout. */
export function pinnedNode(args: string[]): string {
  return execFileSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function formatResults(results: BenchResult[]): string {
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.anchor ? `${r.anchor}: ${fmt(r.anchorValue ?? 0)}` : '',
    r.anchorValue ? `${(r.value / r.anchorValue).toFixed(2)}x` : '',
    r.rssMB !== undefined ? `${r.rssMB.toFixed(0)} MB` : '',
    r.extra ?? '',
  ]);
  const head = ['benchmark', 'reprise', 'anchor', 'ratio', 'peak RSS', 'notes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fmt(n: number): string {
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}
