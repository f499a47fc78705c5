/**
 * Emergency detection in written contacts (DESIGN.md §3): a customer under any restriction must always be
 * able to report an emergency, so an email or letter that mentions one is routed as an emergency whatever
 * the restriction says. The phrase list lives in `config/emergency-phrases.ts` (its header documents the
 * syntax) and is passed in, so this module stays pure. Recall matters more than precision here: a false
 * alarm costs an agent a minute, a missed gas leak can cost a life.
 *
 * The list is compiled once into word indexes (exact, prefix and one-edit misspelling) and cached by the
 * array's identity; each distinct text word's matches are memoised too (same input, same output, so the
 * function stays pure), and a 2,000-word email is checked in about a millisecond (0.8 ms with the 438-line
 * list of 2026-12-04, on the 2-core machine).
 */
import { foldText, normaliseText, withinOneEdit } from './text-normalise';

/** What `detectEmergency` found. */
export interface EmergencyDetection {
  emergency: boolean;
  /** The phrases (as written in the list) that matched, in list order, each once. */
  matched: string[];
}

/** A phrase that does not follow the syntax of `config/emergency-phrases.ts`. */
export class EmergencyPhraseError extends Error {
  override readonly name = 'EmergencyPhraseError';
  readonly code = 'invalid-emergency-phrase';
  constructor(
    readonly phrase: string,
    reason: string,
  ) {
    super(`Emergency phrase "${phrase}": ${reason}`);
  }
}

/** How many other words a `*` gap may stand for. */
export const PHRASE_GAP_WORDS = 4;
/** How many other words a `**` gap may stand for; it never crosses the end of a sentence. */
export const SENTENCE_GAP_WORDS = 12;
/**
 * A word, or the end of a sentence for `**`: . ! ? ; followed by a space or the end, or a blank line. A
 * single line break is not an end, because letters arrive from OCR with lines broken mid-sentence.
 */
const WORD_OR_SENTENCE_END = /[\p{L}\p{N}]+|[.!?;]+(?=\s|$)|\n[ \t]*\n/gu;
const WORD_START = /^[\p{L}\p{N}]/u;
/** The shortest phrase word that may be marked `~` (also matches when misspelt by one edit). */
export const FUZZY_MIN_LENGTH = 5;
/** Prefix of harmless-phrase entries: an emergency match ending inside one does not count. */
const IGNORE_PREFIX = 'ignore:';

type TermKind = 'exact' | 'prefix' | 'fuzzy';

interface Step {
  /** Ids of the terms any one of which satisfies this word slot. */
  terms: number[];
  /** How many unmatched words may come between the previous slot and this one. */
  gapBefore: number;
  /** Whether this slot must be in the same sentence as the previous one (a `**` gap, or any `ignore:` slot). */
  sameSentence: boolean;
}

interface Phrase {
  source: string;
  steps: Step[];
}

/** A phrase list compiled for matching; opaque outside this module. */
export interface CompiledPhrases {
  readonly phrases: readonly Phrase[];
  readonly ignores: readonly Phrase[];
  /** Normalised word → ids of exact and fuzzy terms spelt exactly so. */
  readonly exact: ReadonlyMap<string, number[]>;
  /** Prefix → ids of prefix terms. */
  readonly prefix: ReadonlyMap<string, number[]>;
  readonly prefixLengths: readonly number[];
  /** Word length → the fuzzy terms of that length, as [id, word]. */
  readonly fuzzyByLength: ReadonlyMap<number, Array<[number, string]>>;
  /** One-word `ignore:` entries: real words that are never read as misspellings. */
  readonly realWords: ReadonlySet<string>;
  /**
   * Text word → the term ids it satisfies, remembered across messages (the vocabulary of mail is small).
   * Bounded, so a stream of novel words cannot grow it without limit.
   */
  readonly wordTerms: Map<string, readonly number[]>;
}

/** Entries kept in a compiled list's word cache before it is cleared. */
const WORD_CACHE_LIMIT = 20_000;
const NO_TERMS: readonly number[] = Object.freeze([]);

const cache = new WeakMap<readonly string[], CompiledPhrases>();

