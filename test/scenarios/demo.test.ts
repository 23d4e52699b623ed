/**
 * `npm run demo` as a newcomer runs it: the real script in a child process,
 * on embedded defaults, writing its reports to a temporary folder.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run demo', () => {
  it('records, redacts, replays at 10x, diffs v1 against v2 and writes both HTML reports, in well under a minute', async () => {
    const tmp = await makeTempDir('reprise-demo-test-');
    try {
      const out = join(tmp.dir, 'demo-output');
      const started = Date.now();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', out], { cwd: ROOT, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', DEMO_P99_LIMIT: '10s' /* the story, not this loaded machine's latency, is under test */ } });
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(stdout).toMatch(/recorded 400 exchanges/);
      expect(stdout).toMatch(/requests\s+[\d,]+ planned .* 0 dropped/);
      expect(stdout).toMatch(/redactions: detector:email \d+/);
      expect(stdout).toMatch(/reprise replay → http:\/\/127\.0\.0\.1:\d+/);
      expect(stdout).toMatch(/thresholds\s+all 2 passed/);
      // The planted v2 changes, each where it was planted.
      expect(stdout).toMatch(/GET \/api\/users\/:id[\s\S]*HIGH\s+\$\.user\.id\s+type/);
      expect(stdout).toMatch(/HIGH\s+\$\.user\.email\s+missing/);
      expect(stdout).toMatch(/HIGH\s+status\s+status.*\n.*404 → 500/);
      expect(stdout).toMatch(/The diff gate failed as it should/);
      for (const f of ['reports/01-phase-1/report.html', 'reports/diff/diff-report.html', 'reports/scenario.json']) {
        expect((await stat(join(out, f))).size).toBeGreaterThan(500);
      }
    } finally {
      await tmp.cleanup();
    }
  }, 90_000);
});
