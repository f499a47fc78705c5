/**
 * Identity normalisation and the key layout. No Redis needed, but these decide what the gate's one lookup
 * can find, so they sit with the store's suites. Property-based where the input space is large.
 */
import fc from 'fast-check';
import { isWithheldCallerId, normaliseEmail, normalisePhone } from '../../store/identity';
import { contactKeys, customerKeys, identityKey, identityRevKey } from '../../store/keys';
import { parseHostPorts, redisTargetFromSettings } from '../../store/redis-target';

/** The hash tag Redis Cluster hashes: the text between the first `{` and the next `}`, when non-empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('normalisePhone', () => {
  it.each([
    ['07700 900123', '+447700900123'],
    ['+44 7700 900123', '+447700900123'],
    ['0044 7700 900123', '+447700900123'],
    ['(07700) 900-123', '+447700900123'],
    ['tel:+447700900123', '+447700900123'],
    ['020 7946 0018', '+442079460018'],
    ['+1 202 555 0143', '+12025550143'],
  ])('reads %s as %s', (raw, e164) => {
    expect(normalisePhone(raw)).toBe(e164);
  });

  it.each(['', '12', 'anonymous', '+266696687', '+86282452253', '0800 FLOWERS', 'call me'])('gives undefined for %p', (raw) => {
    expect(normalisePhone(raw)).toBeUndefined();
  });

  it('reads national formats in the region given', () => {
    expect(normalisePhone('(202) 555-0143', 'US')).toBe('+12025550143');
  });

  it('gives the same E.164 for every way of writing a UK mobile number', () => {
    const subscriber = fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0'));
    const layout = fc.constantFrom(
      (s: string) => `07700 ${s}`,
      (s: string) => `07700${s}`,
      (s: string) => `+44 7700 ${s}`,
      (s: string) => `+44 (0)7700 ${s.slice(0, 3)} ${s.slice(3)}`,
      (s: string) => `0044 7700 ${s}`,
      (s: string) => `  +447700${s}  `,
      (s: string) => `07700-${s.slice(0, 3)}-${s.slice(3)}`,
    );
    fc.assert(
      fc.property(subscriber, layout, (s, format) => {
        expect(normalisePhone(format(s))).toBe(`+447700${s}`);
      }),
    );
  });

  it('is idempotent: normalising an E.164 result gives it back', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^0[1-37]\d{9}$/), (raw) => {
        const once = normalisePhone(raw);
        if (once !== undefined) expect(normalisePhone(once)).toBe(once);
      }),
    );
  });
});

describe('isWithheldCallerId', () => {
  it.each(['', '  ', 'anonymous', 'ANONYMOUS', 'Restricted', 'unknown', 'PRIVATE', 'unavailable', '+266696687', '+86282452253', '+8656696', '+2562533', '+7378742833', '266696687'])(
    'recognises %p',
    (raw) => {
      expect(isWithheldCallerId(raw)).toBe(true);
    },
  );

  it('treats a missing caller ID as withheld', () => {
    expect(isWithheldCallerId(undefined)).toBe(true);
    expect(isWithheldCallerId(null)).toBe(true);
  });

  it.each(['+447700900123', '07700 900123', 'private2'])('does not flag %p', (raw) => {
    expect(isWithheldCallerId(raw)).toBe(false);
  });
});

describe('normaliseEmail', () => {
  it.each([
    ['a@b.org', 'a@b.org'],
    ['  Pat.Jones@Example.ORG ', 'pat.jones@example.org'],
    ['"Jones, Pat" <Pat.Jones@Example.org>', 'pat.jones@example.org'],
    ['Pat <pat@example.org>', 'pat@example.org'],
    ['mailto:PAT@example.org', 'pat@example.org'],
  ])('reads %p as %p', (raw, expected) => {
    expect(normaliseEmail(raw)).toBe(expected);
  });

  it.each(['', 'pat', 'pat@', '@example.org', 'two words@example.org', 'Pat <>'])('gives undefined for %p', (raw) => {
    expect(normaliseEmail(raw)).toBeUndefined();
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const once = normaliseEmail(address);
        expect(once).toBeDefined();
        expect(normaliseEmail(once ?? '')).toBe(once);
      }),
    );
  });
});

describe('key layout', () => {
  const safeId = fc.stringMatching(/^[A-Za-z0-9:._@#-]{1,40}$/);

  it('puts every key of one customer in one cluster slot (one hash tag)', () => {
    fc.assert(
      fc.property(safeId, safeId, (customerId, otherId) => {
        const k = customerKeys(customerId);
        const keys = [k.customer, k.rev, k.gate, k.gateRev, k.idents, k.restrictions, k.restriction(otherId), k.contacts, k.contact(otherId), k.contactText(otherId), k.breaches(otherId), k.responses, k.responded];
        expect(new Set(keys.map(hashTag))).toEqual(new Set([`c:${customerId}`]));
      }),
    );
  });

  it('puts an identity hash and its rev companion in one slot, for any phone or address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.emailAddress(), fc.stringMatching(/^\+\d{8,15}$/)), (identity) => {
        const key = identityKey(identity.includes('@') ? 'email' : 'phone', identity);
        expect(hashTag(identityRevKey(key))).toBe(hashTag(key));
      }),
    );
  });

  it('keeps unidentified senders apart, under their own tag', () => {
    expect(hashTag(contactKeys(undefined).contacts)).toBe('unmatched');
    expect(hashTag(contactKeys(undefined).contact('x'))).toBe('unmatched');
  });

  it.each(['', 'a b', 'a{b', 'a}b', 'tab\there', 'x'.repeat(201)])('refuses %p as an id', (id) => {
    expect(() => customerKeys(id)).toThrow(expect.objectContaining({ code: 'invalid-id' }));
  });
});

describe('Redis targets from the environment', () => {
  it('prefers cluster nodes, then sentinels, then a URL', () => {
    expect(redisTargetFromSettings({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000, b:7001' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(redisTargetFromSettings({ REDIS_SENTINELS: '[::1]:26379', REDIS_SENTINEL_NAME: 'gk' })).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '::1', port: 26379 }],
      name: 'gk',
    });
    expect(redisTargetFromSettings({ REDIS_URL: 'redis://r:6379' })).toEqual({ kind: 'single', url: 'redis://r:6379' });
    expect(redisTargetFromSettings({})).toBeUndefined();
  });

  it.each(['', 'host', 'host:0', 'host:99999', 'a:1,b'])('refuses the list %p', (list) => {
    expect(() => parseHostPorts(list)).toThrow(expect.objectContaining({ code: 'invalid-redis-target' }));
  });

  it('refuses sentinels without a primary name', () => {
    expect(() => redisTargetFromSettings({ REDIS_SENTINELS: 'a:26379' })).toThrow(expect.objectContaining({ code: 'invalid-redis-target' }));
  });
});
