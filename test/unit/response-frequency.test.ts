import fc from 'fast-check';
import { DateTime } from 'luxon';

import { InvalidResponseFrequencyError, nextResponseAt, parseIsoDuration } from '../../rules/response-frequency';
import { WEEKDAYS, type ResponseFrequencyMeasure, type Weekday } from '../../rules/types';
import { isWorkingDay } from '../../rules/working-days';

const LONDON = 'Europe/London';
const at = (iso: string): Date => new Date(iso);
const weekly = (weekday?: Weekday, every = 'P7D'): ResponseFrequencyMeasure => ({
  type: 'response-frequency',
  every,
  ...(weekday ? { weekday } : {}),
});

describe('parseIsoDuration', () => {
  it.each([
    ['P1D', 1],
    ['P7D', 7],
    ['P30D', 30],
    ['P1W', 7],
    ['P2W', 14],
    ['P9999D', 9999],
  ])('%s is %i days', (s, days) => {
    expect(parseIsoDuration(s)).toEqual({ days });
  });

  it.each(['P1M', 'P1Y', 'P0D', 'P0W', 'PT24H', 'P1DT2H', 'P1W2D', '7D', 'p7d', 'P7.5D', 'P07D', 'P', '', ' P7D', 'P10000D'])(
    'rejects %p',
    (s) => {
      expect(parseIsoDuration(s)).toBeUndefined();
    },
  );
});

describe('nextResponseAt', () => {
  it('answers the design example: weekly on Fridays, asked on a Wednesday', () => {
    expect(nextResponseAt(weekly('fri'), at('2026-11-25T10:00:00Z'), LONDON)).toEqual(at('2026-11-27T09:00:00.000Z'));
  });

  it('is inclusive of the response hour itself on the day', () => {
    expect(nextResponseAt(weekly('fri'), at('2026-11-27T08:59:00Z'), LONDON)).toEqual(at('2026-11-27T09:00:00Z'));
    expect(nextResponseAt(weekly('fri'), at('2026-11-27T09:00:00Z'), LONDON)).toEqual(at('2026-11-27T09:00:00Z'));
    expect(nextResponseAt(weekly('fri'), at('2026-11-27T09:00:00.001Z'), LONDON)).toEqual(at('2026-12-04T09:00:00Z'));
  });

  it('waits the interval after the last response, counted in dates', () => {
    // Last replied Fri 20 Nov; asked Mon 23 Nov: the next reply is due Fri 27 Nov.
    expect(nextResponseAt(weekly('fri'), at('2026-11-23T12:00:00Z'), LONDON, at('2026-11-20T09:00:00Z'))).toEqual(
      at('2026-11-27T09:00:00Z'),
    );
    // A reply sent late on a Friday still makes the next Friday due, not the one after.
    expect(nextResponseAt(weekly('fri'), at('2026-11-23T12:00:00Z'), LONDON, at('2026-11-20T16:30:00Z'))).toEqual(
      at('2026-11-27T09:00:00Z'),
    );
    // Fortnightly without a weekday: due Wed 9 Dec, the first working day on or after it.
    expect(nextResponseAt(weekly(undefined, 'P2W'), at('2026-11-26T12:00:00Z'), LONDON, at('2026-11-25T15:00:00Z'))).toEqual(
      at('2026-12-09T09:00:00Z'),
    );
  });

  it('ignores a last response long enough ago', () => {
    expect(nextResponseAt(weekly('fri'), at('2026-11-25T10:00:00Z'), LONDON, at('2026-10-02T09:00:00Z'))).toEqual(
      at('2026-11-27T09:00:00Z'),
    );
  });

  it('without a weekday, takes the next working day at the response hour, skipping bank holidays', () => {
    expect(nextResponseAt(weekly(), at('2026-11-25T10:00:00Z'), LONDON)).toEqual(at('2026-11-26T09:00:00Z'));
    expect(nextResponseAt(weekly(), at('2026-11-25T08:00:00Z'), LONDON)).toEqual(at('2026-11-25T09:00:00Z'));
    // Thu 24 Dec 2026 after 09:00: Fri 25 and Mon 28 are bank holidays, so Tue 29.
    expect(nextResponseAt(weekly(), at('2026-12-24T10:00:00Z'), LONDON)).toEqual(at('2026-12-29T09:00:00Z'));
    // Sat 28 Nov → Mon 30 Nov.
    expect(nextResponseAt(weekly(), at('2026-11-28T08:00:00Z'), LONDON)).toEqual(at('2026-11-30T09:00:00Z'));
  });

  it('keeps the fixed weekday even on a bank holiday (documented choice)', () => {
    // Good Friday 3 April 2026, 09:00 BST.
    expect(nextResponseAt(weekly('fri'), at('2026-04-01T10:00:00Z'), LONDON)).toEqual(at('2026-04-03T08:00:00Z'));
  });

  it('reads the response hour in local time across a DST change', () => {
    // Replied Fri 23 Oct 09:00 BST (08:00Z); clocks go back on 25 Oct; the next is Fri 30 Oct 09:00 GMT.
    expect(nextResponseAt(weekly('fri'), at('2026-10-26T12:00:00Z'), LONDON, at('2026-10-23T08:00:00Z'))).toEqual(
      at('2026-10-30T09:00:00Z'),
    );
    // Summer: 09:00 BST is 08:00Z.
    expect(nextResponseAt(weekly(), at('2026-06-01T07:00:00Z'), LONDON)).toEqual(at('2026-06-01T08:00:00Z'));
  });

  it('honours another response hour', () => {
    expect(nextResponseAt(weekly('tue'), at('2026-11-24T10:00:00Z'), LONDON, undefined, 14)).toEqual(at('2026-11-24T14:00:00Z'));
  });

  it.each<[string, () => unknown, string]>([
    ['a month duration', () => nextResponseAt(weekly('fri', 'P1M'), at('2026-11-25T10:00:00Z'), LONDON), 'invalid-duration'],
    ['an unknown weekday', () => nextResponseAt(weekly('fr' as Weekday), at('2026-11-25T10:00:00Z'), LONDON), 'invalid-weekday'],
    ['hour 24', () => nextResponseAt(weekly(), at('2026-11-25T10:00:00Z'), LONDON, undefined, 24), 'invalid-response-hour'],
    ['an invalid date', () => nextResponseAt(weekly(), new Date(Number.NaN), LONDON), 'invalid-instant'],
  ])('throws a coded error for %s', (_label, call, code) => {
    expect(call).toThrow(InvalidResponseFrequencyError);
    expect(call).toThrow(expect.objectContaining({ code }));
  });
});

