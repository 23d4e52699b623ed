// `npm run demo`: the whole story on embedded defaults, no external service.
// Starts the bundled demo API in two releases (and a second copy of v1, so the
// diff can measure noise) on 127.0.0.1, then runs scenarios/demo.yaml through
// the real `reprise run` entry: record a generated workload through the
// recording proxy (secrets redacted at capture), redact PII, replay at 10x
// against v2 with thresholds, diff v1 against v2. Reports go to ./demo-output/.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';

const scenario = fileURLToPath(new URL('../scenarios/demo.yaml', import.meta.url));
const out = resolve(process.argv[2] ?? 'demo-output');
const token = 'demo-service-token';
const started = performance.now();

// The demo API runs in a child process: the servers and the replay must not share an event loop.
const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../scenarios/demo/demo-api-process.ts', import.meta.url)), token], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const firstLine = await new Promise<string>((resolveLine, reject) => {
  server.once('exit', (c) => reject(new Error(`demo API process exited with code ${c}`)));
  createInterface({ input: server.stdout! }).once('line', resolveLine);
});
const { v1, v2, v1b } = JSON.parse(firstLine) as { v1: string; v2: string; v1b: string };
let code = 70;
try {
  await rm(out, { recursive: true, force: true });
  Object.assign(process.env, { DEMO_V1_URL: v1, DEMO_V2_URL: v2, DEMO_V1B_URL: v1b, DEMO_DIR: out, DEMO_TOKEN: token });
  process.stdout.write(`demo API v1 on ${v1}, v2 on ${v2} (and v1 again on ${v1b} for the diff's noise baseline)\n`);
  process.stdout.write(`$ reprise run scenarios/demo.yaml\n\n`);
  code = await main(['run', scenario], { stdout: process.stdout, stderr: process.stderr, debug: false });
} finally {
  server.stdin!.end();
  await new Promise((r) => server.once('exit', r));
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (code === 4) {
  // The diff gate is meant to trip: v2 changes a type, drops a field and turns a 404 into a 500.
  process.stdout.write(`\ndemo: done in ${seconds} s. The diff gate failed as it should — v2 breaks its API (exit code 4 in CI).\n`);
} else if (code === 0) {
  process.stdout.write(`\ndemo: done in ${seconds} s.\n`);
} else {
  process.stderr.write(`\ndemo: the scenario ended with exit code ${code}\n`);
  process.exit(code);
}
process.stdout.write(`Open ${out}/reports/01-phase-1/report.html (replay) and ${out}/reports/diff/diff-report.html (diff).\n`);