/**
 * Compiles a phrase list (syntax in `config/emergency-phrases.ts`). Cached by array identity, so passing the
 * same frozen list on every call compiles it once.
 *
 * @param phrases - the phrase list
 * @returns the compiled matcher input for {@link detectEmergency}
 * @throws EmergencyPhraseError when an entry is malformed (no words, a gap at an end or doubled, `~` on a
 *   short word or in an `ignore:` entry)
 */
export function compilePhrases(phrases: readonly string[]): CompiledPhrases {
  const cached = cache.get(phrases);
  if (cached) return cached;

  const termIds = new Map<string, number>();
  const termKeys: Array<[TermKind, string]> = [];
  const exact = new Map<string, number[]>();
  const prefix = new Map<string, number[]>();
  const fuzzyByLength = new Map<number, Array<[number, string]>>();
  const push = (index: Map<string, number[]>, key: string, id: number): void => {
    const ids = index.get(key);
    if (!ids) index.set(key, [id]);
    else if (!ids.includes(id)) ids.push(id);
  };
  const termId = (kind: TermKind, word: string): number => {
    const key = `${kind}:${word}`;
    const known = termIds.get(key);
    if (known !== undefined) return known;
    const id = termIds.size;
    termIds.set(key, id);
    termKeys.push([kind, word]);
    if (kind === 'prefix') {
      push(prefix, word, id);
    } else {
      push(exact, word, id);
    }
    if (kind === 'fuzzy') {
      const sameLength = fuzzyByLength.get(word.length);
      if (sameLength) sameLength.push([id, word]);
      else fuzzyByLength.set(word.length, [[id, word]]);
    }
    return id;
  };

  const compiled: Phrase[] = [];
  const ignores: Phrase[] = [];
  const realWords = new Set<string>();
  for (const source of phrases) {
    const trimmed = source.trim();
    const ignore = trimmed.toLowerCase().startsWith(IGNORE_PREFIX);
    const body = ignore ? trimmed.slice(IGNORE_PREFIX.length) : trimmed;
    const steps = parsePhrase(source, body, ignore, termId);
    (ignore ? ignores : compiled).push({ source: trimmed, steps });
    if (ignore && steps.length === 1) {
      for (const id of steps[0]?.terms ?? []) {
        const [kind, word] = termKeys[id] ?? [];
        if (kind === 'exact' && word !== undefined) realWords.add(word);
      }
    }
  }

  const result: CompiledPhrases = {
    phrases: compiled,
    ignores,
    exact,
    prefix,
    prefixLengths: [...new Set([...prefix.keys()].map((p) => p.length))].sort((a, b) => a - b),
    fuzzyByLength,
    realWords,
    wordTerms: new Map(),
  };
  cache.set(phrases, result);
  return result;
}

/**
 * Whether a written contact reports an emergency: any phrase of the list matches the normalised text
 * (lower case, NFKC, accents and punctuation removed), tolerating one-letter misspellings of `~` words,
 * unless the match ends inside an `ignore:` phrase (read within one sentence) whose words it does not all claim
 * (`fire` in "fire door").
 *
 * @param text - the contact's text (subject and body, as the caller chooses)
 * @param phrases - the phrase list, normally `EMERGENCY_PHRASES` from config
 * @returns whether it is an emergency, and which phrases matched
 */
