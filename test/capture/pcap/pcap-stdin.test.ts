import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sharedFixturesMissing, skipBecause } from '../../support/skip-reason.js';

/**
 * process.stdin as the input, in the two shapes it takes: a file redirected
 * with `<` (an fs.ReadStream) and a pipe written slowly, record pieces split
 * across writes, like a tcpdump that is still running.
 */

const child = fileURLToPath(new URL('./pcap-stdin-child.ts', import.meta.url));
const file = fileURLToPath(new URL('../../../../shared/fixtures/pcaps/zeek/http_get.pcap', import.meta.url));

async function runChild(stdin: number | 'pipe', feed?: (w: NodeJS.WritableStream) => Promise<void>) {
  const proc = spawn(process.execPath, ['--import', 'tsx', child], { stdio: [stdin, 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  if (feed) await feed(proc.stdin!);
  const [code] = (await once(proc, 'close')) as [number];
  expect(code).toBe(0);
  return JSON.parse(out) as { segments: number; payload: number; packets: number; truncatedAt: number | null };
}

describe.skipIf(skipBecause(sharedFixturesMissing(file)))('reading from stdin', () => {
  it('a redirected file and a slow pipe give the same result', async () => {
    const fd = openSync(file, 'r');
    const fromFile = await runChild(fd).finally(() => closeSync(fd));
    expect(fromFile).toEqual({ segments: 14, payload: 5143, packets: 14, truncatedAt: null });

    const bytes = readFileSync(file);
    const fromPipe = await runChild('pipe', async (w) => {
      for (let at = 0; at < bytes.length; at += 997) {
        w.write(bytes.subarray(at, at + 997));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      w.end();
    });
    expect(fromPipe).toEqual(fromFile);
  });
});
