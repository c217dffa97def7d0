// "did you mean ...?" for misspelt keys, directives and variables.
import { closest, distance } from 'fastest-levenshtein';

/** The candidate closest to `word`, when it is close enough to be a plausible misspelling. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word.length === 0) return undefined;
  const lower = word.toLowerCase();
  const sameButCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameButCase) return sameButCase;
  const best = closest(lower, [...candidates]);
  const allowed = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  if (distance(lower, best.toLowerCase()) <= allowed) return best;
  return candidates.find((c) => isSwap(lower, c.toLowerCase()));
}

/** `nmae` → `name`: two neighbouring letters swapped, the commonest typo. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff = [...a].flatMap((ch, i) => (ch === b[i] ? [] : [i]));
  const [i, j] = diff;
  return diff.length === 2 && i !== undefined && j === i + 1 && a[i] === b[j] && a[j] === b[i];
}

/** ` — did you mean 'x'?` or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s === undefined ? '' : ` — did you mean '${s}'?`;
}
