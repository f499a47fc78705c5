/**
 * The pure memory in the rules gives the answers the computation gives: call windows remembered per
 * (measure, zone, local date) and phrasings per instant. Each remembered answer is compared with one
 * computed afresh — for windows, by asking about the same windows written with their fields in another
 * order, which the memory keys apart.
 */
import fc from 'fast-check';

import { nextWindow, windowStatus } from '../../rules/call-windows';
import { formatShortLocal, speakWindow } from '../../rules/time-format';
import { WEEKDAYS, type CallTimesMeasure, type CallWindow } from '../../rules/types';

const DAY = 86_400_000;
const clock = (minutes: number): string =>
  minutes === 1440 ? '24:00' : `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const windowArb: fc.Arbitrary<CallWindow> = fc
  .tuple(fc.subarray([...WEEKDAYS], { minLength: 1 }), fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 32 }))
  .map(([days, q, length]) => ({ days, start: clock(q * 15), end: clock(Math.min(96, q + length) * 15) }));
const measureArb = fc
  .tuple(fc.array(windowArb, { minLength: 1, maxLength: 3 }), fc.constantFrom<'closed' | 'open' | undefined>(undefined, 'closed', 'open'))
  .map(([windows, bankHolidays]): CallTimesMeasure => ({ type: 'call-times', windows, ...(bankHolidays ? { bankHolidays } : {}) }));
/** Local dates around DST changes and bank holidays, and any date at all. */
const dayArb = fc.oneof(
  fc.constantFrom('2026-03-29', '2026-10-25', '2026-03-08', '2026-11-01', '2026-04-05', '2026-12-25', '2022-06-03').map((d) => Date.parse(`${d}T00:00:00Z`)),
  fc.integer({ min: 11_000, max: 40_000 }).map((n) => n * DAY),
);
const zoneArb = fc.constantFrom('Europe/London', 'America/New_York', 'Australia/Lord_Howe');

/** The same windows with their fields in another order: equal in meaning, a different memory key. */
function reordered(m: CallTimesMeasure): CallTimesMeasure {
  return { ...m, windows: m.windows.map((w) => ({ end: w.end, start: w.start, days: [...w.days] })) };
}

describe('call windows remembered per measure, zone and local date', () => {
  it('answer every instant of a day as a fresh computation does', () => {
    fc.assert(
      fc.property(measureArb, dayArb, zoneArb, fc.array(fc.integer({ min: -DAY, max: 2 * DAY }), { minLength: 2, maxLength: 8 }), (m, day, zone, offsets) => {
        // Many instants near one day: after the first, the answers come from memory.
        for (const offset of offsets) {
          const now = new Date(day + offset);
          const fresh = reordered(m);
          expect(windowStatus(m, now, zone)).toEqual(windowStatus(fresh, now, zone));
          expect(nextWindow(m, now, zone)).toEqual(nextWindow(reordered(m), now, zone));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keep malformed windows malformed', () => {
    const bad: CallTimesMeasure = { type: 'call-times', windows: [{ days: ['tue'], start: '12:00', end: '10:00' }] };
    expect(() => windowStatus(bad, new Date('2026-11-24T11:00:00Z'), 'Europe/London')).toThrow(expect.objectContaining({ code: 'malformed-windows' }));
    expect(() => windowStatus(bad, new Date('2026-11-24T11:00:00Z'), 'Europe/London')).toThrow(expect.objectContaining({ code: 'malformed-windows' }));
  });
});

describe('phrasings remembered per instant and zone', () => {
  it('are the same the second time, and differ by zone', () => {
    const window = { start: new Date('2026-11-25T10:00:00Z'), end: new Date('2026-11-25T12:00:00Z') };
    const first = speakWindow(window, 'Europe/London');
    expect(speakWindow({ start: new Date(window.start), end: new Date(window.end) }, 'Europe/London')).toBe(first);
    expect(first).toBe('Wednesday 25 November between 10am and 12 noon');
    expect(speakWindow(window, 'America/New_York')).toBe('Wednesday 25 November between 5am and 7am');
    expect(formatShortLocal(window.start, 'Europe/London')).toBe('Wed 25 Nov 10:00');
    expect(formatShortLocal(window.start, 'Australia/Lord_Howe')).toBe('Wed 25 Nov 21:00');
  });
});
