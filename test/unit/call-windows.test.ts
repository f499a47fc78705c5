import fc from 'fast-check';
import { DateTime } from 'luxon';

import { isBankHoliday } from '../../rules/bank-holidays';
import {
  InvalidInstantError,
  InvalidTimeZoneError,
  MalformedWindowsError,
  nextAllowedAt,
  nextWindow,
  validateWindows,
  windowStatus,
} from '../../rules/call-windows';
import { describeWindows, formatLongDate, formatShortLocal, speakWindow } from '../../rules/time-format';
import { WEEKDAYS, type CallTimesMeasure, type CallWindow, type Weekday } from '../../rules/types';

const LONDON = 'Europe/London';
const MINUTE = 60_000;
const at = (iso: string): Date => new Date(iso);
const measure = (windows: CallWindow[], bankHolidays?: 'closed' | 'open'): CallTimesMeasure => ({
  type: 'call-times',
  windows,
  ...(bankHolidays ? { bankHolidays } : {}),
});
const span = (start: string, end: string) => ({ start: at(start), end: at(end) });

describe('windowStatus — ordinary days', () => {
  // 2026-11-24 is a Tuesday, in GMT.
  const tueThu = measure([{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }]);

  it('is open from the start, inclusive, and says when it closes', () => {
    expect(windowStatus(tueThu, at('2026-11-24T10:00:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-11-24T12:00:00Z') });
    expect(windowStatus(tueThu, at('2026-11-24T11:59:59.999Z'), LONDON).open).toBe(true);
  });

  it('is closed just before the start, and points at it', () => {
    expect(windowStatus(tueThu, at('2026-11-24T09:59:59.999Z'), LONDON)).toEqual({
      open: false,
      reason: 'outside-call-times',
      next: span('2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z'),
    });
  });

  it('is closed at the end, exclusive, and points at Thursday', () => {
    expect(windowStatus(tueThu, at('2026-11-24T12:00:00Z'), LONDON)).toEqual({
      open: false,
      reason: 'outside-call-times',
      next: span('2026-11-26T10:00:00Z', '2026-11-26T12:00:00Z'),
    });
  });

  it('reads wall-clock time in summer (BST)', () => {
    // Tue 2 June 2026, 10:00 BST = 09:00Z.
    expect(windowStatus(tueThu, at('2026-06-02T09:00:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-06-02T11:00:00Z') });
    expect(windowStatus(tueThu, at('2026-06-02T11:00:00Z'), LONDON).open).toBe(false);
  });

  it('reads wall-clock time in another zone', () => {
    // Tue 24 Nov 2026 10:00 in New York (EST, UTC−5).
    expect(windowStatus(tueThu, at('2026-11-24T15:00:00Z'), 'America/New_York')).toEqual({
      open: true,
      closesAt: at('2026-11-24T17:00:00Z'),
    });
  });
});

describe('windowStatus — bank holidays', () => {
  const mondays = measure([{ days: ['mon'], start: '09:00', end: '17:00' }]);

  it('closes on a bank holiday by default, with reason bank-holiday, and skips it for next', () => {
    // Mon 28 Dec 2026 is the Christmas substitute; Fri 1 Jan 2027 is New Year, so the next Monday is 4 Jan.
    expect(windowStatus(mondays, at('2026-12-28T10:00:00Z'), LONDON)).toEqual({
      open: false,
      reason: 'bank-holiday',
      next: span('2027-01-04T09:00:00Z', '2027-01-04T17:00:00Z'),
    });
  });

  it('says outside-call-times on a bank holiday outside the windows', () => {
    expect(windowStatus(mondays, at('2026-12-28T08:00:00Z'), LONDON)).toMatchObject({ open: false, reason: 'outside-call-times' });
  });

  it('stays open on bank holidays when the measure says open', () => {
    expect(windowStatus(measure(mondays.windows, 'open'), at('2026-12-28T10:00:00Z'), LONDON)).toEqual({
      open: true,
      closesAt: at('2026-12-28T17:00:00Z'),
    });
  });

  it('judges the holiday by the LOCAL date', () => {
    const earlyMonday = measure([{ days: ['mon'], start: '00:00', end: '02:00' }]);
    // 23:30Z on Sun 24 May 2026 is 00:30 BST on Mon 25 May, the Spring bank holiday.
    expect(windowStatus(earlyMonday, at('2026-05-24T23:30:00Z'), LONDON)).toEqual({
      open: false,
      reason: 'bank-holiday',
      next: span('2026-05-31T23:00:00Z', '2026-06-01T01:00:00Z'),
    });
    // A Tuesday-early-hours window at 00:30 BST on Tue 26 May is an ordinary day.
    const earlyTuesday = measure([{ days: ['tue'], start: '00:00', end: '02:00' }]);
    expect(windowStatus(earlyTuesday, at('2026-05-25T23:30:00Z'), LONDON)).toEqual({
      open: true,
      closesAt: at('2026-05-26T01:00:00Z'),
    });
  });

  it.each(['2022-06-03', '2022-09-19', '2023-05-08'])('closes on the one-off holiday %s', (date) => {
    const everyDay = measure([{ days: [...WEEKDAYS], start: '09:00', end: '17:00' }]);
    expect(windowStatus(everyDay, at(`${date}T12:00:00Z`), LONDON)).toMatchObject({ open: false, reason: 'bank-holiday' });
  });
});

