/** "Did you mean" suggestions for unknown configuration keys. */

/** Edit distance (insertions, deletions, substitutions) between `a` and `b`. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** `pluginBasePort`, `plugin-base-port` and `PLUGIN_BASE_PORT` all normalise to `pluginbaseport`. */
function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, "");
}

/**
 * The known key closest to `key`: one that differs only in case or separators (camelCase,
 * dashes), else the nearest within an edit distance of 2. Undefined when none is close.
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  const normalised = normalise(key);
  const sameWord = known.find((candidate) => normalise(candidate) === normalised);
  if (sameWord !== undefined) return sameWord;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = levenshtein(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
