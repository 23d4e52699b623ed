import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newReadReport, readExchanges } from '../../store/segment-reader.js';
import { openStoreWriter } from '../../store/segment-writer.js';
import { makeTempDir } from '../support/temp-dir.js';
import { syntheticExchange } from '../support/synthetic-exchange.js';

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => { tmp = await makeTempDir(); });
afterEach(async () => { await tmp.cleanup(); });

const child = fileURLToPath(new URL('../support/crash-writer-child.ts', import.meta.url));

/** Run the writer child until it has made `atLeast` records durable, then SIGKILL it mid-write. */
async function killWriterAfter(store: string, atLeast: number): Promise<number> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, store], { stdio: ['ignore', 'pipe', 'inherit'] });
  let durable = 0;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}`))));
    proc.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) durable = Number(l.split(' ')[1]);
      if (durable >= atLeast && !proc.killed) proc.kill('SIGKILL');
    });
  });
  return durable;
}

describe('crash tolerance', () => {
  it('a writer killed with SIGKILL mid-write leaves a readable store with every durable record', async () => {
    const store = join(tmp.dir, 'store');
    // 256 KiB segments: the kill lands after several rotations, so sealed and unsealed segments are both read.
    const durable = await killWriterAfter(store, 20_000);
    const report = newReadReport();
    let n = 0;
    for await (const ex of readExchanges(store, { report })) {
      expect(ex.source.seq).toBe(Math.floor(n / 8)); // every record, in write order, nothing skipped
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(durable);
    expect(report.unsealedSegments).toHaveLength(1);
    expect(report.segments).toBeGreaterThan(2);
    expect(report.tornTails).toBeLessThanOrEqual(1);

    // The store stays usable: a new writer appends after the crashed segment.
    const w = await openStoreWriter(store);
    await w.write(syntheticExchange(n));
    await w.close();
    let after = 0;
    for await (const _ of readExchanges(store)) after++;
    expect(after).toBe(n + 1);
  });
});