describe('DST change days in Europe/London', () => {
  describe('spring forward, Sun 29 March 2026 (01:00 GMT → 02:00 BST)', () => {
    const small = measure([{ days: ['sun'], start: '01:00', end: '03:00' }]);

    it('opens a 01:00–03:00 window for the one real hour, 02:00–03:00 BST', () => {
      expect(windowStatus(small, at('2026-03-29T00:59:59.999Z'), LONDON)).toEqual({
        open: false,
        reason: 'outside-call-times',
        next: span('2026-03-29T01:00:00Z', '2026-03-29T02:00:00Z'),
      });
      expect(windowStatus(small, at('2026-03-29T01:00:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-03-29T02:00:00Z') });
      expect(windowStatus(small, at('2026-03-29T02:00:00Z'), LONDON)).toMatchObject({
        open: false,
        next: span('2026-04-05T00:00:00Z', '2026-04-05T02:00:00Z'),
      });
    });

    it('never opens a window made only of times that do not exist', () => {
      const gone = measure([{ days: ['sun'], start: '01:00', end: '01:30' }]);
      expect(nextWindow(gone, at('2026-03-28T12:00:00Z'), LONDON)).toEqual(span('2026-04-05T00:00:00Z', '2026-04-05T00:30:00Z'));
    });

    it('gives a whole day of 23 hours', () => {
      const allDay = measure([{ days: ['sun'], start: '00:00', end: '24:00' }]);
      expect(nextWindow(allDay, at('2026-03-28T12:00:00Z'), LONDON)).toEqual(span('2026-03-29T00:00:00Z', '2026-03-29T23:00:00Z'));
    });
  });

  describe('fall back, Sun 25 October 2026 (02:00 BST → 01:00 GMT)', () => {
    it('opens a 01:00–01:30 window twice, once in each reading of the repeated hour', () => {
      const twice = measure([{ days: ['sun'], start: '01:00', end: '01:30' }]);
      expect(nextWindow(twice, at('2026-10-24T12:00:00Z'), LONDON)).toEqual(span('2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z'));
      expect(windowStatus(twice, at('2026-10-25T00:10:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-10-25T00:30:00Z') });
      expect(windowStatus(twice, at('2026-10-25T00:45:00Z'), LONDON)).toEqual({
        open: false,
        reason: 'outside-call-times',
        next: span('2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z'),
      });
      expect(windowStatus(twice, at('2026-10-25T01:15:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-10-25T01:30:00Z') });
    });

    it('keeps a 01:00–02:00 window open through both readings', () => {
      const hour = measure([{ days: ['sun'], start: '01:00', end: '02:00' }]);
      expect(windowStatus(hour, at('2026-10-25T00:30:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-10-25T02:00:00Z') });
    });

    it('closes a 01:30–03:00 window when the clock goes back to 01:00, and reopens at the second 01:30', () => {
      const late = measure([{ days: ['sun'], start: '01:30', end: '03:00' }]);
      expect(windowStatus(late, at('2026-10-25T00:45:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-10-25T01:00:00Z') });
      expect(windowStatus(late, at('2026-10-25T01:00:00Z'), LONDON)).toEqual({
        open: false,
        reason: 'outside-call-times',
        next: span('2026-10-25T01:30:00Z', '2026-10-25T03:00:00Z'),
      });
    });

    it('gives a whole day of 25 hours', () => {
      const allDay = measure([{ days: ['sun'], start: '00:00', end: '24:00' }]);
      expect(nextWindow(allDay, at('2026-10-24T12:00:00Z'), LONDON)).toEqual(span('2026-10-24T23:00:00Z', '2026-10-26T00:00:00Z'));
    });
  });
});