export function detectEmergency(text: string, phrases: readonly string[]): EmergencyDetection {
  const compiled = compilePhrases(phrases);
  const { words, sentenceOf } = sentenceWords(text);
  if (words.length === 0) return { emergency: false, matched: [] };

  // Which terms each word satisfies, and where each term occurs.
  const tokenTerms: Array<readonly number[]> = new Array<readonly number[]>(words.length);
  const positions = new Map<number, number[]>();
  for (let i = 0; i < words.length; i += 1) {
    const ids = termsOf(words[i] ?? '', compiled);
    tokenTerms[i] = ids;
    for (const id of ids) {
      const at = positions.get(id);
      if (at) at.push(i);
      else positions.set(id, [i]);
    }
  }

  const ignored: Array<[number, number]> = [];
  for (const phrase of compiled.ignores) {
    someMatch(phrase, positions, tokenTerms, sentenceOf, (slots) => {
      ignored.push([slots[0] ?? 0, slots[slots.length - 1] ?? 0]);
      return false; // keep looking: every span an ignore phrase covers counts
    });
  }
  // A match does not count when its last word is part of a harmless phrase whose words the match does not
  // all claim with its own words: "fire" in "fire door", "no water" in "no water damage", "ceiling … leak"
  // in "ceiling from an old leak". ('smell * gas fire' does claim all of "gas fire", so it still counts.)
  const counts = (slots: readonly number[]): boolean => {
    const end = slots[slots.length - 1] ?? -1;
    return !ignored.some(([from, to]) => {
      if (end < from || end > to) return false;
      for (let at = from; at <= to; at += 1) if (!slots.includes(at)) return true;
      return false;
    });
  };

  const matched: string[] = [];
  for (const phrase of compiled.phrases) {
    if (matched.includes(phrase.source)) continue;
    if (someMatch(phrase, positions, tokenTerms, sentenceOf, counts)) matched.push(phrase.source);
  }
  return { emergency: matched.length > 0, matched };
}