describe('nextResponseAt — properties', () => {
  const instant = fc.integer({ min: Date.parse('2001-01-01T00:00:00Z'), max: Date.parse('2098-01-01T00:00:00Z') });
  const measureArb = fc
    .tuple(fc.option(fc.constantFrom(...WEEKDAYS), { nil: undefined }), fc.constantFrom('P1D', 'P3D', 'P7D', 'P1W', 'P2W'))
    .map(([weekday, every]) => weekly(weekday, every));

  it('is the first qualifying day at the response hour, not before now or the due date', () => {
    fc.assert(
      fc.property(
        measureArb,
        instant,
        fc.option(fc.integer({ min: 0, max: 30 * 86_400_000 }), { nil: undefined }),
        fc.integer({ min: 6, max: 18 }),
        fc.constantFrom(LONDON, 'America/New_York'),
        (m, now, sinceLast, hour, zone) => {
          const last = sinceLast === undefined ? undefined : new Date(now - sinceLast);
          const result = nextResponseAt(m, new Date(now), zone, last, hour);
          const local = DateTime.fromJSDate(result, { zone });
          const qualifies = (d: DateTime): boolean =>
            m.weekday ? WEEKDAYS[d.weekday - 1] === m.weekday : isWorkingDay(d.toISODate() ?? '');
          const days = parseIsoDuration(m.every)?.days ?? Number.NaN;
          const due = last ? DateTime.fromJSDate(last, { zone }).startOf('day').plus({ days }) : undefined;

          expect(result.getTime()).toBeGreaterThanOrEqual(now);
          expect([local.hour, local.minute, local.second, local.millisecond]).toEqual([hour, 0, 0, 0]);
          expect(qualifies(local)).toBe(true);
          if (due) expect(local.startOf('day') >= due).toBe(true);
          // Nothing earlier would do: each earlier day either does not qualify or is before now or the due date.
          for (let d = local.startOf('day').minus({ days: 1 }); d.endOf('day').toMillis() >= now; d = d.minus({ days: 1 })) {
            const candidate = d.set({ hour });
            const allowed = candidate.toMillis() >= now && (!due || d >= due) && qualifies(d);
            expect(allowed).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
