// `npm run demo`: the main job on embedded defaults. For now: import the
// committed sample HAR into a temporary store, summarize it, and export one
// exchange as Markdown — each step through the real `reprise` CLI entry.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';

const har = fileURLToPath(new URL('../test/fixtures/har/sample-api.har', import.meta.url));
const pcap = fileURLToPath(new URL('../test/fixtures/pcap/loopback-curl.pcap', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'reprise-demo-'));
const store = join(dir, 'store');
const io = { stdout: process.stdout, stderr: process.stderr, debug: false };

async function step(title: string, argv: string[]): Promise<void> {
  process.stdout.write(`\n── ${title}\n$ reprise ${argv.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}\n`);
  const code = await main(argv, io);
  if (code !== 0) {
    process.stderr.write(`demo: step failed with exit code ${code}\n`);
    process.exit(code);
  }
}

try {
  await step('import a HAR capture into a store', ['import', 'har', har, '--out', store]);
  await step('what is in the store', ['store', 'inspect', store]);
  await step('server errors only, as NDJSON', ['store', 'cat', store, '--status', '5xx', '--limit', '1']);
  await step('one exchange as a readable wire dump', ['export', 'md', store, '--out', join(dir, 'md'), '--status', '5xx']);
  const files = (await readdir(join(dir, 'md'))).filter((f) => f !== 'index.md');
  if (files[0]) process.stdout.write(`\n${await readFile(join(dir, 'md', files[0]), 'utf8')}\n`);
  await step('capture from packets (a real tcpdump capture of curl on loopback)', ['capture', 'pcap', pcap, '--out', join(dir, 'from-pcap')]);
  await step('what the packets held', ['store', 'inspect', join(dir, 'from-pcap'), '--top', '5']);
  process.stdout.write(`\ndemo: done (store was ${store}, removed)\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
