/**
 * Times and dates in plain British English for agent flags, TwiML speech and letters.
 *
 * Day and month names are spelt out here rather than taken from `Intl`: the words a customer hears or reads
 * must not change with the ICU version the server happens to run (en-GB's short September went from "Sep" to
 * "Sept" in one such update). luxon is used only to read the wall clock in the zone.
 */
import { DateTime } from 'luxon';

import { timeZoneOf } from './call-windows';
import { WEEKDAYS, type CallTimesMeasure, type Weekday } from './types';

const SHORT_DAYS: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};
/** luxon numbers weekdays 1 (Monday) to 7. */
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** Joins items the British way: "A", "A & B", "A, B & C". */
function joinWithAmpersand(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} & ${items[items.length - 1] ?? ''}`;
}

const dayOrder = (day: string): number => {
  const index = WEEKDAYS.indexOf(day as Weekday);
  return index < 0 ? WEEKDAYS.length : index;
};

/**
 * The windows of a call-times measure for an agent flag, e.g. "Tue & Thu 10:00–12:00" or
 * "Mon 09:00–11:00; Tue & Thu 14:00–16:00". Windows with the same times are described together, days are in
 * week order and the groups are ordered by their first day, so the text does not depend on how the windows
 * were listed.
 */
export function describeWindows(measure: CallTimesMeasure): string {
  const groups = new Map<string, { start: string; end: string; days: Set<string> }>();
  for (const w of measure.windows) {
    const key = `${w.start}–${w.end}`;
    const group = groups.get(key) ?? { start: w.start, end: w.end, days: new Set<string>() };
    for (const day of w.days) group.days.add(day);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, days: [...g.days].sort((a, b) => dayOrder(a) - dayOrder(b)) }))
    .sort((a, b) => dayOrder(a.days[0] ?? '') - dayOrder(b.days[0] ?? '') || a.start.localeCompare(b.start))
    .map((g) => `${joinWithAmpersand(g.days.map((d) => SHORT_DAYS[d as Weekday] ?? d))} ${g.start}–${g.end}`)
    .join('; ');
}

/**
 * Remembered phrasings. luxon's time-zone arithmetic is the costliest part of answering a call-times
 * caller (~100 µs a phrase), and the same few instants (the start of a customer's next window) are
 * phrased again for every call until it opens. Each answer depends only on the instant(s) and the zone;
 * bounded, the oldest entry goes first.
 */
const PHRASE_CACHE_SIZE = 2048;
const phrases = new Map<string, string>();

function phrased(key: string, phrase: () => string): string {
  const known = phrases.get(key);
  if (known !== undefined) return known;
  const text = phrase();
  if (phrases.size >= PHRASE_CACHE_SIZE) {
    const oldest = phrases.keys().next();
    if (oldest.done !== true) phrases.delete(oldest.value);
  }
  phrases.set(key, text);
  return text;
}

function local(d: Date, zone: string): DateTime {
  return DateTime.fromJSDate(d, { zone: timeZoneOf(zone) });
}

/** A time as said aloud: "10am", "10:30am", "12 noon", "midnight", "3:15pm". */
function spokenTime(t: DateTime): string {
  if (t.minute === 0 && t.hour === 12) return '12 noon';
  if (t.minute === 0 && t.hour === 0) return 'midnight';
  const hour = t.hour % 12 === 0 ? 12 : t.hour % 12;
  const minutes = t.minute === 0 ? '' : `:${String(t.minute).padStart(2, '0')}`;
  return `${hour}${minutes}${t.hour < 12 ? 'am' : 'pm'}`;
}

/** "Tuesday 25 November", for speech (the year goes without saying for a window days ahead). */
function spokenDay(t: DateTime): string {
  return `${LONG_DAYS[t.weekday - 1] ?? ''} ${t.day} ${LONG_MONTHS[t.month - 1] ?? ''}`;
}

/**
 * A window as said to a caller, e.g. "Tuesday 25 November between 10am and 12 noon". A window ending at
 * midnight reads "between 10pm and midnight"; one running into another day (touching windows merged across
 * midnight) reads "from 10pm on Monday 24 November until 2am on Tuesday 25 November".
 */
export function speakWindow(w: { start: Date; end: Date }, zone: string): string {
  return phrased(`speak|${zone}|${w.start.getTime()}|${w.end.getTime()}`, () => speakWindowAfresh(w, zone));
}

function speakWindowAfresh(w: { start: Date; end: Date }, zone: string): string {
  const start = local(w.start, zone);
  const end = local(w.end, zone);
  // A millisecond before the end is still the start's day both for a same-day window and for one that ends
  // at the midnight closing that day.
  if (end.minus({ milliseconds: 1 }).hasSame(start, 'day')) {
    return `${spokenDay(start)} between ${spokenTime(start)} and ${spokenTime(end)}`;
  }
  return `from ${spokenTime(start)} on ${spokenDay(start)} until ${spokenTime(end)} on ${spokenDay(end)}`;
}

/** A compact local date and time for agent flags, e.g. "Thu 27 Nov 10:00". */
export function formatShortLocal(d: Date, zone: string): string {
  return phrased(`short|${zone}|${d.getTime()}`, () => formatShortLocalAfresh(d, zone));
}

function formatShortLocalAfresh(d: Date, zone: string): string {
  const t = local(d, zone);
  const day = LONG_DAYS[t.weekday - 1]?.slice(0, 3) ?? '';
  const month = LONG_MONTHS[t.month - 1]?.slice(0, 3) ?? '';
  return `${day} ${t.day} ${month} ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/**
 * {@link formatShortLocal} for the END of a period: a period ending at local midnight ends at "24:00" of the
 * day before ("Thu 26 Nov 24:00", as call windows themselves are written), not at "Fri 27 Nov 00:00".
 */
export function formatShortLocalEnd(d: Date, zone: string): string {
  const t = local(d, zone);
  if (t.hour !== 0 || t.minute !== 0) return formatShortLocal(d, zone);
  return formatShortLocal(new Date(d.getTime() - 60_000), zone).replace(/23:59$/, '24:00');
}

/** A date in full for letters, e.g. "Friday 27 November 2026" (the local date in `zone`). */
export function formatLongDate(d: Date, zone: string): string {
  return phrased(`long|${zone}|${d.getTime()}`, () => formatLongDateAfresh(d, zone));
}

function formatLongDateAfresh(d: Date, zone: string): string {
  const t = local(d, zone);
  return `${spokenDay(t)} ${t.year}`;
}

/**
 * An instant as the contract writes one (DESIGN.md §3: `"2026-11-25T10:00:00Z"`): ISO 8601 in UTC, with
 * milliseconds only when there are any. Window starts and response times fall on whole minutes.
 */
export function isoInstant(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}
