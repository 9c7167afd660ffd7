/**
 * BuildKit's "did you mean X?" choice: the first candidate at edit distance < 3 with no closer
 * one after it; an exact match means no hint. Case-insensitive matching returns the hint in the
 * case of the input when that was all lower or all upper.
 */
export function suggest(word: string, candidates: readonly string[], caseSensitive = false): string | undefined {
  const w = caseSensitive ? word : word.toLowerCase();
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    const opt = caseSensitive ? c : c.toLowerCase();
    if (opt === w) return undefined;
    const d = distance(w, opt);
    if (d < bestDist) {
      best = caseSensitive ? opt : matchCase(opt, word);
      bestDist = d;
    }
  }
  return best;
}

function matchCase(value: string, orig: string): string {
  if (orig === orig.toLowerCase()) return value.toLowerCase();
  if (orig === orig.toUpperCase()) return value.toUpperCase();
  return value;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
