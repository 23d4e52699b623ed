#!/usr/bin/env node
// Launcher: in a source checkout run the TypeScript directly through tsx (no
// build step, never a stale dist/); in a published package run dist/.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(source.href);
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, debug: false });
} else {
  const { main } = await import(new URL('../dist/cli/main.js', import.meta.url).href);
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, debug: false });
}
