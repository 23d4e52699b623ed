/**
 * Rebuilds test/fixtures/zstd/*.zst with the zstd CLI (apt-get install zstd): real encoder output for
 * the zstd decoder's tests, since node:zlib on Node 20 has no zstd encoder.
 *   npx tsx scripts/make-zstd-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { orderListJson } from '../test/capture/pcap/zstd-fixtures.js';

const dir = new URL('../test/fixtures/zstd/', import.meta.url);
const body = orderListJson();
const zstd = (args: string[], input: Buffer): Buffer => execFileSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 26 });

// Default CLI frame: content size and XXH64 checksum in the frame, several blocks.
writeFileSync(new URL('orders.json.zst', dir), zstd(['-3'], body));
// From a pipe (size unknown) with a 128 MiB window: over RFC 9659's 8 MiB, refused before decoding.
writeFileSync(new URL('orders-window-128m.json.zst', dir), zstd(['-3', '--long=27', '--no-content-size'], body));
// 64 MiB of zeros at level 19 (~2 KiB on the wire): a decompression bomb.
writeFileSync(new URL('zeros-64m.zst', dir), zstd(['-19', '--no-content-size'], Buffer.alloc(64 << 20)));
