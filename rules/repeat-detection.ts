/**
 * Repeat detection for the `new-issues-only` measure (policy: once an issue has had a full response, the
 * customer may be told we will not respond again to the same issue). A new written contact is compared with
 * the earlier contacts that received a response; a close enough match is reported with that response's
 * reference so the acknowledgement can point to it. The comparison is Jaccard similarity of word shingles:
 * symmetric, deterministic, cheap, and explainable to a customer or an ombudsman ("these words and phrases
 * recur"), which a learned model would not be.
 */
import type { RespondedContact } from './types';
import { lightStem, normalisedWords } from './text-normalise';
import { authoredText } from './word-count';

/**
 * Similarity at or above which a contact is treated as a repeat. Chosen from the table in
 * `test/unit/repeat-detection.test.ts`: reworded, reordered and re-greeted versions of one complaint score
 * 0.38 or more, while different issues from the same customer (same greeting, address and sign-off) score
 * 0.18 or less. 0.35 sits in that gap nearer the repeats, because wrongly refusing a new issue is the worse
 * error: a borderline contact is treated as new.
 */
export const DEFAULT_REPEAT_THRESHOLD = 0.35;

/**
 * Words too common to carry meaning; removed so that "the"/"and"/"I am writing" do not make unrelated letters
 * look alike. Kept small on purpose: negations ("not", "no") and quantities stay, because they change what
 * an issue is.
 */
const STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'about', 'again', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'been', 'but', 'by',
  'can', 'could', 'dear', 'did', 'do', 'does', 'for', 'from', 'had', 'has', 'have', 'he', 'hello', 'her', 'hi',
  'him', 'his', 'i', 'if', 'im', 'in', 'into', 'is', 'it', 'its', 'ive', 'just', 'me', 'my', 'of', 'on', 'or',
  'our', 'please', 'regards', 'she', 'sincerely', 'so', 'that', 'the', 'their', 'them', 'then', 'there',
  'theres', 'these', 'they', 'this', 'those', 'to', 'us', 'was', 'we', 'were', 'what', 'when', 'which', 'who',
  'will', 'with', 'would', 'you', 'your', 'yours', 'faithfully', 'thanks', 'thank', 'kind', 'best', 'madam',
  'sir', 'writing', 'write', 'email', 'letter', 'still', 'now', 'some', 'very', 'really', 'get', 'got',
  // Request formulas every contact shares ("please can someone come and fix it asap").
  'fix', 'sort', 'someone', 'come', 'asap', 'possible', 'soon', 'need', 'want', 'like', 'know', 'let', 'tell',
  'ask', 'asked', 'look',
]);

/** A salutation line: "Dear …" (always one) or "To whom it may concern". */
const SALUTATION = /^\s*(?:(?:dear|annwyl)\b.{0,50}|to whom it may concern[\s,:]*)$/iu;
/** Words that open a greeting line ("Hi Jo,", "Good morning team", "Bore da"). */
const GREETING_OPENERS = /^\s*(?:hi|hello|hiya|hey|good morning|good afternoon|good evening|bore da|prynhawn da)\b/iu;
/** What may follow a greeting opener on a greeting line: a few names or these words. */
const GREETING_FILLERS: ReadonlySet<string> = new Set(['there', 'all', 'team', 'everyone', 'sir', 'madam', 'or']);
/** A sign-off line ("Kind regards," or "Regards, Mrs Patel"), after which come names, addresses, phones. */
const SIGN_OFF =
  /^\s*(?:(?:kind|best|warm|warmest|many)?\s*(?:regards|wishes)|(?:yours\s+)?(?:sincerely|faithfully|truly)|(?:many\s+)?thanks(?: again)?|thank you|thanks in advance|cheers|diolch(?: yn fawr)?|yn gywir|cofion)\b[\s.!]*(?:,[\s\p{L}.'-]{0,40})?$/iu;
/** How far from the end a sign-off may be (a long address block is still a signature). */
const SIGN_OFF_WINDOW = 12;
/** Shingle sizes that make up a text's fingerprint for {@link similarity}. */
const FINGERPRINT_SIZES = [1, 2, 3] as const;

/**
 * The issue a message is about: what the sender wrote ({@link authoredText}) without an opening greeting or
 * the sign-off and whatever follows it (name, address, phone), because a customer's letters all share those
 * and they would make different issues look alike.
 */
function issueText(text: string): string {
  const lines = authoredText(text).split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first >= 0 && isGreeting(lines[first] ?? '')) lines.splice(first, 1);
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - SIGN_OFF_WINDOW); i -= 1) {
    if (SIGN_OFF.test(lines[i] ?? '')) {
      lines.length = i;
      break;
    }
  }
  return lines.join('\n');
}

