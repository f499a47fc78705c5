/**
 * Working days — Monday to Friday, not an England & Wales bank holiday — for deadlines such as "appeal in
 * writing within 10 working days" (policy §6) and for when written contact is answered.
 */
import { DateTime } from 'luxon';

import { civilDayOf, isBankHoliday } from './bank-holidays';
import { timeZoneOf } from './call-windows';

/** Thrown when a number of working days is not a whole number of zero or more. */
export class InvalidWorkingDaysError extends RangeError {
  readonly code = 'invalid-working-days';
  constructor(readonly value: number) {
    super(`A number of working days must be a whole number of zero or more, not ${value}`);
    this.name = 'InvalidWorkingDaysError';
  }
}

/**
 * Whether a civil date is a working day: Monday to Friday and not an England & Wales bank holiday.
 *
 * @param isoDate - `YYYY-MM-DD` (a year from 2000 to 2099).
 * @throws {InvalidIsoDateError} {@link YearOutOfRangeError} from bank-holidays.
 */
export function isWorkingDay(isoDate: string): boolean {
  const weekday = new Date(civilDayOf(isoDate)).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !isBankHoliday(isoDate);
}

/** The ISO date of a luxon DateTime that is known valid (luxon types it as possibly null). */
function isoDateOf(t: DateTime): string {
  const iso = t.toISODate();
  if (iso === null) throw new RangeError(`Invalid local date: ${t.invalidExplanation ?? 'unknown reason'}`);
  return iso;
}

/**
 * The deadline `n` working days after `from`: counting starts on the local day after `from` (so the day a
 * letter is sent never counts), and the deadline is the END of the n-th working day, 23:59:59.999 local time,
 * because "by" a date means anything received that day is in time. With `n = 0`, the end of `from`'s own day.
 *
 * @param from - the instant counted from, e.g. when the notification letter was sent.
 * @param n - whole number of working days, zero or more.
 * @param zone - IANA zone whose calendar decides what "a day" is, e.g. `Europe/London`.
 * @throws {InvalidWorkingDaysError} for a negative or fractional `n`.
 */
export function addWorkingDays(from: Date, n: number, zone: string): Date {
  if (!Number.isInteger(n) || n < 0) throw new InvalidWorkingDaysError(n);
  let day = DateTime.fromJSDate(from, { zone: timeZoneOf(zone) }).startOf('day');
  if (!day.isValid) throw new RangeError('addWorkingDays: `from` is an invalid Date');
  for (let remaining = n; remaining > 0; ) {
    // Calendar arithmetic in the zone, so a DST change never moves the date.
    day = day.plus({ days: 1 });
    if (isWorkingDay(isoDateOf(day))) remaining--;
  }
  return day.endOf('day').toJSDate();
}

/**
 * The first working day of a month, e.g. 2026-06-01 for June 2026, 2027-01-04 for January 2027.
 *
 * @param year - 2000 to 2099.
 * @param month - 1 (January) to 12.
 */
export function firstWorkingDayOfMonth(year: number, month: number): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`Not a month number: ${month}`);
  // At most four non-working days open a month (Good Friday on the 1st, then Saturday, Sunday, Easter Monday).
  for (let day = 1; day <= 7; day++) {
    const iso = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    if (isWorkingDay(iso)) return iso;
  }
  throw new Error(`firstWorkingDayOfMonth: no working day in the first week of ${year}-${month}`);
}