describe('midnight, order and overlaps', () => {
  it('treats an end of 24:00 as the midnight closing the day', () => {
    const late = measure([{ days: ['wed'], start: '22:00', end: '24:00' }]);
    expect(windowStatus(late, at('2026-11-25T23:59:59.999Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-11-26T00:00:00Z') });
    expect(windowStatus(late, at('2026-11-26T00:00:00Z'), LONDON).open).toBe(false);
  });

  it('joins windows that touch across midnight into one period, listed in any order', () => {
    const night = measure([
      { days: ['tue'], start: '00:00', end: '01:00' },
      { days: ['mon'], start: '22:00', end: '24:00' },
    ]);
    expect(windowStatus(night, at('2026-11-23T22:30:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-11-24T01:00:00Z') });
    expect(windowStatus(night, at('2026-11-24T00:00:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-11-24T01:00:00Z') });
    // Inside the period, the next START is a week later.
    expect(nextWindow(night, at('2026-11-24T00:00:00Z'), LONDON)).toEqual(span('2026-11-30T22:00:00Z', '2026-12-01T01:00:00Z'));
  });

  it('merges overlapping and adjacent windows', () => {
    const overlapping = measure([
      { days: ['mon'], start: '10:00', end: '12:00' },
      { days: ['mon'], start: '09:00', end: '11:00' },
      { days: ['mon'], start: '12:00', end: '12:30' },
    ]);
    expect(windowStatus(overlapping, at('2026-11-23T09:30:00Z'), LONDON)).toEqual({ open: true, closesAt: at('2026-11-23T12:30:00Z') });
    expect(nextWindow(overlapping, at('2026-11-23T08:00:00Z'), LONDON)).toEqual(span('2026-11-23T09:00:00Z', '2026-11-23T12:30:00Z'));
  });

  it('returns a window starting exactly at `after`, and the following one from inside it', () => {
    const m = measure([{ days: ['thu', 'tue'], start: '10:00', end: '12:00' }]);
    expect(nextWindow(m, at('2026-11-24T10:00:00Z'), LONDON)).toEqual(span('2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z'));
    expect(nextWindow(m, at('2026-11-24T10:00:00.001Z'), LONDON)).toEqual(span('2026-11-26T10:00:00Z', '2026-11-26T12:00:00Z'));
    expect(nextAllowedAt(m, at('2026-11-25T10:00:00Z'), LONDON)).toEqual(at('2026-11-26T10:00:00Z'));
  });

  it('cuts a round-the-clock period at the search horizon and finds no next start inside it', () => {
    const always = measure([{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }], 'open');
    const status = windowStatus(always, at('2026-11-24T10:00:00Z'), LONDON);
    expect(status.open && status.closesAt.getTime() > Date.parse('2027-12-01')).toBe(true);
    expect(nextWindow(always, at('2026-11-24T10:00:00Z'), LONDON)).toBeUndefined();
  });
});

