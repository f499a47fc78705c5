/**
 * Frequency of response (policy §5: "advise the customer of our frequency of response (e.g. once a week)
 * regardless of the number of their communications"). Written contact is never refused; this decides the
 * earliest time it will be answered (`respondAfter` in the decision).
 */
import { DateTime } from 'luxon';

import { timeZoneOf } from './call-windows';
import { WEEKDAYS, type ResponseFrequencyMeasure, type Weekday } from './types';
import { isWorkingDay } from './working-days';

/** Thrown when a response-frequency measure cannot be applied (bad duration, weekday or hour). */
export class InvalidResponseFrequencyError extends RangeError {
  constructor(
    readonly code: 'invalid-duration' | 'invalid-weekday' | 'invalid-response-hour' | 'invalid-instant',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidResponseFrequencyError';
  }
}

/** Days are whole calendar days in the zone; no measure needs a gap of more than a few months. */
const ISO_DAYS_OR_WEEKS = /^P([1-9]\d{0,3})([DW])$/;

/**
 * Parses the ISO-8601 durations a response frequency may use: `PnD` (days) and `PnW` (weeks), n ≥ 1.
 *
 * Everything else is rejected, deliberately including months (`P1M`): a calendar month has no fixed number of
 * days, and quietly reading it as 30 days would tell a customer "monthly" and mean something else. Write
 * `P4W` or `P30D` instead. Times (`PT…`), zero, fractions and combinations (`P1W2D`) are rejected too.
 *
 * @returns the length in days, or `undefined` when the string is not an accepted duration.
 */
export function parseIsoDuration(s: string): { days: number } | undefined {
  const match = ISO_DAYS_OR_WEEKS.exec(s);
  if (!match) return undefined;
  const n = Number(match[1]);
  return { days: match[2] === 'W' ? n * 7 : n };
}

/**
 * The earliest time we will respond to written contact under a response-frequency measure.
 *
 * The answer is `responseHour`:00 local time on the first qualifying day, at or after `now`, and — when we
 * have responded before — on or after the local DATE of the last response plus the interval:
 * - with a fixed `weekday`, a qualifying day is that weekday (bank holidays are not skipped: the customer
 *   has been told "we reply on Fridays", and this is the earliest, not the promised, time);
 * - otherwise it is a working day (Mon–Fri, not an England & Wales bank holiday).
 *
 * The interval is counted in calendar dates, not hours, so "weekly on Fridays" stays weekly whatever time of
 * day the last reply went: a reply sent at 15:00 on Friday makes next Friday 09:00 due, where adding 7 × 24 h
 * to the instant would skip to the Friday after. Calendar dates also keep 09:00 at 09:00 across DST changes.
 *
 * @example nextResponseAt({ type: 'response-frequency', every: 'P7D', weekday: 'fri' },
 *   new Date('2026-11-25T10:00Z'), 'Europe/London') // → 2026-11-27T09:00:00.000Z
 * @param measure - the response-frequency measure (`every` must pass {@link parseIsoDuration}).
 * @param now - when the written contact is being handled.
 * @param zone - IANA zone of the response hour and of "a day", e.g. `Europe/London`.
 * @param lastResponseAt - when we last responded to this customer, if ever.
 * @param responseHour - local hour at which responses go out, 0–23; default 9.
 * @throws {InvalidResponseFrequencyError} for a malformed measure or hour.
 */
export function nextResponseAt(
  measure: ResponseFrequencyMeasure,
  now: Date,
  zone: string,
  lastResponseAt?: Date,
  responseHour = 9,
): Date {
  const tz = timeZoneOf(zone);
  const every = parseIsoDuration(measure.every);
  if (!every) {
    throw new InvalidResponseFrequencyError('invalid-duration', `Not a PnD or PnW duration: ${JSON.stringify(measure.every)}`);
  }
  if (measure.weekday !== undefined && !WEEKDAYS.includes(measure.weekday)) {
    throw new InvalidResponseFrequencyError('invalid-weekday', `Unknown weekday: ${JSON.stringify(measure.weekday)}`);
  }
  if (!Number.isInteger(responseHour) || responseHour < 0 || responseHour > 23) {
    throw new InvalidResponseFrequencyError('invalid-response-hour', `Not an hour of the day: ${responseHour}`);
  }
  const earliest = now.getTime();
  if (Number.isNaN(earliest) || (lastResponseAt && Number.isNaN(lastResponseAt.getTime()))) {
    throw new InvalidResponseFrequencyError('invalid-instant', 'An instant is an invalid Date');
  }
  let firstDay = DateTime.fromMillis(earliest, { zone: tz }).startOf('day');
  if (lastResponseAt) {
    const dueDay = DateTime.fromJSDate(lastResponseAt, { zone: tz }).startOf('day').plus({ days: every.days });
    if (dueDay > firstDay) firstDay = dueDay;
  }

  const wanted = measure.weekday === undefined ? undefined : WEEKDAYS.indexOf(measure.weekday as Weekday) + 1;
  // A weekday recurs within 8 days (7, plus today when its hour has passed); non-working runs are at most 4 long.
  for (let i = 0; i <= 14; i++) {
    const day = firstDay.plus({ days: i });
    const at = day.set({ hour: responseHour });
    if (at.toMillis() < earliest) continue;
    const fits = wanted === undefined ? isWorkingDay(day.toISODate() ?? '') : day.weekday === wanted;
    if (fits) return at.toJSDate();
  }
  throw new Error('nextResponseAt: no response day within a fortnight');
}
