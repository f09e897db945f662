/**
 * "Did you mean" hints, shared by the SDK and the CLI. A leaf module with no
 * imports, so SDK files that end up in user bundles may use it.
 * @module
 */

/** Edit distance between two short strings (for "did you mean" hints). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The candidate closest to `word`, if any is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best;
  // A truncated or extended name ("maxRetry" for "maxRetries") is a likely typo too.
  const w = word.toLowerCase();
  for (const c of candidates) {
    const l = c.toLowerCase();
    if (Math.min(w.length, l.length) >= 4 && (l.startsWith(w) || w.startsWith(l))) return c;
  }
  return undefined;
}

/** `: did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hit = closest(word, candidates);
  return hit ? `: did you mean "${hit}"?` : "";
}
