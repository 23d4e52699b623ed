/**
 * "did you mean" hints for near misses in configuration keys and enum values:
 * the same word in another case or spelling (`json_paths` → `jsonPaths`), or
 * within a small edit distance (`jsonPath` → `jsonPaths`, `redcat` → `redact`).
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > 64) return undefined; // edit distance is quadratic; nobody misspells a 64-char key
  const norm = normalize(input);
  for (const c of candidates) if (normalize(c) === norm) return c;
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = input.length <= 4 ? 1 : input.length <= 8 ? 2 : 3;
  for (const c of candidates) {
    const d = editDistance(norm, normalize(c));
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}
