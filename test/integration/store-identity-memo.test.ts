/**
 * normalisePhone remembers what it parsed (a bounded LRU): the remembered answer is the parsed one, also
 * for a number pushed out of the memory and parsed again. No Redis needed; it sits with the store's suites.
 */
import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

import { normalisePhone, PHONE_MEMORY_SIZE } from '../../store/identity';

describe('phone numbers remembered per raw caller ID', () => {
  it('give the same answer from memory as the first time, also after being evicted', () => {
    const raws = ['07700 900123', '+447700900123', 'anonymous', '0800 FLOWERS', '(202) 555-0143', '+266696687'];
    const first = raws.map((r) => normalisePhone(r));
    expect(raws.map((r) => normalisePhone(r))).toEqual(first);
    // More distinct numbers than the memory holds push the first ones out; they are parsed again, alike.
    for (let i = 0; i <= PHONE_MEMORY_SIZE; i++) normalisePhone(`+4474${String(i).padStart(8, '0')}`);
    expect(raws.map((r) => normalisePhone(r))).toEqual(first);
    expect(first).toEqual(['+447700900123', '+447700900123', undefined, undefined, '+442025550143', undefined]);
    expect(normalisePhone('(202) 555-0143', 'US')).toBe('+12025550143');
  });
});

describe('UK numbers already in E.164 (the fast path, no parsing)', () => {
  /** What libphonenumber itself says, with none of normalisePhone's shortcuts. */
  function libphonenumberSays(raw: string): string | undefined {
    const parsed = parsePhoneNumberFromString(raw, 'GB');
    return parsed !== undefined && parsed.isPossible() ? parsed.number : undefined;
  }

  it('agrees with libphonenumber for any +44 followed by ten digits', () => {
    const tenDigits = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }));
    fc.assert(
      fc.property(tenDigits, ([first, rest]) => {
        const raw = `+44${first}${rest.join('')}`;
        expect(normalisePhone(raw)).toBe(libphonenumberSays(raw));
      }),
      { numRuns: 5000 },
    );
  });

  it('is taken only for that exact form; near misses are parsed as before', () => {
    expect(normalisePhone('+4407700900123')).toBe(libphonenumberSays('+4407700900123'));
    expect(normalisePhone(' +447700900124')).toBe('+447700900124');
    expect(normalisePhone('+44770090012')).toBe(libphonenumberSays('+44770090012'));
    expect(normalisePhone('+4477009001234')).toBeUndefined();
    expect(normalisePhone('tel:+447700900125')).toBe('+447700900125');
  });
});
