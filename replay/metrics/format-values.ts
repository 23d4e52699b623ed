/**
 * How metric values read to a person, in one place so the terminal summary,
 * the threshold messages, JUnit and the HTML report all say "12.3ms" the same
 * way.
 */

/** Microseconds as the shortest readable unit: 850µs, 12.3ms, 1.25s. */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return String(us);
  const abs = Math.abs(us);
  if (abs < 1000) return `${Math.round(us)}µs`;
  if (abs < 1_000_000) return `${trim(us / 1000)}ms`;
  return `${trim(us / 1_000_000)}s`;
}

/** A fraction as a percentage: 0.00523 → 0.52%. */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct === 0 || pct === 100) return `${pct}%`;
  if (Math.abs(pct) < 0.01) return `${pct.toPrecision(2)}%`;
  return `${trim(pct)}%`;
}

/** Requests per second. */
export function formatRate(perSecond: number): string {
  return `${trim(perSecond)}/s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${trim(n / 1024)} KiB`;
  if (n < 1024 ** 3) return `${trim(n / 1024 ** 2)} MiB`;
  return `${trim(n / 1024 ** 3)} GiB`;
}

/** Three significant digits for small numbers, one decimal above 100. */
function trim(x: number): string {
  const abs = Math.abs(x);
  const s = abs >= 100 ? x.toFixed(1) : abs >= 10 ? x.toFixed(2) : x.toFixed(3);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
