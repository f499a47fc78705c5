/**
 * normalisePhone remembers what it parsed (a bounded LRU): the remembered answer is the parsed one, also
 * for a number pushed out of the memory and parsed again. No Redis needed; it sits with the store's suites.
 */
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
