// `npm run bench -- [name…] [--flag=value…]`: runs the named benchmarks (all
// when none given) and prints a Markdown table with reprise's figure, the
// anchor's, and the ratio.
//
// A benchmark is a file `bench/<name>-bench.ts` exporting
// `runBench(flags)`; it is found by its file name, so adding one never
// touches this file. Flags (`--pcap-mb=7,70`) reach every benchmark run.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatResults, type BenchFlags, type BenchResult } from './bench-support.js';

interface BenchModule {
  runBench(flags: BenchFlags): Promise<BenchResult[]>;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('-bench.ts'))
  .map((f) => f.slice(0, -'-bench.ts'.length))
  .sort();

const args = process.argv.slice(2);
const flags: BenchFlags = new Map(
  args.filter((a) => a.startsWith('--')).map((a) => {
    const eq = a.indexOf('=');
    return eq < 0 ? [a.slice(2), 'true'] : [a.slice(2, eq), a.slice(eq + 1)];
  }),
);
const wanted = args.filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  process.stderr.write(`bench: running ${name}…\n`);
  const mod = (await import(`./${name}-bench.js`)) as BenchModule;
  const results = await mod.runBench(flags);
  process.stdout.write(`\n## ${name}\n\n${formatResults(results)}\n`);
}
