/**
 * Finding the customer's reference in a letter, so that a scanned letter from the bureau can be matched to
 * the customer (DESIGN.md §4: by the reference in the subject or the letter's text).
 *
 * People and OCR write references loosely — "C12345", "Ref: C 12345", "Customer reference C-12345" — so
 * separators between the letters and the digits are tolerated. Because a wrong match would apply someone
 * else's restriction, the search is careful rather than eager:
 * - references next to a label ("ref", "reference", "customer", "account", "tenancy") win over the rest;
 * - a reference split by a space ("C 12345") counts only next to such a label, since "Block C 123" is an
 *   address, not a reference;
 * - two different references (both labelled, or both unlabelled) make the letter ambiguous: nothing is
  returned and a person decides.
 */

/** Customer ids such as `C123` or `C12345` (DESIGN.md's examples), any case, as a whole token. */
export const DEFAULT_CUSTOMER_REFERENCE = /C\d{3,10}/i;

/** A label that introduces a reference, close before it on the same line. */
const LABEL_BEFORE = /\b(?:ref(?:erence)?|customer|account|tenancy|tenant)\b[^\n]{0,25}$/i;
/** Letters, then a hyphen, dash, dot or slash, then digits: joined anywhere. */
const PUNCTUATION_JOIN = /\b([A-Za-z]{1,3})[-\u2010-\u2015./]{1,2}(?=\d)/g;
/** Letters, then spaces (and maybe punctuation), then digits: joined only for labelled matches. */
const SPACE_JOIN = /\b([A-Za-z]{1,3})[ \t\-\u2010-\u2015./]{1,3}(?=\d)/g;

interface Candidate {
  value: string;
  labelled: boolean;
}

function globalOf(pattern: RegExp | string): RegExp {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  const flags = typeof pattern === 'string' ? '' : pattern.flags.replace(/[gy]/g, '');
  return new RegExp(source, `${flags}g`);
}

const isWordChar = (ch: string | undefined): boolean => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

function candidates(text: string, re: RegExp): Candidate[] {
  const found: Candidate[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    // A reference is a whole token: "ABC123456" does not contain the reference C123456.
    if (isWordChar(text[m.index - 1]) || isWordChar(text[m.index + m[0].length])) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    found.push({ value: m[0], labelled: LABEL_BEFORE.test(before) });
  }
  return found;
}

/**
 * The customer reference in a text, or `undefined` when there is none or it is ambiguous.
 *
 * @param pattern what a reference looks like (a RegExp, or its source as a string); default
 *   {@link DEFAULT_CUSTOMER_REFERENCE}. It is matched as a whole token. When it is case-insensitive the
 *   result is upper-cased, the canonical form of ids.
 * @returns the reference without separators ("Ref: C-12345" → "C12345").
 */
export function findCustomerReference(text: string, pattern: RegExp | string = DEFAULT_CUSTOMER_REFERENCE): string | undefined {
  const found = findCustomerReferences(text, pattern);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * Every customer reference a text gives, by the same rules as {@link findCustomerReference}: the labelled
 * ones when there are any, else the unlabelled ones; distinct, sorted. More than one means the text is
 * ambiguous — which the caller can say (`ambiguous-identity`) rather than treat as no reference at all.
 */
export function findCustomerReferences(text: string, pattern: RegExp | string = DEFAULT_CUSTOMER_REFERENCE): string[] {
  const re = globalOf(pattern);
  const canonical = (c: Candidate): string => (re.flags.includes('i') ? c.value.toUpperCase() : c.value);
  // Joining on spaces too finds every labelled reference, however it was split.
  const labelled = new Set(candidates(text.replace(SPACE_JOIN, '$1'), re).filter((c) => c.labelled).map(canonical));
  const found = labelled.size > 0 ? labelled : new Set(candidates(text.replace(PUNCTUATION_JOIN, '$1'), re).map(canonical));
  return [...found].sort();
}