describe('validateWindows', () => {
  it.each<[string, unknown, RegExp]>([
    ['an empty list', [], /At least one/],
    ['not a list', 'mon 10-12', /must be a list/],
    ['no days', [{ days: [], start: '10:00', end: '12:00' }], /window 1 has no days/i],
    ['an unknown day', [{ days: ['tues'], start: '10:00', end: '12:00' }], /unknown day "tues"/],
    ['a bad start', [{ days: ['mon'], start: '9:00', end: '12:00' }], /starts at "9:00"/],
    ['a bad end', [{ days: ['mon'], start: '09:00', end: '12:60' }], /ends at "12:60"/],
    ['24:00 as a start', [{ days: ['mon'], start: '24:00', end: '24:00' }], /starts at "24:00"/],
    ['start after end', [{ days: ['mon'], start: '22:00', end: '02:00' }], /must start before it ends/],
    ['start equal to end', [{ days: ['mon'], start: '10:00', end: '10:00' }], /must start before it ends/],
    ['a bad second window', [{ days: ['mon'], start: '10:00', end: '11:00' }, null], /Call window 2/],
  ])('rejects %s', (_label, windows, message) => {
    expect(validateWindows(windows as CallWindow[])).toMatch(message);
  });

  it('accepts well-formed windows, including an end of 24:00', () => {
    expect(
      validateWindows([
        { days: ['mon', 'sun'], start: '00:00', end: '24:00' },
        { days: ['tue'], start: '23:59', end: '24:00' },
      ]),
    ).toBeUndefined();
  });

  it('makes windowStatus throw a coded error for malformed windows, a bad zone or a bad instant', () => {
    const ok = measure([{ days: ['mon'], start: '10:00', end: '11:00' }]);
    expect(() => windowStatus(measure([]), at('2026-11-24T10:00:00Z'), LONDON)).toThrow(MalformedWindowsError);
    expect(() => windowStatus(ok, at('2026-11-24T10:00:00Z'), 'Europe/Lundun')).toThrow(InvalidTimeZoneError);
    expect(() => nextWindow(ok, new Date(Number.NaN), LONDON)).toThrow(InvalidInstantError);
  });
});

