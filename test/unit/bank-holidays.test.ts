import fc from 'fast-check';

import {
  bankHolidayEntriesOf,
  bankHolidaysOf,
  civilDayOf,
  easterSundayOf,
  InvalidIsoDateError,
  isBankHoliday,
  YearOutOfRangeError,
} from '../../rules/bank-holidays';

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const weekday = (isoDate: string): number => new Date(`${isoDate}T00:00:00Z`).getUTCDay();

describe('bankHolidaysOf — the published gov.uk lists', () => {
  // Copied from gov.uk/bank-holidays (England and Wales).
  const published: Record<number, string[]> = {
    2002: ['01-01', '03-29', '04-01', '05-06', '06-03', '06-04', '08-26', '12-25', '12-26'],
    2010: ['01-01', '04-02', '04-05', '05-03', '05-31', '08-30', '12-27', '12-28'],
    2011: ['01-03', '04-22', '04-25', '04-29', '05-02', '05-30', '08-29', '12-26', '12-27'],
    2012: ['01-02', '04-06', '04-09', '05-07', '06-04', '06-05', '08-27', '12-25', '12-26'],
    2015: ['01-01', '04-03', '04-06', '05-04', '05-25', '08-31', '12-25', '12-28'],
    2016: ['01-01', '03-25', '03-28', '05-02', '05-30', '08-29', '12-26', '12-27'],
    2019: ['01-01', '04-19', '04-22', '05-06', '05-27', '08-26', '12-25', '12-26'],
    2020: ['01-01', '04-10', '04-13', '05-08', '05-25', '08-31', '12-25', '12-28'],
    2021: ['01-01', '04-02', '04-05', '05-03', '05-31', '08-30', '12-27', '12-28'],
    2022: ['01-03', '04-15', '04-18', '05-02', '06-02', '06-03', '08-29', '09-19', '12-26', '12-27'],
    2023: ['01-02', '04-07', '04-10', '05-01', '05-08', '05-29', '08-28', '12-25', '12-26'],
    2024: ['01-01', '03-29', '04-01', '05-06', '05-27', '08-26', '12-25', '12-26'],
    2025: ['01-01', '04-18', '04-21', '05-05', '05-26', '08-25', '12-25', '12-26'],
    2026: ['01-01', '04-03', '04-06', '05-04', '05-25', '08-31', '12-25', '12-28'],
    2027: ['01-01', '03-26', '03-29', '05-03', '05-31', '08-30', '12-27', '12-28'],
  };
  it.each(Object.entries(published))('%s', (year, days) => {
    expect(bankHolidaysOf(Number(year))).toEqual(days.map((d) => `${year}-${d}`));
  });
});

describe('one-off and moved holidays', () => {
  it.each([
    ['2002-06-03', 'Golden Jubilee bank holiday'],
    ['2002-06-04', 'Spring bank holiday'],
    ['2011-04-29', 'Royal wedding'],
    ['2012-06-04', 'Spring bank holiday'],
    ['2012-06-05', 'Diamond Jubilee'],
    ['2020-05-08', 'Early May bank holiday (VE day)'],
    ['2022-06-02', 'Spring bank holiday'],
    ['2022-06-03', 'Platinum Jubilee bank holiday'],
    ['2022-09-19', 'Bank Holiday for the State Funeral of Queen Elizabeth II'],
    ['2023-05-08', 'Bank holiday for the coronation of King Charles III'],
  ])('%s is "%s"', (date, title) => {
    expect(bankHolidayEntriesOf(Number(date.slice(0, 4)))).toContainEqual({ date, title });
    expect(isBankHoliday(date)).toBe(true);
  });

  it.each(['2002-05-27', '2012-05-28', '2020-05-04', '2022-05-30'])('the usual day %s is no holiday when moved', (date) => {
    expect(isBankHoliday(date)).toBe(false);
  });
});