/** Turns one entry's body into steps, registering its terms. */
function parsePhrase(
  source: string,
  body: string,
  ignore: boolean,
  termId: (kind: TermKind, word: string) => number,
): Step[] {
  // Hyphens, apostrophes and other punctuation inside words behave as they do in text ("self-harm" is
  // two words, "can't" is "cant"); only the syntax characters * / ~ survive to the tokeniser.
  const prepared = body
    .normalize('NFKC')
    .replace(/['\u2018\u2019\u201B\u02BC]/gu, '')
    .replace(/[^\p{L}\p{N}\p{M}*/~\s]+/gu, ' ');
  const tokens = prepared.split(/\s+/u).filter((t) => t !== '');
  const steps: Step[] = [];
  let gap = 0;
  let sameSentence = false;
  for (const token of tokens) {
    if (token === '*' || token === '**') {
      if (steps.length === 0) throw new EmergencyPhraseError(source, 'a gap cannot come first');
      if (gap !== 0) throw new EmergencyPhraseError(source, 'two gaps in a row');
      sameSentence = token === '**';
      gap = sameSentence ? SENTENCE_GAP_WORDS : PHRASE_GAP_WORDS;
      continue;
    }
    const terms: number[] = [];
    for (const alternative of token.split('/')) {
      if (alternative === '') continue;
      const isPrefix = alternative.endsWith('*');
      const isFuzzy = alternative.endsWith('~');
      const word = normaliseText(isPrefix || isFuzzy ? alternative.slice(0, -1) : alternative);
      if (word === '' || word.includes(' ') || /[*~/]/u.test(word)) {
        throw new EmergencyPhraseError(source, `"${alternative}" is not a word`);
      }
      if (isFuzzy && (ignore || word.length < FUZZY_MIN_LENGTH)) {
        throw new EmergencyPhraseError(
          source,
          `"${alternative}": ~ needs a word of ${FUZZY_MIN_LENGTH} letters or more, outside ignore: lines`,
        );
      }
      terms.push(termId(isPrefix ? 'prefix' : isFuzzy ? 'fuzzy' : 'exact', word));
    }
    if (terms.length === 0) throw new EmergencyPhraseError(source, `"${token}" has no words`);
    // A harmless phrase is read within one sentence: "no reason to live. There is…" is not "live there",
    // and "he threatens me. You threatened me with eviction" does not excuse the first threat.
    steps.push({ terms, gapBefore: gap, sameSentence: sameSentence || (ignore && steps.length > 0) });
    gap = 0;
    sameSentence = false;
  }
  if (steps.length === 0) throw new EmergencyPhraseError(source, 'it has no words');
  if (gap !== 0) throw new EmergencyPhraseError(source, 'a gap cannot come last');
  return steps;
}

/** The normalised words of a text, with the index of the sentence each belongs to (for `**`). */
function sentenceWords(text: string): { words: string[]; sentenceOf: number[] } {
  const words: string[] = [];
  const sentenceOf: number[] = [];
  let sentence = 0;
  for (const [token] of foldText(text).matchAll(WORD_OR_SENTENCE_END)) {
    if (WORD_START.test(token)) {
      words.push(token);
      sentenceOf.push(sentence);
    } else {
      sentence += 1;
    }
  }
  return { words, sentenceOf };
}

/** Ids of every term a normalised text word satisfies, through the compiled list's word cache. */
function termsOf(word: string, compiled: CompiledPhrases): readonly number[] {
  const known = compiled.wordTerms.get(word);
  if (known) return known;
  const ids = termsFor(word, compiled);
  if (compiled.wordTerms.size >= WORD_CACHE_LIMIT) compiled.wordTerms.clear();
  compiled.wordTerms.set(word, ids);
  return ids;
}

/** Ids of every term a normalised text word satisfies. */
function termsFor(word: string, compiled: CompiledPhrases): readonly number[] {
  // Most words match nothing, so the list is only allocated on the first hit.
  let ids: number[] | undefined;
  const add = (found: readonly number[] | undefined): void => {
    if (!found) return;
    ids ??= [];
    for (const id of found) if (!ids.includes(id)) ids.push(id);
  };
  add(compiled.exact.get(word));
  // A plural or an apostrophe-s with the apostrophe lost ("pipes", "water's" → "waters") matches the word.
  if (word.length >= 3 && word.endsWith('s') && !word.endsWith('ss')) add(compiled.exact.get(word.slice(0, -1)));
  for (const length of compiled.prefixLengths) {
    if (length > word.length) break;
    add(compiled.prefix.get(word.slice(0, length)));
  }
  // A one-edit misspelling is at most one letter longer or shorter; digits never belong to one.
  if (word.length >= FUZZY_MIN_LENGTH - 1 && !compiled.realWords.has(word) && !/\p{N}/u.test(word)) {
    for (let length = word.length - 1; length <= word.length + 1; length += 1) {
      for (const [id, target] of compiled.fuzzyByLength.get(length) ?? []) {
        if (withinOneEdit(word, target)) add([id]);
      }
    }
  }
  return ids ?? NO_TERMS;
}

/**
 * Whether the phrase matches anywhere in a way `accept` agrees to (it sees the positions the phrase's words
 * took). Starts only where the first slot's terms occur, so phrases with absent first words cost nothing.
 */
function someMatch(
  phrase: Phrase,
  positions: ReadonlyMap<number, number[]>,
  tokenTerms: ReadonlyArray<readonly number[]>,
  sentenceOf: readonly number[],
  accept: (slots: readonly number[]) => boolean,
): boolean {
  const first = phrase.steps[0];
  if (!first) return false;
  const slots: number[] = [];
  for (const id of first.terms) {
    for (const start of positions.get(id) ?? []) {
      if (matchFrom(phrase.steps, 0, start, tokenTerms, sentenceOf, slots, accept)) return true;
    }
  }
  return false;
}

/**
 * Whether the steps from `stepIndex` on match with step `stepIndex` at `at`, trying every placement the gaps
 * allow (they are short, so backtracking is cheap). `slots` is a shared stack of the positions taken so far.
 */
function matchFrom(
  steps: readonly Step[],
  stepIndex: number,
  at: number,
  tokenTerms: ReadonlyArray<readonly number[]>,
  sentenceOf: readonly number[],
  slots: number[],
  accept: (slots: readonly number[]) => boolean,
): boolean {
  const step = steps[stepIndex];
  const here = tokenTerms[at];
  if (!step || !here || !step.terms.some((id) => here.includes(id))) return false;
  slots.push(at);
  let found = false;
  const next = steps[stepIndex + 1];
  if (!next) {
    found = accept(slots);
  } else {
    const last = Math.min(tokenTerms.length - 1, at + 1 + next.gapBefore);
    for (let candidate = at + 1; candidate <= last && !found; candidate += 1) {
      if (next.sameSentence && sentenceOf[candidate] !== sentenceOf[at]) break;
      found = matchFrom(steps, stepIndex + 1, candidate, tokenTerms, sentenceOf, slots, accept);
    }
  }
  slots.pop();
  return found;
}
