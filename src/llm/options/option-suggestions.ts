/**
 * The "did you mean" of an unknown option key: the closest known key of the same level, or a key
 * that belongs at another level (`retry` at the top → `defaults.retry`), when it is close enough
 * to be a typo (at most one edit per three characters of the longer name, at least one; case
 * ignored) or an abbreviation of it.
 *
 * @returns the suggestion, relative to the level checked, or `undefined` when nothing is close
 * @example
 * suggestKey('maxRetry', ['maxRetries', 'baseDelayMs'], {}) // 'maxRetries'
 */
export function suggestKey(
  key: string,
  known: readonly string[],
  elsewhere: Readonly<Record<string, string>>,
): string | undefined {
  const candidates: Array<[name: string, suggestion: string]> = [
    ...known.map((name): [string, string] => [name, name]),
    ...Object.entries(elsewhere),
  ];
  const typed = key.toLowerCase();
  let best: { suggestion: string; distance: number } | undefined;
  for (const [name, suggestion] of candidates) {
    const known = name.toLowerCase();
    const distance = editDistance(typed, known);
    const allowed = Math.max(1, Math.floor(Math.max(typed.length, known.length) / 3));
    // An abbreviation (`flushMs` for `flushIntervalMs`) counts as close whatever its distance.
    const close = distance <= allowed || abbreviates(typed, known);
    if (close && (best === undefined || distance < best.distance)) best = { suggestion, distance };
  }
  return best?.suggestion;
}

/** `short` keeps `long`'s first three letters and the rest of its letters in order. */
function abbreviates(short: string, long: string): boolean {
  if (short.length < 4 || short.slice(0, 3) !== long.slice(0, 3)) return false;
  let at = 0;
  for (const char of long) if (char === short[at]) at++;
  return at === short.length;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
 * two neighbours (`retyr` → `retry` is one edit) each cost 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j]!;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return at(a.length, b.length);
}
