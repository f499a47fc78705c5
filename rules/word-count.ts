/**
 * Word counting for the `word-limit` measure (policy: a customer may be asked to keep written contact to a
 * set length). Only what the customer wrote this time counts: quoted replies, forwarded threads and
 * delimited signatures are removed first, so replying to a long thread does not breach a limit.
 */

/** Outlook's and many other clients' reply separator, and forwarded-message banners. */
const ORIGINAL_MESSAGE = /^\s*-{2,}\s*(?:original message|forwarded message|neges wreiddiol)\s*-{2,}\s*$/iu;
const APPLE_FORWARD = /^\s*begin forwarded message:\s*$/iu;
/** Outlook on the web draws a line of underscores above the quoted header block. */
const UNDERSCORE_RULE = /^\s*_{10,}\s*$/u;
/** RFC 3676 §4.3 signature delimiter "-- " (many clients drop the trailing space, so it is optional). */
const SIGNATURE_DELIMITER = /^-- ?$/u;
/** Gmail/Apple attribution "On <date>, <name> wrote:" (English and Welsh), possibly wrapped over two lines. */
const ATTRIBUTION_END = /\b(?:wrote|ysgrifennodd)\s*:\s*$/iu;
const ATTRIBUTION_START = /^\s*(?:on|ar)\s+\S/iu;
/**
 * A quoted header block: "From:" then, within a few lines, "Sent:" (Outlook) or "Date:" (others) and
 * "To:"/"Subject:". "From:/To:/Date:" is also how a typed letter may open, so a "Date:" block only cuts once
 * the sender has written something above it; Outlook's "Sent:" always does.
 */
const HEADER_FROM = /^\s*\*?(?:from|oddi wrth)\s*:\*?\s*\S/iu;
const HEADER_SENT = /^\s*\*?(?:sent|anfonwyd)\s*:/iu;
const HEADER_DATE = /^\s*\*?(?:date|dyddiad)\s*:/iu;
const HEADER_TO = /^\s*\*?(?:to|subject|at|pwnc)\s*:/iu;
const HEADER_WINDOW = 6;
/** A line quoted by the mail client. */
const QUOTED = /^\s*>/u;
/** "Sent from my iPhone" and other mobile footers the sender did not type. */
const DEVICE_FOOTER =
  /^\s*(?:sent from (?:my )?(?:iphone|ipad|android(?: phone| device)?|samsung(?: galaxy)?[\w\s]{0,20}|galaxy[\w\s]{0,20}|huawei[\w\s]{0,20}|mobile(?: device)?|phone|smartphone|blackberry[\w\s]{0,20}|outlook(?: for (?:ios|android))?|yahoo mail(?: for (?:iphone|android))?|mail for windows(?: 1[01])?|the gmail app)|get outlook for (?:ios|android)|anfonwyd o.{0,30})\.?\s*$/iu;

/** Joins a word run across a hyphen or non-breaking hyphen ("well-known" is one word). */
const HYPHENS = new Set(['-', '\u2010', '\u2011']);
/**
 * Emoji count as a word each (a message of 600 emoji is not empty); symbols such as © and ™ that are merely
 * pictographic-capable do not, unless the emoji variation selector asks for emoji presentation.
 */
const PICTOGRAPHIC = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;

// Constructed once: segmenters are expensive to create and immutable to use. The locale only tunes
// dictionary-based scripts (CJK, Thai), which ICU segments by its own dictionaries regardless.
const wordSegmenter = new Intl.Segmenter('en-GB', { granularity: 'word' });

/**
 * The part of a message its sender wrote this time: quoted (`>`) lines are dropped, and everything from the
 * first of these markers on is cut: an "On <date>, <name> wrote:" attribution (one or two lines), Outlook's
 * "-----Original Message-----" or "From: / Sent: / To: / Subject:" header block, a line of underscores, a
 * forwarded-message banner, or an RFC 3676 signature delimiter ("-- "). "Sent from my iPhone"-style footers
 * are dropped; ordinary sign-offs ("Kind regards, Sam") are kept, since the customer typed them.
 *
 * @param text - the plain-text body of a message
 * @returns the authored text, lines joined with "\n"
 */
