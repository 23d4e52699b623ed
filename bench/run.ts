// `npm run bench -- [name…]`: runs the named benchmarks (all when none given)
// and prints a Markdown table with reprise's figure, the anchor's, and the ratio.
import { benchPcap } from './pcap-bench.js';
import { benchStore } from './store-bench.js';
import { formatResults, type BenchResult } from './bench-support.js';

const BENCHES: Record<string, () => Promise<BenchResult[]>> = {
  store: () => benchStore(),
  // --pcap-mb=7,70: capture sizes (cached under bench/out/ by size).
  pcap: () => benchPcap(listFlag('--pcap-mb')),
};

function listFlag(name: string): { sizesMB?: number[] } {
  const arg = process.argv.find((a) => a.startsWith(`${name}=`));
  return arg ? { sizesMB: arg.slice(name.length + 1).split(',').map(Number) } : {};
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  process.stderr.write(`bench: running ${name}…\n`);
  const results = await BENCHES[name]!();
  process.stdout.write(`\n## ${name}\n\n${formatResults(results)}\n`);
}
