/**
 * England & Wales bank holidays, computed rather than fetched: call windows close on them (DESIGN.md §2) and
 * working-day deadlines skip them, and neither may depend on a network call to gov.uk at decision time.
 *
 * The regular pattern (Bank Holidays Act 1971 plus royal proclamations) is fixed, with substitute days when a
 * fixed-date holiday falls at a weekend. Proclaimed one-offs and moved holidays are listed by year, so a new
 * proclamation is a one-line change here. Dates are civil dates (`YYYY-MM-DD`), with no time zone: whoever
 * asks must first turn an instant into the local date (call-windows does so in the configured zone).
 */

/** The range of years this table is known to be right for; outside it we refuse rather than guess. */
export const FIRST_SUPPORTED_YEAR = 2000;
export const LAST_SUPPORTED_YEAR = 2099;

/** Thrown for a year outside {@link FIRST_SUPPORTED_YEAR}–{@link LAST_SUPPORTED_YEAR}. */
export class YearOutOfRangeError extends RangeError {
  readonly code = 'year-out-of-range';
  constructor(readonly year: number) {
    super(`Bank holidays are known for ${FIRST_SUPPORTED_YEAR}–${LAST_SUPPORTED_YEAR} only, not ${year}`);
    this.name = 'YearOutOfRangeError';
  }
}

/** Thrown for a date string that is not a real `YYYY-MM-DD` calendar date. */
export class InvalidIsoDateError extends RangeError {
  readonly code = 'invalid-date';
  constructor(readonly value: string) {
    super(`Not a YYYY-MM-DD calendar date: ${JSON.stringify(value)}`);
    this.name = 'InvalidIsoDateError';
  }
}

/** One bank holiday, titled as gov.uk titles it (useful in letters and agent flags). */
export interface BankHoliday {
  date: string;
  title: string;
}

const DAY_MS = 86_400_000;

/** Weekday of a UTC-midnight millisecond value, Monday = 0 … Sunday = 6 (the order of `WEEKDAYS`). */
function weekdayIndex(dayMs: number): number {
  return (new Date(dayMs).getUTCDay() + 6) % 7;
}

function isoOf(dayMs: number): string {
  return new Date(dayMs).toISOString().slice(0, 10);
}

/**
 * Parses a `YYYY-MM-DD` civil date to the UTC-midnight millisecond value of that date, rejecting impossible
 * dates such as 2026-02-30 (which `Date.UTC` would silently roll over into March).
 *
 * @throws {InvalidIsoDateError} when the string is not a real calendar date.
 */
export function civilDayOf(isoDate: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) throw new InvalidIsoDateError(isoDate);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const dayMs = Date.UTC(year, month - 1, day);
  if (isoOf(dayMs) !== isoDate) throw new InvalidIsoDateError(isoDate);
  return dayMs;
}

/**
 * Easter Sunday of a Gregorian year by the anonymous ("Meeus/Jones/Butcher") algorithm, as a UTC-midnight
 * millisecond value. Exported for tests of the algorithm against published dates.
 */
export function easterSundayOf(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return Date.UTC(year, month - 1, day);
}

/** The first Monday on or after a date. */
function mondayOnOrAfter(dayMs: number): number {
  return dayMs + ((7 - weekdayIndex(dayMs)) % 7) * DAY_MS;
}

/** The last Monday of a month (month 1–12). */
function lastMondayOf(year: number, month: number): number {
  const lastDay = Date.UTC(year, month, 0);
  return lastDay - weekdayIndex(lastDay) * DAY_MS;
}

/** A fixed-date holiday moves to the next Monday when it falls at a weekend (New Year's Day). */
function substituteMonday(dayMs: number): number {
  return weekdayIndex(dayMs) >= 5 ? mondayOnOrAfter(dayMs) : dayMs;
}

/**
 * Christmas and Boxing Day: both need a weekday, so a weekend pushes them onto Monday and Tuesday in turn.
 * Sat 25 → Mon 27 & Tue 28; Sun 25 → Boxing Mon 26 & Christmas (substitute) Tue 27; Fri 25 → Boxing Mon 28.
 */
