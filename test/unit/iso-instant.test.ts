/**
 * Instants in Decisions are written as the contract writes them (DESIGN.md §3: "2026-11-25T10:00:00Z"),
 * without losing any precision.
 */
import fc from 'fast-check';
import { isoInstant } from '../../rules/time-format';

describe('isoInstant', () => {
  it('writes a whole-second instant without milliseconds, as the contract does', () => {
    expect(isoInstant(new Date('2026-11-25T10:00:00.000Z'))).toBe('2026-11-25T10:00:00Z');
  });

  it('keeps milliseconds when there are any', () => {
    expect(isoInstant(new Date('2026-11-25T10:00:00.250Z'))).toBe('2026-11-25T10:00:00.250Z');
  });

  it('always reads back as the same instant, in UTC', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), (d) => {
        const written = isoInstant(d);
        expect(written.endsWith('Z')).toBe(true);
        expect(written).not.toContain('.000');
        expect(Date.parse(written)).toBe(d.getTime());
      }),
    );
  });
});