export function authoredText(text: string): string {
  const lines = text.replace(/\r\n?/gu, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (QUOTED.test(line)) continue;
    if (isCutMarker(lines, i, kept.some((l) => l.trim() !== ''))) break;
    if (DEVICE_FOOTER.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}

/** Whether line `i` starts the quoted or signature part of the message. */
function isCutMarker(lines: readonly string[], i: number, authoredAbove: boolean): boolean {
  const line = lines[i] ?? '';
  if (SIGNATURE_DELIMITER.test(line) || ORIGINAL_MESSAGE.test(line) || APPLE_FORWARD.test(line)) return true;
  if (UNDERSCORE_RULE.test(line)) return true;
  if (ATTRIBUTION_START.test(line)) {
    if (ATTRIBUTION_END.test(line) && line.length <= 300) return true;
    // Gmail wraps long attributions: "On Mon, 3 Jun 2024 at 10:00, Jane Smith <" / "jane@example.org> wrote:".
    const next = lines[i + 1];
    if (next !== undefined && !QUOTED.test(next) && ATTRIBUTION_END.test(next) && line.length + next.length <= 300) {
      return true;
    }
  }
  if (HEADER_FROM.test(line)) {
    const window = lines.slice(i + 1, i + 1 + HEADER_WINDOW).map((l) => l.replace(/^\s*>\s?/u, ''));
    const dated = window.some((l) => HEADER_SENT.test(l)) || (authoredAbove && window.some((l) => HEADER_DATE.test(l)));
    if (dated && window.some((l) => HEADER_TO.test(l))) return true;
  }
  return false;
}

/**
 * Counts the words of {@link authoredText}: Unicode word segmentation (`Intl.Segmenter`), so accented and
 * Welsh words, numbers ("3.5", "1,000") and Chinese or Japanese text (segmented by dictionary) count as a
 * reader would; hyphenated words count once ("well-known"); standalone punctuation counts nothing; each
 * emoji counts as one word.
 *
 * @param text - the plain-text body of a message
 * @returns the number of words the sender wrote (0 or more)
 */
export function countWords(text: string): number {
  let count = 0;
  // Whitespace always ends a word (and a hyphen join), so counting chunk by chunk is exact. Most chunks are
  // plain words with at most some punctuation around them, counted without the segmenter: V8's
  // Intl.Segmenter costs microseconds per segment (about 15 ms for a 10 KB letter), so it only sees the
  // chunks that need its rules (hyphens, other scripts, emoji, numbers with separators).
  for (const chunk of authoredText(text).split(/\s+/)) {
    if (chunk === '') continue;
    const core = chunk.replace(EDGE_PUNCTUATION, '');
    if (core === '') {
      if (PICTOGRAPHIC.test(chunk)) count += segmentedWords(chunk);
    } else if (PLAIN_WORD.test(core)) {
      count += 1;
    } else {
      count += segmentedWords(chunk);
    }
  }
  return count;
}

/** Punctuation that is never part of a word and never joins two, stripped from a chunk's edges. */
const EDGE_PUNCTUATION = /^[()[\]{}"“”‘,;:!?.]+|[()[\]{}"“”’,;:!?.]+$/g;
/** A chunk the segmenter would count as exactly one word: letters and digits, or one inner apostrophe. */
const PLAIN_WORD = /^(?:[A-Za-z0-9]+|[A-Za-z]+['’][A-Za-z]+)$/;

/** Words in one whitespace-free chunk, by the Unicode rules (UAX #29), hyphenated words counting once. */
function segmentedWords(chunk: string): number {
  let count = 0;
  // True while the previous segment was a word, or a word followed directly by a hyphen.
  let inWord = false;
  let afterHyphen = false;
  for (const { segment, isWordLike } of wordSegmenter.segment(chunk)) {
    if (isWordLike) {
      // "well" "-" "known": the second part continues the first word.
      if (!afterHyphen) count += 1;
      inWord = true;
      afterHyphen = false;
    } else if (inWord && !afterHyphen && HYPHENS.has(segment)) {
      afterHyphen = true;
    } else {
      if (PICTOGRAPHIC.test(segment)) count += countPictographs(segment);
      inWord = false;
      afterHyphen = false;
    }
  }
  return count;
}

/** Emoji graphemes in a non-word segment (a flag, a family or a skin-toned hand is one each). */
function countPictographs(segment: string): number {
  let n = 0;
  for (const { segment: grapheme } of graphemeSegmenter.segment(segment)) if (PICTOGRAPHIC.test(grapheme)) n += 1;
  return n;
}

const graphemeSegmenter = new Intl.Segmenter('en-GB', { granularity: 'grapheme' });
