import { existsSync } from 'node:fs';

/**
 * For `describe.skipIf(...)`: prints why a suite cannot run on this machine,
 * so a skip is never silent in a CI log, and returns whether to skip.
 * `reason` is null (or false) when everything needed is there.
 *
 * @example
 * describe.skipIf(skipBecause(existsSync(dir) ? null : `${dir} missing`))('real captures', …)
 */
export function skipBecause(reason: string | null | false): boolean {
  if (!reason) return false;
  process.stderr.write(`skipped: ${reason}\n`);
  return true;
}

/** The public captures of ../shared/fixtures (see its README), outside this repository. */
export function sharedFixturesMissing(path: string): string | null {
  return existsSync(path) ? null : `public capture fixtures not found at ${path} (they live in ../shared/fixtures next to the checkout; the tests on committed fixtures still run)`;
}

/** Debian's chromium, which playwright-core drives for the report screenshot tests. */
export const CHROMIUM_PATH = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export function chromiumMissing(): string | null {
  return CHROMIUM_PATH ? null : 'chromium not installed (Debian package chromium; .ci/run installs it): HTML report screenshot tests';
}
