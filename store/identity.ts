/**
 * Identity normalisation: the one place that decides when two phone numbers or two email addresses are
 * "the same" (DESIGN.md §2). Everything that is written to or looked up in the identity index goes
 * through these functions, so a number stored as `07700 900123` matches a caller presenting
 * `+447700900123`.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** Caller-ID strings carriers and Twilio send when the number is withheld (compared lower-cased). */
const WITHHELD_WORDS = new Set(['', 'anonymous', 'restricted', 'unknown', 'private', 'unavailable', 'withheld', 'blocked']);

/**
 * Twilio spells a withheld caller ID on a phone keypad: +266696687 (ANONYMOUS), +86282452253 (UNAVAILABLE),
 * +8656696 (UNKNOWN), +2562533 (BLOCKED), +7378742833 (RESTRICTED). Some of these are *possible* numbers
 * (+86… parses as a Chinese number), so they must be caught before parsing, by digits.
 */
const WITHHELD_KEYPAD_DIGITS = new Set(['266696687', '86282452253', '8656696', '2562533', '7378742833']);

/**
 * Whether a caller ID means "no number": empty, a withheld word in any case, or one of Twilio's keypad
 * spellings. Such an identity never matches a customer.
 * @param raw the caller ID as received (may be undefined or null when the carrier sent nothing).
 */
export function isWithheldCallerId(raw: string | null | undefined): boolean {
  if (raw === undefined || raw === null) return true;
  const trimmed = raw.trim();
  if (WITHHELD_WORDS.has(trimmed.toLowerCase())) return true;
  // Only digit-and-punctuation forms can be keypad spellings; a word like "private2" is not a number.
  if (!/^[+\d\s().-]+$/.test(trimmed)) return false;
  return WITHHELD_KEYPAD_DIGITS.has(trimmed.replace(/\D/g, ''));
}

/**
 * Normalises a phone number to E.164 (`+447700900123`), reading national formats in `region`
 * (`07700 900123`, `0044 7700 900123`, `(07700) 900-123` and `tel:` URIs all give the same result).
 *
 * A number is accepted when it is *possible* (right length for its country), not only when it is in a
 * range the bundled metadata lists as allocated: the metadata lags Ofcom's allocations, and a customer
 * whose new number were rejected would silently slip past their restriction. Ofcom's drama ranges
 * (07700 900xxx) are therefore accepted too.
 * @param raw the number as typed or received.
 * @param region ISO 3166 country whose national format applies to numbers without a `+` (default `GB`).
 * @returns the E.164 string, or `undefined` when withheld or not a possible number.
 */
export function normalisePhone(raw: string, region = 'GB'): string | undefined {
  if (isWithheldCallerId(raw)) return undefined;
  const cleaned = raw.trim().replace(/^tel:/i, '');
  // Letters (other than a leading tel:) mean this is not a number; libphonenumber would read vanity
  // letters as digits, which is not what a caller ID or a typed phone field means here.
  if (/[a-z]/i.test(cleaned)) return undefined;
  const parsed = parsePhoneNumberFromString(cleaned, region as CountryCode);
  if (!parsed || !parsed.isPossible()) return undefined;
  return parsed.number;
}

/** Deliberately loose: one `@`, something either side, no whitespace. Deliverability is not our question. */
const EMAIL_SHAPE = /^[^\s@<>]+@[^\s@<>]+$/;

/**
 * Normalises an email address for lookup: trims, takes the address out of `"Name" <a@b.org>` forms and
 * `mailto:` URIs, and lower-cases it (the local part is case-insensitive at every mailbox provider we
 * will meet, so treating it so avoids missed matches).
 * @returns the address, or `undefined` when there is no plausible address in `raw`.
 */
export function normaliseEmail(raw: string): string | undefined {
  let candidate = raw.trim();
  const angle = /<([^<>]*)>\s*$/.exec(candidate);
  if (angle?.[1] !== undefined) candidate = angle[1].trim();
  candidate = candidate.replace(/^mailto:/i, '').toLowerCase();
  return EMAIL_SHAPE.test(candidate) ? candidate : undefined;
}
