/**
 * "Did you mean" for configuration names: the candidate closest to a name that was not found, when it is
 * close enough to be a typo rather than a different name.
 */

/** Lower case without `_`, `-` and `.`, so `group_order`, `GroupOrder` and `groupOrder` compare equal. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The candidate most like `name`, or undefined when none is close: equal but for case, `_`/`-`/`.`, or
 * within an edit distance of a third of the name's length (at least 1, at most 3). Ties go to the first
 * candidate, so pass candidates in the order the user wrote them.
 *
 * @example
 * closestName('paygo', ['ptu', 'payg']) // → 'payg'
 * closestName('group_order', ['groupOrder', 'backends']) // → 'groupOrder'
 * closestName('gold', ['interactive', 'batch']) // → undefined
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const target = normalize(name);
  const limit = Math.min(3, Math.max(1, Math.floor(target.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const d = distance(target, normalize(candidate));
    if (d < bestDistance && d <= limit) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * ` (did you mean "x"?)` when a close candidate exists, else ''; for appending to a message.
 *
 * @example
 * `unknown pool "mian"${didYouMean('mian', ['main'])}` // → 'unknown pool "mian" (did you mean "main"?)'
 */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const close = closestName(name, candidates);
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
}

/** `"a", "b", "c"` — a short list of names for a message (the first `max`, then `…`). */
export function nameList(names: Iterable<string>, max = 8): string {
  const all = [...names];
  const shown = all.slice(0, max).map((n) => `"${n}"`);
  return all.length > max ? `${shown.join(', ')}, …` : shown.join(', ');
}