function christmasAndBoxingDay(year: number): BankHoliday[] {
  const christmas = Date.UTC(year, 11, 25);
  switch (weekdayIndex(christmas)) {
    case 4: // Friday: Boxing Day (Saturday) moves to Monday.
      return [
        { date: isoOf(christmas), title: 'Christmas Day' },
        { date: `${year}-12-28`, title: 'Boxing Day (substitute day)' },
      ];
    case 5: // Saturday: both move, Christmas to Monday and Boxing Day to Tuesday.
      return [
        { date: `${year}-12-27`, title: 'Christmas Day (substitute day)' },
        { date: `${year}-12-28`, title: 'Boxing Day (substitute day)' },
      ];
    case 6: // Sunday: Boxing Day keeps Monday, so Christmas takes Tuesday.
      return [
        { date: `${year}-12-26`, title: 'Boxing Day' },
        { date: `${year}-12-27`, title: 'Christmas Day (substitute day)' },
      ];
    default:
      return [
        { date: isoOf(christmas), title: 'Christmas Day' },
        { date: `${year}-12-26`, title: 'Boxing Day' },
      ];
  }
}

/** Holidays moved from their usual day by proclamation: the usual date is replaced, not kept. */
const MOVED: Readonly<Record<number, Partial<Record<'earlyMay' | 'spring', BankHoliday>>>> = {
  2002: { spring: { date: '2002-06-04', title: 'Spring bank holiday' } },
  2012: { spring: { date: '2012-06-04', title: 'Spring bank holiday' } },
  2020: { earlyMay: { date: '2020-05-08', title: 'Early May bank holiday (VE day)' } },
  2022: { spring: { date: '2022-06-02', title: 'Spring bank holiday' } },
};

/** One-off holidays proclaimed for a single year, in addition to the regular ones. */
const ONE_OFFS: Readonly<Record<number, readonly BankHoliday[]>> = {
  2002: [{ date: '2002-06-03', title: 'Golden Jubilee bank holiday' }],
  2011: [{ date: '2011-04-29', title: 'Royal wedding' }],
  2012: [{ date: '2012-06-05', title: 'Diamond Jubilee' }],
  2022: [
    { date: '2022-06-03', title: 'Platinum Jubilee bank holiday' },
    { date: '2022-09-19', title: 'Bank Holiday for the State Funeral of Queen Elizabeth II' },
  ],
  2023: [{ date: '2023-05-08', title: 'Bank holiday for the coronation of King Charles III' }],
};

function assertSupportedYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_SUPPORTED_YEAR || year > LAST_SUPPORTED_YEAR) {
    throw new YearOutOfRangeError(year);
  }
}

/**
 * The England & Wales bank holidays of a year with their titles, sorted by date.
 *
 * @param year - a year from 2000 to 2099.
 * @throws {YearOutOfRangeError} for any other year.
 */
export function bankHolidayEntriesOf(year: number): BankHoliday[] {
  assertSupportedYear(year);
  const easter = easterSundayOf(year);
  const moved = MOVED[year] ?? {};
  const newYear = Date.UTC(year, 0, 1);
  const holidays: BankHoliday[] = [
    {
      date: isoOf(substituteMonday(newYear)),
      title: weekdayIndex(newYear) >= 5 ? 'New Year’s Day (substitute day)' : 'New Year’s Day',
    },
    { date: isoOf(easter - 2 * DAY_MS), title: 'Good Friday' },
    { date: isoOf(easter + DAY_MS), title: 'Easter Monday' },
    moved.earlyMay ?? { date: isoOf(mondayOnOrAfter(Date.UTC(year, 4, 1))), title: 'Early May bank holiday' },
    moved.spring ?? { date: isoOf(lastMondayOf(year, 5)), title: 'Spring bank holiday' },
    { date: isoOf(lastMondayOf(year, 8)), title: 'Summer bank holiday' },
    ...christmasAndBoxingDay(year),
    ...(ONE_OFFS[year] ?? []),
  ];
  // ISO dates sort correctly as strings.
  return holidays.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
}

/**
 * The England & Wales bank holidays of a year as sorted `YYYY-MM-DD` strings.
 *
 * @param year - a year from 2000 to 2099.
 * @throws {YearOutOfRangeError} for any other year.
 */
export function bankHolidaysOf(year: number): string[] {
  return bankHolidayEntriesOf(year).map((h) => h.date);
}

// The decision engine asks once per contact, so each year is computed once and kept.
const cache = new Map<number, ReadonlySet<string>>();

/**
 * Whether a civil date is an England & Wales bank holiday.
 *
 * @param isoDate - `YYYY-MM-DD`, already the LOCAL date of whatever instant is being judged.
 * @throws {InvalidIsoDateError} for a malformed or impossible date.
 * @throws {YearOutOfRangeError} for a year outside 2000–2099.
 */
export function isBankHoliday(isoDate: string): boolean {
  civilDayOf(isoDate);
  const year = Number(isoDate.slice(0, 4));
  let dates = cache.get(year);
  if (!dates) {
    dates = new Set(bankHolidaysOf(year));
    cache.set(year, dates);
  }
  return dates.has(isoDate);
}
