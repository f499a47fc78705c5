/**
 * Shared text helpers for the text rules (emergency phrases, repeat detection): one normalisation so that a
 * phrase, an email and a letter's OCR text are all compared in the same form.
 */

/** Apostrophes of every kind a keyboard, phone or word processor produces. */
const APOSTROPHES = /['\u2018\u2019\u201B\u02BC\u0060\u00B4]/gu;
/** Combining marks left after canonical decomposition (the accents of `café`, `dŵr`). */
const COMBINING_MARKS = /\p{M}+/gu;
/** Text that Unicode normalisation and accent folding would leave unchanged. */
// eslint-disable-next-line no-control-regex -- the ASCII range is the point
const ASCII_ONLY = /^[\u0000-\u007f]*$/u;
/** Anything that is neither a letter nor a digit separates words. */
const NON_WORD = /[^\p{L}\p{N}]+/gu;

/**
 * A text folded for comparison but with its punctuation still in place: Unicode NFKC (full-width and
 * ligature forms become plain letters), lower case, accents removed, apostrophes deleted (`can't` →
 * `cant`, `neighbour's` → `neighbours`, because customers type them or leave them out at random).
 *
 * @param text - any text
 * @returns the folded text
 */
export function foldText(text: string): string {
  // Plain ASCII (most mail) needs no Unicode folding; skipping it halves the cost on long emails.
  if (ASCII_ONLY.test(text)) return text.toLowerCase().replace(APOSTROPHES, '');
  return text.normalize('NFKC').toLowerCase().normalize('NFD').replace(COMBINING_MARKS, '').replace(APOSTROPHES, '');
}

/**
 * The canonical comparison form of a text: {@link foldText}, then every run of punctuation, symbols or
 * whitespace collapsed to one space, trimmed.
 *
 * @param text - any text
 * @returns the normalised text; words separated by single spaces
 */
export function normaliseText(text: string): string {
  return foldText(text).replace(NON_WORD, ' ').trim();
}

/**
 * The words of {@link normaliseText}.
 *
 * @param text - any text
 * @returns the normalised words in order (empty when the text has none)
 */
export function normalisedWords(text: string): string[] {
  const normalised = normaliseText(text);
  return normalised === '' ? [] : normalised.split(' ');
}

/**
 * Whether two words are at most one edit apart, counting an insertion, a deletion, a substitution or a
 * swap of two adjacent letters as one edit (optimal-string-alignment Damerau–Levenshtein ≤ 1). A direct
 * O(n) check rather than the full dynamic programme, because it runs for every candidate word of every
 * message.
 *
 * @param a - a word
 * @param b - another word
 * @returns true when `a` and `b` are equal or one edit apart
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let start = 0;
  while (start < la && start < lb && a[start] === b[start]) start += 1;
  if (la === lb) {
    // One substitution: the rest after the first difference must agree.
    if (a.slice(start + 1) === b.slice(start + 1)) return true;
    // One adjacent swap: `ab…` against `ba…`, then identical.
    return (
      start + 1 < la && a[start] === b[start + 1] && a[start + 1] === b[start] && a.slice(start + 2) === b.slice(start + 2)
    );
  }
  // One insertion or deletion: skip one letter of the longer word at the first difference.
  return la > lb ? a.slice(start + 1) === b.slice(start) : a.slice(start) === b.slice(start + 1);
}

/**
 * A deliberately light English stemmer for similarity (not for display): folds the commonest inflections so
 * that `leaking`/`leaks`/`leaked` and `repairs`/`repair` compare equal. Words shorter than five letters
 * are left alone, since stripping them mostly does harm (`gas`, `bus`, `is`).
 *
 * @param word - a normalised word
 * @returns its stem
 */
export function lightStem(word: string): string {
  if (word.length < 5) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ing') && word.length >= 6) return word.slice(0, -3);
  if (word.endsWith('ed') && word.length >= 5) return word.slice(0, -2);
  if (word.endsWith('es') && /(?:ss|sh|ch|x|z)es$/u.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}
