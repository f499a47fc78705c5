import fc from 'fast-check';
import { DateTime } from 'luxon';

import { bankHolidaysOf, YearOutOfRangeError } from '../../rules/bank-holidays';
import { addWorkingDays, firstWorkingDayOfMonth, InvalidWorkingDaysError, isWorkingDay } from '../../rules/working-days';

const LONDON = 'Europe/London';
const at = (iso: string): Date => new Date(iso);

describe('isWorkingDay', () => {
  it.each([
    ['2026-11-27', true], // Friday
    ['2026-11-28', false], // Saturday
    ['2026-11-29', false], // Sunday
    ['2026-12-25', false], // Christmas, Friday
    ['2026-12-28', false], // Boxing Day substitute, Monday
    ['2026-12-29', true],
    ['2022-09-19', false], // State Funeral
    ['2020-05-04', true], // the usual Early May Monday, moved that year
    ['2020-05-08', false],
  ])('%s → %p', (date, expected) => {
    expect(isWorkingDay(date)).toBe(expected);
  });

  it('refuses dates it cannot judge', () => {
    expect(() => isWorkingDay('2026-02-29')).toThrow(expect.objectContaining({ code: 'invalid-date' }));
    expect(() => isWorkingDay('2100-03-01')).toThrow(YearOutOfRangeError);
  });
});

describe('addWorkingDays', () => {
  it('counts from the next day and ends at the end of the last working day, local time', () => {
    // Wed 25 Nov 2026 + 10 working days → Wed 9 Dec, 23:59:59.999 GMT.
    expect(addWorkingDays(at('2026-11-25T10:00:00Z'), 10, LONDON)).toEqual(at('2026-12-09T23:59:59.999Z'));
  });

  it('skips weekends and bank holidays', () => {
    // Thu 24 Dec 2026 + 1 → Tue 29 Dec (Fri 25 and Mon 28 are holidays).
    expect(addWorkingDays(at('2026-12-24T12:00:00Z'), 1, LONDON)).toEqual(at('2026-12-29T23:59:59.999Z'));
    // Fri 22 May 2026 + 1 → Tue 26 May (Mon 25 is Spring bank holiday), end of day BST.
    expect(addWorkingDays(at('2026-05-22T12:00:00Z'), 1, LONDON)).toEqual(at('2026-05-26T22:59:59.999Z'));
  });

  it('takes the local date of `from`, and n = 0 means the end of that day', () => {
    // 23:30Z on Sun 24 May is 00:30 BST on Mon 25 May.
    expect(addWorkingDays(at('2026-05-24T23:30:00Z'), 0, LONDON)).toEqual(at('2026-05-25T22:59:59.999Z'));
    expect(addWorkingDays(at('2026-05-24T23:30:00Z'), 1, LONDON)).toEqual(at('2026-05-26T22:59:59.999Z'));
  });

  it('keeps local dates across a DST change', () => {
    // Fri 27 Mar 2026 (GMT) + 1 → Mon 30 Mar, 23:59:59.999 BST.
    expect(addWorkingDays(at('2026-03-27T12:00:00Z'), 1, LONDON)).toEqual(at('2026-03-30T22:59:59.999Z'));
    // Fri 23 Oct 2026 (BST) + 1 → Mon 26 Oct, 23:59:59.999 GMT.
    expect(addWorkingDays(at('2026-10-23T12:00:00Z'), 1, LONDON)).toEqual(at('2026-10-26T23:59:59.999Z'));
  });

  it.each([-1, 1.5, Number.NaN])('refuses n = %p with a coded error', (n) => {
    expect(() => addWorkingDays(at('2026-11-25T10:00:00Z'), n, LONDON)).toThrow(InvalidWorkingDaysError);
    expect(() => addWorkingDays(at('2026-11-25T10:00:00Z'), n, LONDON)).toThrow(
      expect.objectContaining({ code: 'invalid-working-days' }),
    );
  });

  it('refuses an unknown zone', () => {
    expect(() => addWorkingDays(at('2026-11-25T10:00:00Z'), 1, 'Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'invalid-time-zone' }),
    );
  });

  it('property: exactly n working days lie after the start date up to the deadline date', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2001-01-01T00:00:00Z'), max: Date.parse('2098-06-01T00:00:00Z') }),
        fc.integer({ min: 0, max: 25 }),
        fc.constantFrom(LONDON, 'Asia/Tokyo', 'America/Los_Angeles'),
        (from, n, zone) => {
          const deadline = DateTime.fromJSDate(addWorkingDays(new Date(from), n, zone), { zone });
          expect(deadline.equals(deadline.endOf('day'))).toBe(true);
          let count = 0;
          const start = DateTime.fromMillis(from, { zone }).startOf('day');
          for (let d = start.plus({ days: 1 }); d <= deadline; d = d.plus({ days: 1 })) {
            if (isWorkingDay(d.toISODate() ?? '')) count++;
          }
          expect(count).toBe(n);
          if (n > 0) expect(isWorkingDay(deadline.toISODate() ?? '')).toBe(true);
          else expect(deadline.hasSame(start, 'day')).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('firstWorkingDayOfMonth', () => {
  it.each([
    [2026, 6, '2026-06-01'], // Monday
    [2026, 5, '2026-05-01'], // Friday
    [2026, 8, '2026-08-03'], // Sat 1, Sun 2
    [2027, 1, '2027-01-04'], // Fri 1 New Year, weekend
    [2022, 1, '2022-01-04'], // Sat 1, Sun 2, Mon 3 substitute New Year
    [2005, 3, '2005-03-01'],
    [2024, 4, '2024-04-02'], // Mon 1 Easter Monday
  ])('%i-%i → %s', (year, month, expected) => {
    expect(firstWorkingDayOfMonth(year, month)).toBe(expected);
  });

  it('finds the day after a Good Friday on the 1st, its weekend and Easter Monday', () => {
    const year = [...Array(100).keys()].map((i) => 2000 + i).find((y) => bankHolidaysOf(y).includes(`${y}-04-01`) && bankHolidaysOf(y).includes(`${y}-04-04`));
    expect(year).toBeDefined();
    expect(firstWorkingDayOfMonth(year as number, 4)).toBe(`${year}-04-05`);
  });

  it('refuses a month outside 1–12', () => {
    expect(() => firstWorkingDayOfMonth(2026, 13)).toThrow(RangeError);
    expect(() => firstWorkingDayOfMonth(2026, 0)).toThrow(RangeError);
  });

  it('property: a working day, with none before it in the month', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 2099 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        const first = firstWorkingDayOfMonth(year, month);
        expect(first.startsWith(`${year}-${String(month).padStart(2, '0')}-`)).toBe(true);
        expect(isWorkingDay(first)).toBe(true);
        for (let day = 1; day < Number(first.slice(8)); day++) {
          expect(isWorkingDay(`${first.slice(0, 8)}${String(day).padStart(2, '0')}`)).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});
