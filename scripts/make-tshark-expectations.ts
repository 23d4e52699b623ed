// Writes test/fixtures/pcap/tshark-expectations.json: for every capture
// fixture (ours in test/fixtures/pcap, the public ones in
// ../shared/fixtures/pcaps/{zeek,tcpdump}), the (method, uri, final status)
// of each HTTP request tshark decodes, in frame order. The pcap-vs-tshark
// test compares reprise with it where tshark is not installed, and checks it
// against live tshark where it is. Run after adding a fixture:
// `npx tsx scripts/make-tshark-expectations.ts` (needs tshark and ../shared).
import { existsSync, writeFileSync } from 'node:fs';
import {
  EXPECTATIONS_FILE, formatTsharkExpectations, pcapFixtures, SHARED_PCAPS, tsharkRow, type TsharkRow,
} from '../test/support/tshark-expectations.js';
import { tsharkExchanges, tsharkVersion } from '../test/support/tshark-http.js';

const version = tsharkVersion();
if (version === undefined) throw new Error('tshark is not installed (apt-get install tshark)');
if (!existsSync(SHARED_PCAPS)) throw new Error(`${SHARED_PCAPS} is missing: the public captures must be beside the repository`);

const files: Record<string, TsharkRow[]> = {};
for (const f of pcapFixtures()) files[f.name] = tsharkExchanges(f.path).map(tsharkRow);
writeFileSync(EXPECTATIONS_FILE, formatTsharkExpectations({ generator: 'scripts/make-tshark-expectations.ts', tshark: version, files }));
process.stdout.write(`${EXPECTATIONS_FILE}: ${Object.keys(files).length} captures, tshark ${version}\n`);