// time-format has no suite of its own; it words these windows, so its examples live here.
describe('time-format', () => {
  it.each<[CallWindow[], string]>([
    [[{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }], 'Tue & Thu 10:00–12:00'],
    [[{ days: ['fri', 'mon', 'wed'], start: '09:00', end: '17:00' }], 'Mon, Wed & Fri 09:00–17:00'],
    [
      [
        { days: ['thu', 'tue'], start: '14:00', end: '16:00' },
        { days: ['mon'], start: '09:00', end: '11:00' },
      ],
      'Mon 09:00–11:00; Tue & Thu 14:00–16:00',
    ],
    [
      [
        { days: ['thu'], start: '10:00', end: '12:00' },
        { days: ['tue'], start: '10:00', end: '12:00' },
      ],
      'Tue & Thu 10:00–12:00',
    ],
    [[{ days: ['sat'], start: '20:00', end: '24:00' }], 'Sat 20:00–24:00'],
  ])('describeWindows %j → %s', (windows, text) => {
    expect(describeWindows(measure(windows))).toBe(text);
  });

  it.each([
    ['2026-11-24T10:00:00Z', '2026-11-24T12:00:00Z', 'Tuesday 24 November between 10am and 12 noon'],
    ['2026-11-24T10:30:00Z', '2026-11-24T12:45:00Z', 'Tuesday 24 November between 10:30am and 12:45pm'],
    ['2026-11-24T22:00:00Z', '2026-11-25T00:00:00Z', 'Tuesday 24 November between 10pm and midnight'],
    ['2026-11-24T00:00:00Z', '2026-11-24T02:05:00Z', 'Tuesday 24 November between midnight and 2:05am'],
    ['2026-06-02T09:00:00Z', '2026-06-02T11:00:00Z', 'Tuesday 2 June between 10am and 12 noon'],
    ['2026-11-23T22:00:00Z', '2026-11-24T01:00:00Z', 'from 10pm on Monday 23 November until 1am on Tuesday 24 November'],
  ])('speakWindow %s – %s → %s', (start, end, words) => {
    expect(speakWindow(span(start, end), LONDON)).toBe(words);
  });

  it('formats short and long local dates', () => {
    expect(formatShortLocal(at('2026-11-26T10:00:00Z'), LONDON)).toBe('Thu 26 Nov 10:00');
    expect(formatShortLocal(at('2026-09-10T08:05:00Z'), LONDON)).toBe('Thu 10 Sep 09:05');
    expect(formatLongDate(at('2026-11-27T10:00:00Z'), LONDON)).toBe('Friday 27 November 2026');
    // 23:30Z on Sun 24 May is already Monday in London.
    expect(formatLongDate(at('2026-05-24T23:30:00Z'), LONDON)).toBe('Monday 25 May 2026');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties. The oracle reads the wall clock with luxon's DateTime, independently of the span arithmetic.

const ZONES = ['Europe/London', 'America/New_York', 'Australia/Lord_Howe'] as const; // Lord Howe shifts by 30 min
const clock = (minutes: number): string =>
  minutes === 1440 ? '24:00' : `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

interface Oracle {
  inWindow: boolean;
  holiday: boolean;
}
function oracle(m: CallTimesMeasure, instant: number, zone: string): Oracle {
  const local = DateTime.fromMillis(instant, { zone });
  const day = WEEKDAYS[local.weekday - 1] as Weekday;
  const minute = local.hour * 60 + local.minute;
  const inWindow = m.windows.some((w) => w.days.includes(day) && minutesOf(w.start) <= minute && minute < minutesOf(w.end));
  const holiday = (m.bankHolidays ?? 'closed') === 'closed' && isBankHoliday(local.toISODate() ?? '');
  return { inWindow, holiday };
}
const oracleOpen = (m: CallTimesMeasure, instant: number, zone: string): boolean => {
  const o = oracle(m, instant, zone);
  return o.inWindow && !o.holiday;
};

// Quarter-hour windows make transitions frequent; DST changes are on whole minutes in every zone used.
const windowArb: fc.Arbitrary<CallWindow> = fc
  .tuple(fc.subarray([...WEEKDAYS], { minLength: 1 }), fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 32 }))
  .map(([days, q, length]) => ({ days, start: clock(q * 15), end: clock(Math.min(96, q + length) * 15) }));
const measureArb: fc.Arbitrary<CallTimesMeasure> = fc
  .tuple(fc.array(windowArb, { minLength: 1, maxLength: 3 }), fc.constantFrom<'closed' | 'open' | undefined>(undefined, 'closed', 'open'))
  .map(([windows, bankHolidays]) => measure(windows, bankHolidays));

// Days that matter: DST changes (London and New York, 2026–27; Lord Howe in April and October) and bank holidays.
const INTERESTING_DAYS = [
  '2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31', '2026-03-08', '2026-11-01', '2026-04-05', '2026-10-04',
  '2026-05-25', '2026-12-25', '2022-06-03', '2023-05-08', '2026-04-03',
].map((d) => Date.parse(`${d}T00:00:00Z`));
const DAY = 86_400_000;
const instantArb: fc.Arbitrary<number> = fc.oneof(
  fc.tuple(fc.constantFrom(...INTERESTING_DAYS), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([d, o]) => d + o),
  fc.integer({ min: Date.parse('2000-01-10T00:00:00Z'), max: Date.parse('2098-06-01T00:00:00Z') }),
);
const minuteInstantArb = instantArb.map((t) => Math.floor(t / MINUTE) * MINUTE);
const zoneArb = fc.constantFrom(...ZONES);

describe('properties', () => {
  it('(a) open exactly when the local time is in a window on a non-holiday day; reason and closesAt agree', () => {
    fc.assert(
      fc.property(measureArb, instantArb, zoneArb, (m, t, zone) => {
        const status = windowStatus(m, new Date(t), zone);
        const o = oracle(m, t, zone);
        expect(status.open).toBe(o.inWindow && !o.holiday);
        if (status.open) {
          const closes = status.closesAt.getTime();
          expect(closes).toBeGreaterThan(t);
          expect(oracleOpen(m, closes - 1, zone)).toBe(true);
          expect(oracleOpen(m, closes, zone)).toBe(false);
        } else {
          expect(status.reason).toBe(o.inWindow ? 'bank-holiday' : 'outside-call-times');
          if (status.next) expect(status.next.start.getTime()).toBeGreaterThan(t);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('(b) nextWindow is the first start at or after `after`, open from start to end (minute scan)', () => {
    const SCAN = 36 * 60; // minutes scanned after `after`
    fc.assert(
      fc.property(measureArb, minuteInstantArb, zoneArb, (m, t, zone) => {
        const next = nextWindow(m, new Date(t), zone);
        const limit = next ? Math.min(next.start.getTime(), t + SCAN * MINUTE) : t + SCAN * MINUTE;
        let wasOpen = oracleOpen(m, t - MINUTE, zone);
        for (let s = t; s < limit; s += MINUTE) {
          const isOpen = oracleOpen(m, s, zone);
          if (isOpen && !wasOpen) throw new Error(`a window starts at ${new Date(s).toISOString()}, before ${next?.start.toISOString()}`);
          wasOpen = isOpen;
        }
        if (next) {
          const [start, end] = [next.start.getTime(), next.end.getTime()];
          expect(start).toBeGreaterThanOrEqual(t);
          expect(windowStatus(m, next.start, zone).open).toBe(true);
          expect(oracleOpen(m, start - 1, zone)).toBe(false);
          expect(oracleOpen(m, end - 1, zone)).toBe(true);
          expect(oracleOpen(m, end, zone)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('(c) the answers do not depend on the order of windows or days', () => {
    const reorderedArb = measureArb.chain((m) =>
      fc
        .tuple(
          fc.shuffledSubarray(m.windows, { minLength: m.windows.length, maxLength: m.windows.length }),
          fc.infiniteStream(fc.integer()),
        )
        .map(([windows, keys]): [CallTimesMeasure, CallTimesMeasure] => {
          const iterator = keys[Symbol.iterator]();
          const shuffle = (days: Weekday[]): Weekday[] =>
            days.map((d) => ({ d, k: iterator.next().value as number })).sort((a, b) => a.k - b.k).map((x) => x.d);
          return [m, { ...m, windows: windows.map((w) => ({ ...w, days: shuffle(w.days) })) }];
        }),
    );
    fc.assert(
      fc.property(reorderedArb, instantArb, zoneArb, ([m, reordered], t, zone) => {
        expect(windowStatus(reordered, new Date(t), zone)).toEqual(windowStatus(m, new Date(t), zone));
        expect(nextWindow(reordered, new Date(t), zone)).toEqual(nextWindow(m, new Date(t), zone));
      }),
      { numRuns: 150 },
    );
  });

  it('(d) across DST change days, every instant the clock reads the start is open and the end is closed', () => {
    const dstDayArb = fc.constantFrom(
      { zone: 'Europe/London', day: '2026-03-29' },
      { zone: 'Europe/London', day: '2026-10-25' },
      { zone: 'America/New_York', day: '2026-03-08' },
      { zone: 'America/New_York', day: '2026-11-01' },
      { zone: 'Australia/Lord_Howe', day: '2026-04-05' },
      { zone: 'Australia/Lord_Howe', day: '2026-10-04' },
    );
    fc.assert(
      fc.property(windowArb, dstDayArb, fc.integer({ min: -DAY, max: 2 * DAY }), (w, { zone, day }, offset) => {
        const m = measure([{ ...w, days: [...WEEKDAYS] }], 'open');
        const midnight = Date.parse(`${day}T00:00:00Z`);
        // Every instant whose wall clock reads exactly HH:mm on `day`: try each offset of the zone that day.
        const readings = (hhmm: string): number[] => {
          const minutes = minutesOf(hhmm);
          const offsets = new Set([-DAY, 0, DAY].map((d) => DateTime.fromMillis(midnight + d, { zone }).offset));
          return [...offsets]
            .map((o) => midnight + minutes * MINUTE - o * MINUTE)
            .filter((i) => {
              const local = DateTime.fromMillis(i, { zone });
              const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
              return wall === midnight + minutes * MINUTE && local.millisecond === 0;
            });
        };
        for (const i of readings(w.start)) {
          expect(windowStatus(m, new Date(i), zone).open).toBe(true);
          expect(windowStatus(m, new Date(i - 1), zone).open).toBe(oracleOpen(m, i - 1, zone));
        }
        for (const i of readings(w.end)) {
          expect(windowStatus(m, new Date(i), zone).open).toBe(false);
          expect(windowStatus(m, new Date(i - 1), zone).open).toBe(oracleOpen(m, i - 1, zone));
        }
        const random = midnight + offset;
        expect(windowStatus(m, new Date(random), zone).open).toBe(oracleOpen(m, random, zone));
      }),
      { numRuns: 200 },
    );
  });
});
