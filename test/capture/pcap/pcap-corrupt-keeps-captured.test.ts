// Why this file exists: a corrupt record in the middle of a capture must stop the import with
// PCAP_INVALID, but the exchanges finished before it are already captured and must reach the store,
// not vanish with the reorder window they were waiting in.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturePcap } from '../../../capture/pcap/capture-pcap.js';
import { RepriseError } from '../../../errors.js';
import type { Exchange } from '../../../store/exchange.js';
import { readExchanges } from '../../../store/segment-reader.js';
import { makeTempDir } from '../../support/temp-dir.js';

const KEEPALIVE = fileURLToPath(new URL('../../fixtures/pcap/loopback-node-keepalive.pcap', import.meta.url));

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

/** Byte offsets of every record header of a little-endian classic pcap. */
function recordOffsets(pcap: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 24; at + 16 <= pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) offsets.push(at);
  return offsets;
}

describe('capture pcap with a corrupt record', () => {
  it('stores the exchanges seen before the corruption, then fails with PCAP_INVALID at its offset', async () => {
    const pcap = Buffer.from(readFileSync(KEEPALIVE));
    const last = recordOffsets(pcap).at(-1)!;
    pcap.writeUInt32LE(0x7fffffff, last + 8); // captured length no record can have
    const file = join(tmp.dir, 'corrupt.pcap');
    await writeFile(file, pcap);
    const store = join(tmp.dir, 'store');

    const err = await capturePcap(file, store).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RepriseError);
    expect(err).toMatchObject({ code: 'PCAP_INVALID', location: { file, offset: last } });

    const kept: Exchange[] = [];
    for await (const ex of readExchanges(store)) kept.push(ex);
    // The fixture holds 10 exchanges on one keep-alive connection; the last packet is its close.
    expect(kept.map((ex) => ex.request.path)).toEqual(Array.from({ length: 10 }, (_, i) => `/users/${100 + i}`));
    expect(kept.every((ex) => ex.response?.status === 200)).toBe(true);
  });
});
