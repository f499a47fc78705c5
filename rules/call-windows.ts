/**
 * Call windows (policy §5: "only take calls from the customer at set times/days"). A window is a weekly
 * wall-clock range in the organisation's time zone, start inclusive and end exclusive, closed on England &
 * Wales bank holidays unless the measure says otherwise.
 *
 * The one rule everything here follows: an instant is inside a window exactly when the zone's wall clock at
 * that instant reads a day and a time inside it. That settles the DST change days without special cases:
 * - spring forward (01:00 → 02:00 in London): wall-clock times that never happen are never open, so a
 *   01:00–03:00 window is open for the single real hour 02:00–03:00 BST, and 01:00–01:30 not at all;
 * - fall back (02:00 → 01:00): the repeated hour is read twice, so a 01:00–01:30 window opens twice.
 *
 * Windows that overlap or touch (also across midnight, using an end of `24:00`) form one open period; a
 * period's end is when calls really stop being accepted, and the "next window" is the next time they start
 * being accepted again.
 */
import { IANAZone } from 'luxon';

import { isBankHoliday } from './bank-holidays';
import { WEEKDAYS, type CallTimesMeasure, type CallWindow, type Weekday } from './types';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MINUTES_PER_DAY = 24 * 60;

/** How far ahead to look for the next open period before concluding there is none. */
const SEARCH_HORIZON_DAYS = 400;

/**
 * UTC offsets run from −12:00 to +14:00, so the instants whose local date is D lie within
 * [D − 14 h, D + 24 h + 12 h). Zone transitions are searched for within that span.
 */
const EARLIEST_OFFSET_MS = -12 * HOUR_MS;
const LATEST_OFFSET_MS = 14 * HOUR_MS;

/** Thrown for a zone name the runtime's time-zone database does not know. */
export class InvalidTimeZoneError extends RangeError {
  readonly code = 'invalid-time-zone';
  constructor(readonly zone: string) {
    super(`Unknown IANA time zone: ${JSON.stringify(zone)}`);
    this.name = 'InvalidTimeZoneError';
  }
}

/** Thrown for an `Invalid Date` passed as an instant. */
export class InvalidInstantError extends RangeError {
  readonly code = 'invalid-instant';
  constructor() {
    super('The instant is an invalid Date');
    this.name = 'InvalidInstantError';
  }
}

/** Thrown when a measure's windows are malformed; the message is the one {@link validateWindows} gives. */
export class MalformedWindowsError extends Error {
  readonly code = 'malformed-windows';
  constructor(message: string) {
    super(message);
    this.name = 'MalformedWindowsError';
  }
}

/** A half-open span of instants, epoch milliseconds. */
interface Span {
  start: number;
  end: number;
}

/** A window in the form the arithmetic wants: weekday indexes (Mon = 0) and minutes of the day. */
interface CompiledWindow {
  days: ReadonlySet<number>;
  start: number;
  end: number;
}

/** The answer of {@link windowStatus}. */
export type WindowStatus =
  | { open: true; closesAt: Date }
  | { open: false; reason: 'outside-call-times' | 'bank-holiday'; next?: { start: Date; end: Date } };

/**
 * Resolves and checks an IANA zone name (luxon's zone wraps the runtime's `Intl` database, so this is pure).
 *
 * @throws {InvalidTimeZoneError} for an unknown zone.
 */
export function timeZoneOf(zone: string): IANAZone {
  // `create` caches zones by name, while `isValidZone` builds a new Intl formatter on every call (~0.1 ms).
  const tz = IANAZone.create(zone);
  if (!tz.isValid) throw new InvalidTimeZoneError(zone);
  return tz;
}

function instantOf(date: Date): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new InvalidInstantError();
  return ms;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since local midnight of an `HH:mm` string; `24:00` (midnight at the end of the day) only for ends. */
