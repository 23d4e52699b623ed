// `npm run bench -- [name…]`: runs the named benchmarks (all when none given)
// and prints a Markdown table with reprise's figure, the anchor's, and the ratio.
import { benchStore } from './store-bench.js';
import { formatResults, type BenchResult } from './bench-support.js';

const BENCHES: Record<string, () => Promise<BenchResult[]>> = {
  store: () => benchStore(),
};

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