describe('substitute days', () => {
  it.each([
    // Christmas on Saturday: Mon 27 and Tue 28.
    [2010, ['2010-12-27', '2010-12-28'], ['2010-12-25', '2010-12-26']],
    [2021, ['2021-12-27', '2021-12-28'], ['2021-12-25', '2021-12-26']],
    [2027, ['2027-12-27', '2027-12-28'], ['2027-12-25', '2027-12-26']],
    // Christmas on Sunday: Boxing Day Mon 26, substitute Christmas Tue 27.
    [2011, ['2011-12-26', '2011-12-27'], ['2011-12-25']],
    [2016, ['2016-12-26', '2016-12-27'], ['2016-12-25']],
    [2022, ['2022-12-26', '2022-12-27'], ['2022-12-25']],
    // Christmas on Friday: Boxing Day moves to Mon 28.
    [2015, ['2015-12-25', '2015-12-28'], ['2015-12-26']],
    [2020, ['2020-12-25', '2020-12-28'], ['2020-12-26']],
  ])('Christmas %i', (year, holidays, notHolidays) => {
    for (const d of holidays) expect(isBankHoliday(d)).toBe(true);
    for (const d of notHolidays) expect(isBankHoliday(d)).toBe(false);
    expect(bankHolidaysOf(year).filter((d) => d.slice(5, 7) === '12')).toEqual(holidays);
  });

  it.each([
    [2011, '2011-01-03'], // Saturday
    [2022, '2022-01-03'], // Saturday
    [2017, '2017-01-02'], // Sunday
    [2023, '2023-01-02'], // Sunday
    [2026, '2026-01-01'], // Thursday
  ])('New Year %i falls on %s', (year, date) => {
    expect(bankHolidaysOf(year)[0]).toBe(date);
  });
});

describe('easterSundayOf', () => {
  it.each([
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2038, '2038-04-25'],
    [2095, '2095-04-24'],
    [2099, '2099-04-12'],
  ])('%i → %s', (year, date) => {
    expect(iso(easterSundayOf(year))).toBe(date);
  });
});

describe('range and input errors', () => {
  it.each([1999, 2100, 2026.5, Number.NaN])('refuses year %p with a coded error', (year) => {
    expect(() => bankHolidaysOf(year)).toThrow(YearOutOfRangeError);
    expect(() => bankHolidaysOf(year)).toThrow(expect.objectContaining({ code: 'year-out-of-range' }));
  });

  it('accepts both ends of the range', () => {
    expect(bankHolidaysOf(2000)).toContain('2000-04-24');
    expect(bankHolidaysOf(2099)).toContain('2099-04-13');
  });

  it.each(['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', '2026-01-01T00:00'])('rejects %p', (date) => {
    expect(() => isBankHoliday(date)).toThrow(InvalidIsoDateError);
  });

  it('isBankHoliday refuses a year it cannot know', () => {
    expect(() => isBankHoliday('2100-01-01')).toThrow(expect.objectContaining({ code: 'year-out-of-range' }));
  });

  it('civilDayOf reads a real date', () => {
    expect(civilDayOf('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });
});

describe('properties of every supported year', () => {
  const year = fc.integer({ min: 2000, max: 2099 });

  it('sorted, unique, on weekdays, eight regular holidays plus that year’s one-offs', () => {
    const oneOffs: Record<number, number> = { 2002: 1, 2011: 1, 2012: 1, 2022: 2, 2023: 1 };
    fc.assert(
      fc.property(year, (y) => {
        const days = bankHolidaysOf(y);
        expect([...days].sort()).toEqual(days);
        expect(new Set(days).size).toBe(days.length);
        expect(days).toHaveLength(8 + (oneOffs[y] ?? 0));
        for (const d of days) {
          expect(d.startsWith(`${y}-`)).toBe(true);
          expect([0, 6]).not.toContain(weekday(d));
          expect(isBankHoliday(d)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('Easter is a Sunday between 22 March and 25 April, with Good Friday and Easter Monday around it', () => {
    fc.assert(
      fc.property(year, (y) => {
        const easter = iso(easterSundayOf(y));
        expect(weekday(easter)).toBe(0);
        expect(easter >= `${y}-03-22` && easter <= `${y}-04-25`).toBe(true);
        const days = bankHolidaysOf(y);
        expect(days).toContain(iso(easterSundayOf(y) - 2 * 86_400_000));
        expect(days).toContain(iso(easterSundayOf(y) + 86_400_000));
      }),
      { numRuns: 100 },
    );
  });
});
