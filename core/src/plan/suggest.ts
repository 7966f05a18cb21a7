/** "Did you mean" hints for misspelt names (step ids, tools, keys, schemas). */

/** ` (did you mean "x"?)` for the closest candidate within a small edit distance, else "". */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closest(name, candidates);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  // Short names get a tighter bound so "a" does not suggest every other one-letter id.
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 2)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