function minutesOf(clock: unknown, isEnd: boolean): number | undefined {
  if (typeof clock !== 'string') return undefined;
  if (isEnd && clock === '24:00') return MINUTES_PER_DAY;
  const match = HH_MM.exec(clock);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/**
 * Checks windows as they arrive from JSON, so every field is treated as unknown. Returns the compiled windows
 * or the first problem as a sentence for a tenancy specialist.
 */
function compileWindows(windows: unknown): CompiledWindow[] | string {
  if (!Array.isArray(windows)) return 'Call windows must be a list of windows.';
  if (windows.length === 0) return 'At least one call window is needed.';
  const compiled: CompiledWindow[] = [];
  for (const [i, raw] of (windows as unknown[]).entries()) {
    const label = `Call window ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) return `${label} is not a window.`;
    const { days, start, end } = raw as Record<string, unknown>;
    if (!Array.isArray(days) || days.length === 0) return `${label} has no days.`;
    const dayIndexes = new Set<number>();
    for (const day of days as unknown[]) {
      const index = WEEKDAYS.indexOf(day as Weekday);
      if (index < 0) return `${label} has an unknown day ${JSON.stringify(day)}; use ${WEEKDAYS.join(', ')}.`;
      dayIndexes.add(index);
    }
    const startMinutes = minutesOf(start, false);
    if (startMinutes === undefined) return `${label} starts at ${JSON.stringify(start)}, which is not a 24-hour HH:mm time.`;
    const endMinutes = minutesOf(end, true);
    if (endMinutes === undefined) return `${label} ends at ${JSON.stringify(end)}, which is not a 24-hour HH:mm time (or 24:00).`;
    if (startMinutes >= endMinutes) {
      return `${label} must start before it ends (${String(start)}–${String(end)}); a window cannot run past midnight, so split it in two.`;
    }
    compiled.push({ days: dayIndexes, start: startMinutes, end: endMinutes });
  }
  return compiled;
}

/**
 * Checks call windows: a non-empty list, each with known days, `HH:mm` times (`24:00` allowed as an end) and
 * a start before its end (windows cannot run overnight; split them at midnight instead).
 *
 * @returns a human message describing the first problem, or `undefined` when the windows are well formed.
 */
export function validateWindows(windows: CallWindow[]): string | undefined {
  const result = compileWindows(windows);
  return typeof result === 'string' ? result : undefined;
}

/**
 * Remembered compilations, by the windows' content: a measure arrives freshly parsed from JSON with every
 * call, so its identity says nothing. Bounded; the oldest entry goes first.
 */
const COMPILED_CACHE_SIZE = 512;
const compiledCache = new Map<string, CompiledWindow[] | string>();

/** The content key of a measure's windows, or `undefined` when they cannot be serialised (never from JSON). */
function windowsKeyOf(measure: CallTimesMeasure): string | undefined {
  try {
    return JSON.stringify(measure.windows) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Adds to a bounded cache, evicting the oldest entry when it is full. */
function remember<V>(cache: Map<string, V>, size: number, key: string, value: V): V {
  if (cache.size >= size) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, value);
  return value;
}

/** A measure's windows, compiled (remembered by content under `key`). */
function compiledOrThrow(measure: CallTimesMeasure, key: string | undefined): CompiledWindow[] {
  let result = key === undefined ? undefined : compiledCache.get(key);
  if (result === undefined) {
    result = compileWindows(measure.windows);
    if (key !== undefined) remember(compiledCache, COMPILED_CACHE_SIZE, key, result);
  }
  if (typeof result === 'string') throw new MalformedWindowsError(result);
  return result;
}

function closesOnBankHolidays(measure: CallTimesMeasure): boolean {
  return (measure.bankHolidays ?? 'closed') === 'closed';
}

const offsetMs = (zone: IANAZone, instant: number): number => zone.offset(instant) * MINUTE_MS;

/**
 * The zone's offset at an instant, read from the remembered stretches of constant offset around the
 * instant's UTC date (which cover it: they span [date − 14 h, date + 36 h)), so that deciding a call does
 * not ask Intl again for a day it has already mapped.
 */
function offsetAt(zone: IANAZone, instant: number): number {
  for (const stretch of constantOffsetStretches(zone, Math.floor(instant / DAY_MS) * DAY_MS)) {
    if (stretch.start <= instant && instant < stretch.end) return stretch.offset;
  }
  return offsetMs(zone, instant);
}

/** The local civil date of an instant as its UTC-midnight millisecond value, and the wall-clock minute. */
function wallClockOf(zone: IANAZone, instant: number): { day: number; minute: number } {
  const local = instant + offsetAt(zone, instant);
  const day = Math.floor(local / DAY_MS) * DAY_MS;
  return { day, minute: Math.floor((local - day) / MINUTE_MS) };
}

const weekdayOf = (day: number): number => (new Date(day).getUTCDay() + 6) % 7;
const isoDateOf = (day: number): string => new Date(day).toISOString().slice(0, 10);

/**
 * Instants in (lo, hi] at which the zone's offset changes, each the first instant of the new offset. Equal
 * offsets at both ends and the midpoint are taken to mean no change: real zones never change twice and back
 * within the ~2 days searched, and probing every hour instead would make every decision ten times dearer.
 */
function transitionsBetween(zone: IANAZone, lo: number, oLo: number, hi: number, oHi: number, found: number[]): void {
  if (hi - lo <= 1) {
    if (oLo !== oHi) found.push(hi);
    return;
  }
  const mid = Math.floor((lo + hi) / 2);
  const oMid = offsetMs(zone, mid);
  if (oLo === oHi && oMid === oLo) return;
  transitionsBetween(zone, lo, oLo, mid, oMid, found);
  transitionsBetween(zone, mid, oMid, hi, oHi, found);
}

type Stretch = Span & { offset: number };

// Offsets come from Intl, which is slow next to the arithmetic; decisions cluster on the same few days, so the
// stretches of recent (zone, day) pairs are kept. Bounded, and a pure function of its key, so still pure.
const STRETCH_CACHE_SIZE = 1024;
const stretchCache = new Map<string, readonly Stretch[]>();

/** Stretches of constant offset covering every instant whose local date is `day`. */
function constantOffsetStretches(zone: IANAZone, day: number): readonly Stretch[] {
  const key = `${zone.name}|${day}`;
  let stretches = stretchCache.get(key);
  if (!stretches) {
    if (stretchCache.size >= STRETCH_CACHE_SIZE) stretchCache.clear();
    stretches = computeStretches(zone, day);
    stretchCache.set(key, stretches);
  }
  return stretches;
}

function computeStretches(zone: IANAZone, day: number): Stretch[] {
  const lo = day - LATEST_OFFSET_MS;
  const hi = day + DAY_MS - EARLIEST_OFFSET_MS;
  const oLo = offsetMs(zone, lo);
  const transitions: number[] = [];
  transitionsBetween(zone, lo, oLo, hi, offsetMs(zone, hi), transitions);
  const bounds = [lo, ...transitions, hi];
  const stretches: Stretch[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i] as number;
    stretches.push({ start, end: bounds[i + 1] as number, offset: offsetMs(zone, start) });
  }
  return stretches;
}

/**
 * The instants at which calls are accepted on one local date, sorted by start. Within a stretch of constant
 * offset, wall clock = instant + offset, so a wall-clock range maps to one span of instants there; a range
 * spanning a gap loses the times that never happen, and one spanning a repeated hour gains both readings.
 */
function openSpansOn(zone: IANAZone, windows: CompiledWindow[], closedOnHolidays: boolean, day: number): Span[] {
  const weekday = weekdayOf(day);
  const today = windows.filter((w) => w.days.has(weekday));
  if (today.length === 0) return [];
  if (closedOnHolidays && isBankHoliday(isoDateOf(day))) return [];
  const spans: Span[] = [];
  for (const stretch of constantOffsetStretches(zone, day)) {
    for (const w of today) {
      const start = Math.max(stretch.start, day + w.start * MINUTE_MS - stretch.offset);
      const end = Math.min(stretch.end, day + w.end * MINUTE_MS - stretch.offset);
      if (start < end) spans.push({ start, end });
    }
  }
  // Overlapping and touching spans are joined by openPeriods, which does so across days as well.
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * Open periods in time order, from local date `fromDay` for `days` days, with touching spans of consecutive
 * days joined. A period is only yielded once its end is known (or the horizon is reached, which cuts it).
 */
function* openPeriods(
  zone: IANAZone,
  windows: CompiledWindow[],
  closedOnHolidays: boolean,
  fromDay: number,
  days: number,
): Generator<Span> {
  let pending: Span | undefined;
  for (let i = 0; i <= days; i++) {
    for (const span of openSpansOn(zone, windows, closedOnHolidays, fromDay + i * DAY_MS)) {
      if (pending && span.start <= pending.end) {
        pending.end = Math.max(pending.end, span.end);
      } else {
        if (pending) yield pending;
        pending = { ...span };
      }
    }
  }
  if (pending) yield pending;
}

/**
 * The earliest open period whose start is at or after `after`: the next time calls START being accepted, so
 * when `after` is inside an open period the answer is the period after it. Bank holidays are skipped when the
 * measure closes on them. Looks at most ~400 days ahead.
 *
 * @param measure - the call-times measure (well formed; see {@link validateWindows}).
 * @param after - the instant to search from.
 * @param zone - IANA zone of the windows' wall-clock times, e.g. `Europe/London`.
 * @returns the period, or `undefined` when none starts within the horizon. A period still open at the horizon
 *   (windows round the clock) is returned with its end cut at the horizon.
 * @throws {MalformedWindowsError} {@link InvalidTimeZoneError} {@link InvalidInstantError}
 */
export function nextWindow(measure: CallTimesMeasure, after: Date, zone: string): { start: Date; end: Date } | undefined {
  const tz = timeZoneOf(zone);
  const key = windowsKeyOf(measure);
  const windows = compiledOrThrow(measure, key);
  const t = instantOf(after);
  const { day } = wallClockOf(tz, t);
  for (const period of periodsAround(tz, windows, closesOnBankHolidays(measure), key, day)) {
    if (period.start >= t) return { start: new Date(period.start), end: new Date(period.end) };
  }
  return undefined;
}

/**
 * The open periods that answer every question about an instant whose local date is `day`: from the day
 * before (so that a period already running is recognised as running, not as next) up to and including the
 * first period that starts after the last instant of that local date — or to the horizon, ~400 days on.
 *
 * A decision about a call-times caller asks twice (the status, and the next window for the agent's flag),
 * and the same customers call on the same days, so the list is remembered per (zone, bank-holiday rule,
 * windows, local date). Bounded, and a pure function of its key.
 */
function periodsAround(zone: IANAZone, windows: CompiledWindow[], closedOnHolidays: boolean, windowsKey: string | undefined, day: number): readonly Span[] {
  const key = windowsKey === undefined ? undefined : `${zone.name}|${closedOnHolidays ? 1 : 0}|${day}|${windowsKey}`;
  const known = key === undefined ? undefined : periodCache.get(key);
  if (known !== undefined) return known;
  // Past this, no instant has `day` as its local date (offsets reach −12:00).
  const lastInstant = day + DAY_MS - EARLIEST_OFFSET_MS;
  const periods: Span[] = [];
  for (const period of openPeriods(zone, windows, closedOnHolidays, day - DAY_MS, SEARCH_HORIZON_DAYS + 1)) {
    periods.push(period);
    if (period.start >= lastInstant) break;
  }
  return key === undefined ? periods : remember(periodCache, PERIOD_CACHE_SIZE, key, periods);
}

const PERIOD_CACHE_SIZE = 2048;
const periodCache = new Map<string, readonly Span[]>();

/**
 * Whether calls are accepted at `now`.
 *
 * - open: `closesAt` is when the open period containing `now` ends (overlapping and touching windows count
 *   as one period).
 * - closed: `reason` is `bank-holiday` when the wall-clock time is inside a window but the LOCAL date is a
 *   bank holiday (and the measure closes on them), else `outside-call-times`; `next` is {@link nextWindow}.
 *
 * @param measure - the call-times measure (well formed; see {@link validateWindows}).
 * @param now - the instant to judge (rules/ never reads the clock).
 * @param zone - IANA zone of the windows' wall-clock times, e.g. `Europe/London`.
 * @throws {MalformedWindowsError} {@link InvalidTimeZoneError} {@link InvalidInstantError}
 */
export function windowStatus(measure: CallTimesMeasure, now: Date, zone: string): WindowStatus {
  const tz = timeZoneOf(zone);
  const key = windowsKeyOf(measure);
  const windows = compiledOrThrow(measure, key);
  const t = instantOf(now);
  const closedOnHolidays = closesOnBankHolidays(measure);
  const { day, minute } = wallClockOf(tz, t);
  const weekday = weekdayOf(day);
  const inWindow = windows.some((w) => w.days.has(weekday) && w.start <= minute && minute < w.end);
  const holiday = inWindow && closedOnHolidays && isBankHoliday(isoDateOf(day));
  const periods = periodsAround(tz, windows, closedOnHolidays, key, day);
  if (inWindow && !holiday) {
    for (const period of periods) {
      if (period.start <= t && t < period.end) return { open: true, closesAt: new Date(period.end) };
      if (period.start > t) break;
    }
    // The wall-clock test and the span arithmetic are the same rule, so they cannot disagree.
    throw new Error(`call-windows: open at ${now.toISOString()} but no open period contains it`);
  }
  const next = periods.find((period) => period.start >= t);
  return {
    open: false,
    reason: holiday ? 'bank-holiday' : 'outside-call-times',
    ...(next ? { next: { start: new Date(next.start), end: new Date(next.end) } } : {}),
  };
}

/**
 * When the customer may next call: the start of {@link nextWindow}.
 *
 * @returns the instant, or `undefined` when no window opens within ~400 days.
 */
export function nextAllowedAt(measure: CallTimesMeasure, now: Date, zone: string): Date | undefined {
  return nextWindow(measure, now, zone)?.start;
}