/**
 * Whether a line is only a greeting: a salutation, or an opener followed by at most three names or filler
 * words ("Hi Jo,", "Hello there"). "Hi the tap is dripping" is not one: it carries the issue.
 */
function isGreeting(line: string): boolean {
  if (SALUTATION.test(line)) return true;
  const opener = GREETING_OPENERS.exec(line);
  if (!opener) return false;
  const rest = line.slice(opener[0].length).replace(/[,!.:\s]+$/u, '').trim();
  if (rest === '') return true;
  const words = rest.split(/[\s,]+/u);
  return words.length <= 3 && words.every((w) => GREETING_FILLERS.has(w.toLowerCase()) || /^\p{Lu}/u.test(w));
}

/** A text's fingerprint: its 1-, 2- and 3-word shingles together (they cannot collide: sizes differ). */
function fingerprint(text: string): Set<string> {
  const result = new Set<string>();
  for (const size of FINGERPRINT_SIZES) for (const shingle of shingles(text, size)) result.add(shingle);
  return result;
}

/** The content words of a text: normalised, stop words removed, lightly stemmed. */
function contentWords(text: string): string[] {
  return normalisedWords(text)
    .filter((word) => !STOP_WORDS.has(word))
    .map(lightStem);
}

/**
 * The set of `size`-word shingles of a text, after normalisation (lower case, punctuation stripped), with
 * stop words removed and light stemming (so "leaking"/"leaks" agree). A text with fewer content words than
 * `size` yields its content words as one-word shingles, so short messages still compare.
 *
 * @param text - any text (not stripped of quotes: see {@link similarity})
 * @param size - words per shingle, at least 1; default 3
 * @returns the shingles, each the words joined by a space
 */
export function shingles(text: string, size = 3): Set<string> {
  const words = contentWords(text);
  const width = Math.max(1, Math.floor(size));
  if (words.length < width) return new Set(words);
  const result = new Set<string>();
  for (let i = 0; i + width <= words.length; i += 1) result.add(words.slice(i, i + width).join(' '));
  return result;
}

/**
 * How alike two contacts are: Jaccard similarity |A∩B| / |A∪B| of their shingle sets, where a text's set holds
 * its 1-, 2- and 3-word shingles together. Trigrams alone reward only verbatim repeats, words alone reward any
 * letter about the same room; together a reworded or reordered complaint still scores high while a different
 * issue in the same words does not (see the table in the tests). Only the issue is compared: what the sender
 * wrote ({@link authoredText}, so a reply cannot match through its quote), without greeting or sign-off block.
 * Symmetric, deterministic, in [0, 1], and 1 for identical texts. Texts with no content words at all (only
 * stop words, punctuation or emoji) compare on their normalised words, and texts with none of those either
 * are similar only when exactly equal.
 *
 * @param a - one text
 * @param b - another
 * @returns the similarity, from 0 (nothing shared) to 1 (same shingles)
 */
export function similarity(a: string, b: string): number {
  const issueA = issueText(a);
  const issueB = issueText(b);
  const setA = fingerprint(issueA);
  const setB = fingerprint(issueB);
  if (setA.size > 0 || setB.size > 0) return jaccard(setA, setB);
  const wordsA = new Set(normalisedWords(issueA));
  const wordsB = new Set(normalisedWords(issueB));
  if (wordsA.size > 0 || wordsB.size > 0) return jaccard(wordsA, wordsB);
  return a === b ? 1 : 0;
}

/**
 * The earlier responded-to contact that a new text repeats, if any: the best {@link similarity} at or above
 * `threshold`; on equal scores the most recent response (latest `respondedAt`, then the first listed).
 * A text with no content words is never a repeat.
 *
 * @param text - the new contact's text
 * @param responded - earlier contacts that received a response
 * @param threshold - the minimum similarity, normally {@link DEFAULT_REPEAT_THRESHOLD}
 * @returns the matched contact and its score, or undefined when nothing reaches the threshold
 */
export function findRepeat(
  text: string,
  responded: readonly RespondedContact[],
  threshold: number,
): { contact: RespondedContact; score: number } | undefined {
  const own = fingerprint(issueText(text));
  if (own.size === 0) return undefined;
  let best: { contact: RespondedContact; score: number } | undefined;
  for (const contact of responded) {
    const score = jaccard(own, fingerprint(issueText(contact.text)));
    if (score < threshold) continue;
    if (
      !best ||
      score > best.score ||
      (score === best.score && Date.parse(contact.respondedAt) > Date.parse(best.contact.respondedAt))
    ) {
      best = { contact, score };
    }
  }
  return best;
}

/** |A∩B| / |A∪B|; 0 when both are empty. */
function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const item of small) if (large.has(item)) shared += 1;
  return shared / (a.size + b.size - shared);
}
