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
 * A UK number already in E.164 with a 10-digit national number (`+447700900123`): the form in which
 * Twilio presents nearly every UK caller. libphonenumber returns such a string unchanged, as possible, for
 * every one of the 9×10⁹ values (a property test checks it against libphonenumber), so it is accepted
 * without parsing — which matters because most callers are not remembered (they call once), and parsing
 * is the costliest step of resolving one.
 */
const UK_E164_TEN_DIGITS = /^\+44[1-9]\d{9}$/;

/** How many distinct raw numbers {@link normalisePhone} remembers per region (~1 MB at most). */
export const PHONE_MEMORY_SIZE = 10_000;
/** Longer inputs are parsed every time rather than remembered. */
const MAX_REMEMBERED_LENGTH = 64;
/** Regions remembered (there is one in practice: the configured region). */
const MAX_REMEMBERED_REGIONS = 8;
/** Remembered "not a number" (Map.get's `undefined` means "not remembered"). */
const NOT_A_NUMBER = '';
/** region → raw → E.164 (or {@link NOT_A_NUMBER}), in least-recently-used order. */
const rememberedPhones = new Map<string, Map<string, string>>();

/**
 * Normalises a phone number to E.164 (`+447700900123`), reading national formats in `region`
 * (`07700 900123`, `0044 7700 900123`, `(07700) 900-123` and `tel:` URIs all give the same result).
 *
 * A number is accepted when it is *possible* (right length for its country), not only when it is in a
 * range the bundled metadata lists as allocated: the metadata lags Ofcom's allocations, and a customer
 * whose new number were rejected would silently slip past their restriction. Ofcom's drama ranges
 * (07700 900xxx) are therefore accepted too.
 *
 * Remembered: parsing is the costliest step of resolving a caller (~20 µs), a call's number is normalised
 * twice (to look it up and to record it), and the callers who matter most here call again and again. The
 * answer depends on `raw` and `region` only, and the memory is a bounded LRU.
 * @param raw the number as typed or received.
 * @param region ISO 3166 country whose national format applies to numbers without a `+` (default `GB`).
 * @returns the E.164 string, or `undefined` when withheld or not a possible number.
 */
export function normalisePhone(raw: string, region = 'GB'): string | undefined {
  // Checked before the memory: cheaper than looking it up there (see UK_E164_TEN_DIGITS).
  if (UK_E164_TEN_DIGITS.test(raw)) return raw;
  // Over-long input is not a phone number anyone dials; it is parsed, never remembered.
  if (raw.length > MAX_REMEMBERED_LENGTH) return parsePhone(raw, region);
  let known = rememberedPhones.get(region);
  if (known === undefined) {
    if (rememberedPhones.size >= MAX_REMEMBERED_REGIONS) return parsePhone(raw, region);
    known = new Map();
    rememberedPhones.set(region, known);
  }
  const hit = known.get(raw);
  if (hit !== undefined) {
    // Least recently used first: re-inserting moves the entry to the end of the Map's order.
    known.delete(raw);
    known.set(raw, hit);
    return hit === NOT_A_NUMBER ? undefined : hit;
  }
  const parsed = parsePhone(raw, region);
  if (known.size >= PHONE_MEMORY_SIZE) {
    const oldest = known.keys().next();
    if (oldest.done !== true) known.delete(oldest.value);
  }
  known.set(raw, parsed ?? NOT_A_NUMBER);
  return parsed;
}


function parsePhone(raw: string, region: string): string | undefined {
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
