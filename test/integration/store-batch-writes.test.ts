/**
 * The store's batch writes over a real redis-server: `ContactRepository.recordAll` (one script) and
 * `AuditLog.appendOnceMany` (one script) leave exactly what the one-by-one writes leave, each record
 * judged on its own — the voice webhooks record every call decided in one turn of the event loop through
 * them. With them, the voice hot path's other batched commands: `RedisCallSessions.claimAll` (one script
 * claiming every call of a batch) and `GateRepository.resolvePhoneAnd` (the caller lookup and the call's
 * session in one command). Also on a three-primary Redis Cluster, where a script touching two slots would
 * be refused and each falls back to per-slot commands.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';

import { callSessionKey, RedisCallSessions, type CallSession, type ClaimResult } from '../../channels/voice/call-session';
import type { GateSnapshot, Identification } from '../../rules/types';
import type { AuditEntry, StoredContact } from '../../store';
import { contactKeys, identityKey } from '../../store/keys';
import { startRedis, type TestRedis } from '../support/redis-server';
import { aCustomer, anActiveRestriction, aStaffMember, openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;
/** A plain client of the suite's server, to read keys as Redis holds them (not through the store). */
let inspect: Redis;

/** The retention configured below, in seconds: the TTL every contact text must carry. */
const TEXT_TTL_S = 30 * 86_400;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url }, { textRetentionDays: 30, auditOnceTtlSeconds: 3600 });
  inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  inspect.disconnect();
  await open.close();
  await redis.stop();
});

function aCall(id: string, overrides: Partial<StoredContact> = {}): StoredContact {
  return { id, channel: 'voice', receivedAt: '2026-06-01T10:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'], breach: false, status: 'decided', ...overrides };
}

function anEntry(callSid: string): AuditEntry {
  return { actor: 'twilio', action: 'call.decided', entity: 'contact', entityId: callSid, at: '2026-06-01T10:00:00.000Z', details: { channel: 'voice' } };
}

/** A call's session; `tag` makes its content (and so its stored JSON) its own. */
function aSession(tag: string, overrides: Partial<CallSession> = {}): CallSession {
  return {
    v: 1,
    twiml: `<?xml version="1.0" encoding="UTF-8"?><Response><Say>${tag}</Say></Response>`,
    steps: {},
    decidedAt: '2026-06-01T10:00:00.000Z',
    outcome: 'proceed',
    reasons: ['no-restriction'],
    ...overrides,
  };
}

/** A settled record's answer: its value, or the error's code. */
function answerOf(result: PromiseSettledResult<boolean>): boolean | string {
  if (result.status === 'fulfilled') return result.value;
  const reason: unknown = result.reason;
  return reason instanceof Error && 'code' in reason ? String(reason.code) : String(reason);
}

function snapshotOf(identification: Identification): GateSnapshot {
  if (identification.kind !== 'resolved') throw new Error(`expected resolved, got ${identification.kind}`);
  return identification.snapshot;
}

/** Every key matching `pattern` (SCAN, never KEYS), sorted. */
async function keysMatching(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

/** Asserts a TTL that was set to `seconds` moments ago (a key without one answers -1, a missing key -2). */
function expectFreshTtl(ttl: number, seconds: number): void {
  expect(ttl).toBeLessThanOrEqual(seconds);
  expect(ttl).toBeGreaterThan(seconds - 60);
}

describe('ContactRepository.recordAll', () => {
  it('records each contact as record() would, normalising numbers and indexing breaches', async () => {
    const created = await Promise.all(
      open.store.contacts.recordAll([
        { customerId: 'BW-1', contact: aCall('CA-B1', { from: '07700 900123' }) },
        { customerId: undefined, contact: aCall('CA-B2', { from: '+447700900999', reasons: ['unidentified'] }) },
        { customerId: 'BW-1', contact: { ...aCall('CA-B3', { outcome: 'deflect', reasons: ['written-only'], breach: true, restrictionId: 'R-BW' }), text: 'kept apart' } },
      ]),
    );
    expect(created).toEqual([true, true, true]);
    expect(await open.store.contacts.get('BW-1', 'CA-B1')).toEqual(aCall('CA-B1', { from: '+447700900123' }));
    expect(await open.store.contacts.get(undefined, 'CA-B2')).toMatchObject({ from: '+447700900999' });
    expect((await open.store.contacts.list('BW-1')).map((c) => c.id).sort()).toEqual(['CA-B1', 'CA-B3']);
    expect(await open.store.contacts.breachCount('BW-1', 'R-BW', '2026-01-01T00:00:00Z')).toBe(1);
    expect(await open.connection.get('gk:{c:BW-1}:contact-text:CA-B3')).toBe('kept apart');
  });

  it('writes nothing twice: a contact recorded before, or twice in one batch, is not new', async () => {
    await open.store.contacts.record('BW-2', aCall('CA-B4'));
    const created = await Promise.all(
      open.store.contacts.recordAll([
        { customerId: 'BW-2', contact: aCall('CA-B4', { outcome: 'deflect' }) },
        { customerId: 'BW-2', contact: aCall('CA-B5') },
        { customerId: 'BW-2', contact: aCall('CA-B5', { outcome: 'deflect' }) },
      ]),
    );
    expect(created).toEqual([false, true, false]);
    expect(await open.store.contacts.get('BW-2', 'CA-B4')).toMatchObject({ outcome: 'proceed' });
    expect(await open.store.contacts.get('BW-2', 'CA-B5')).toMatchObject({ outcome: 'proceed' });
  });

  it('fails an unusable contact on its own and records the rest', async () => {
    const results = await Promise.allSettled(
      open.store.contacts.recordAll([
        { customerId: 'BW-3', contact: aCall('CA-B6') },
        { customerId: 'BW-3', contact: aCall('CA-B7', { receivedAt: 'yesterday' }) },
        { customerId: 'BW-3', contact: aCall('CA {bad}') },
      ]),
    );
    expect(results[0]).toEqual({ status: 'fulfilled', value: true });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'invalid-date' } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'invalid-id' } });
    expect((await open.store.contacts.list('BW-3')).map((c) => c.id)).toEqual(['CA-B6']);
  });

  it('agrees with record() one by one for any batch (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ customer: fc.constantFrom('P1', 'P2', undefined), id: fc.integer({ min: 0, max: 5 }), breach: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        async (items) => {
          run += 1;
          const contact = (i: { id: number; breach: boolean }): StoredContact =>
            aCall(`CA-${i.id}`, i.breach ? { breach: true, restrictionId: 'R-P', outcome: 'deflect' } : {});
          const batched = await Promise.all(
            open.store.contacts.recordAll(items.map((i) => ({ customerId: i.customer === undefined ? undefined : `${i.customer}-A${run}`, contact: contact(i) }))),
          );
          const single: boolean[] = [];
          for (const i of items) single.push(await open.store.contacts.record(i.customer === undefined ? undefined : `${i.customer}-B${run}`, contact(i)));
          // Unidentified callers share one history: compare the customers' own records only.
          items.forEach((item, n) => {
            if (item.customer !== undefined) expect(batched[n]).toBe(single[n]);
          });
          for (const customer of ['P1', 'P2']) {
            const a = await open.store.contacts.list(`${customer}-A${run}`);
            const b = await open.store.contacts.list(`${customer}-B${run}`);
            expect(a).toEqual(b);
            expect(await open.store.contacts.breachCount(`${customer}-A${run}`, 'R-P', '2026-01-01T00:00:00Z')).toBe(
              await open.store.contacts.breachCount(`${customer}-B${run}`, 'R-P', '2026-01-01T00:00:00Z'),
            );
          }
        },
      ),
      { numRuns: 25 },
    );
  });
  it('keeps each answer in its place when unusable contacts sit between usable ones', async () => {
    await open.store.contacts.record('BW-6', aCall('CA-M0'));
    const results = await Promise.allSettled(
      open.store.contacts.recordAll([
        { customerId: 'BW-6', contact: aCall('CA-M1') },
        { customerId: 'BW 6', contact: aCall('CA-M2') }, // a customer id with a space
        { customerId: 'BW-6', contact: aCall('CA-M0', { outcome: 'deflect' }) }, // recorded before
        { customerId: 'BW-6', contact: aCall('CA-\u0007M3') }, // a control character
        { customerId: undefined, contact: aCall('CA-M4') },
        { customerId: 'BW-6', contact: aCall('M'.repeat(201)) }, // one character too long
        { customerId: 'BW-6', contact: aCall('CA-M5', { breach: true, restrictionId: 'R-M', outcome: 'deflect' }) },
      ]),
    );
    expect(results.map(answerOf)).toEqual([true, 'invalid-id', false, 'invalid-id', true, 'invalid-id', true]);
    expect((await open.store.contacts.list('BW-6')).map((c) => c.id).sort()).toEqual(['CA-M0', 'CA-M1', 'CA-M5']);
    expect(await open.store.contacts.get('BW-6', 'CA-M0')).toMatchObject({ outcome: 'proceed' });
    expect(await open.store.contacts.get(undefined, 'CA-M4')).toEqual(aCall('CA-M4'));
    expect(await open.store.contacts.breachCount('BW-6', 'R-M', '2026-01-01T00:00:00Z')).toBe(1);
    // Nothing at all of the refused ones.
    expect(await keysMatching(inspect, '*CA-M2*')).toEqual([]);
    expect(await keysMatching(inspect, '*MMMMMMMM*')).toEqual([]);
    expect(await keysMatching(inspect, 'gk:{c:BW-6}:contact:*')).toHaveLength(3);
  });

  it('refuses every contact of a batch with none usable, writing nothing; an empty batch is empty', async () => {
    const before = await inspect.dbsize();
    const results = await Promise.allSettled(
      open.store.contacts.recordAll([
        { customerId: 'BW-7', contact: aCall('CA {N0}') },
        { customerId: 'BW 7', contact: aCall('CA-N1') },
        { customerId: 'BW-7', contact: aCall('CA-N2', { receivedAt: 'soon' }) },
      ]),
    );
    expect(results.map(answerOf)).toEqual(['invalid-id', 'invalid-id', 'invalid-date']);
    expect(open.store.contacts.recordAll([])).toEqual([]);
    expect(await inspect.dbsize()).toBe(before);
  });

  it('keeps a text apart with the retention TTL, as record() does, and never replaces one kept before', async () => {
    const contacts: Array<StoredContact & { text?: string }> = [
      { ...aCall('CA-T1'), text: 'please call me back about the boiler' },
      aCall('CA-T2'),
      { ...aCall('CA-T3'), text: '' },
    ];
    expect(await Promise.all(open.store.contacts.recordAll(contacts.map((contact) => ({ customerId: 'BW-T-A', contact }))))).toEqual([true, true, true]);
    for (const contact of contacts) await open.store.contacts.record('BW-T-B', contact);

    const batched = contactKeys('BW-T-A');
    const single = contactKeys('BW-T-B');
    expect(await inspect.get(batched.contactText('CA-T1'))).toBe('please call me back about the boiler');
    expect(await inspect.get(batched.contactText('CA-T3'))).toBe('');
    expect(await inspect.exists(batched.contactText('CA-T2'))).toBe(0);
    for (const { id, text } of contacts) {
      expect(await inspect.get(batched.contactText(id))).toBe(await inspect.get(single.contactText(id)));
      if (text !== undefined) {
        expectFreshTtl(await inspect.ttl(batched.contactText(id)), TEXT_TTL_S);
        expectFreshTtl(await inspect.ttl(single.contactText(id)), TEXT_TTL_S);
      }
      // The record itself never carries the text.
      expect(JSON.parse((await inspect.get(batched.contact(id))) ?? 'null')).toEqual(aCall(id));
    }

    const again = await Promise.all(
      open.store.contacts.recordAll([
        { customerId: 'BW-T-A', contact: { ...aCall('CA-T1'), text: 'a later, different text' } },
        { customerId: 'BW-T-A', contact: { ...aCall('CA-T4'), text: 'the fourth' } },
      ]),
    );
    expect(again).toEqual([false, true]);
    expect(await inspect.get(batched.contactText('CA-T1'))).toBe('please call me back about the boiler');
    expect(await inspect.get(batched.contactText('CA-T4'))).toBe('the fourth');
    expectFreshTtl(await inspect.ttl(batched.contactText('CA-T4')), TEXT_TTL_S);
  });

  it('indexes a breach only when the contact breached a named restriction, as record() does', async () => {
    const contacts = [
      aCall('CA-X1', { breach: true, restrictionId: 'R-X', outcome: 'deflect' }),
      aCall('CA-X2', { breach: true, outcome: 'deflect' }), // a breach, but of no restriction named
      aCall('CA-X3', { breach: false, restrictionId: 'R-Y' }), // a restriction named, not breached
      aCall('CA-X4', { breach: true, restrictionId: 'R-X', outcome: 'deflect', receivedAt: '2026-06-02T09:30:00.000Z' }),
      aCall('CA-X5'),
    ];
    await Promise.all(open.store.contacts.recordAll(contacts.map((contact) => ({ customerId: 'BW-X-A', contact }))));
    for (const contact of contacts) await open.store.contacts.record('BW-X-B', contact);

    const expected = ['CA-X1', String(Date.parse('2026-06-01T10:00:00.000Z')), 'CA-X4', String(Date.parse('2026-06-02T09:30:00.000Z'))];
    for (const customerId of ['BW-X-A', 'BW-X-B']) {
      const keys = contactKeys(customerId);
      expect(await keysMatching(inspect, `gk:{c:${customerId}}:breaches:*`)).toEqual([keys.breaches('R-X')]);
      expect(await inspect.zrange(keys.breaches('R-X'), 0, '-1', 'WITHSCORES')).toEqual(expected);
      // Every contact is in the history, breach or not.
      expect(await inspect.zrange(keys.contacts, 0, '-1')).toEqual(['CA-X1', 'CA-X2', 'CA-X3', 'CA-X5', 'CA-X4']);
      expect(await open.store.contacts.breachCount(customerId, 'R-Y', '2026-01-01T00:00:00Z')).toBe(0);
    }
  });
});

describe('RedisCallSessions.claimAll', () => {
  /** Not the default (24 h), so a claim that ignored the configured TTL would show. */
  const TTL_S = 900;
  let sessions: RedisCallSessions;

  beforeAll(() => {
    // The gateway claims on the lookup connection; so do these tests.
    sessions = new RedisCallSessions(open.lookup, TTL_S);
  });

  it('claims a batch of new calls, each as JSON under gk:voice-call:<CallSid> with the TTL', async () => {
    const calls = ['CA-S1', 'CA-S2', 'CA-S3', 'CA-S4'].map((callSid, i) => ({
      callSid,
      session: aSession(callSid, i !== 1 ? {} : { outcome: 'deflect', reasons: ['written-only'], customerId: 'C-1', restrictionId: 'R-1', breach: true, steps: { voicemail: '<Response><Record/></Response>' } }),
    }));
    expect(await Promise.all(sessions.claimAll(calls))).toEqual(calls.map(() => ({ fresh: true })));
    for (const { callSid, session } of calls) {
      const key = `gk:voice-call:${callSid}`;
      expect(callSessionKey(callSid)).toBe(key);
      expect(JSON.parse((await inspect.get(key)) ?? 'null')).toEqual(session);
      expectFreshTtl(await inspect.ttl(key), TTL_S);
      expect(await sessions.get(callSid)).toEqual(session);
    }
  });

  it('answers a call claimed before with its first session, leaving that session and its TTL alone', async () => {
    await sessions.claim('CA-S10', aSession('first-10'));
    await Promise.all(sessions.claimAll([{ callSid: 'CA-S11', session: aSession('first-11') }, { callSid: 'CA-S12', session: aSession('first-12') }]));
    // A TTL no claim would set: a claim that rewrote the key, or its expiry, would show.
    await inspect.expire(callSessionKey('CA-S11'), 100);

    const answers = await Promise.all(
      sessions.claimAll([
        { callSid: 'CA-S10', session: aSession('second-10', { outcome: 'deflect' }) },
        { callSid: 'CA-S13', session: aSession('first-13') },
        { callSid: 'CA-S11', session: aSession('second-11') },
        { callSid: 'CA-S12', session: aSession('second-12') },
      ]),
    );
    expect(answers).toEqual([
      { fresh: false, existing: aSession('first-10') },
      { fresh: true },
      { fresh: false, existing: aSession('first-11') },
      { fresh: false, existing: aSession('first-12') },
    ]);
    for (const n of [10, 11, 12, 13]) expect(await inspect.get(callSessionKey(`CA-S${n}`))).toBe(JSON.stringify(aSession(`first-${n}`)));
    expect(await inspect.ttl(callSessionKey('CA-S11'))).toBeLessThanOrEqual(100);
  });

  it('treats a CallSid twice in one batch as claimed by its first occurrence', async () => {
    const answers = await Promise.all(
      sessions.claimAll([
        { callSid: 'CA-S20', session: aSession('first-20') },
        { callSid: 'CA-S21', session: aSession('first-21') },
        { callSid: 'CA-S20', session: aSession('second-20') },
        { callSid: 'CA-S20', session: aSession('third-20') },
      ]),
    );
    expect(answers).toEqual([{ fresh: true }, { fresh: true }, { fresh: false, existing: aSession('first-20') }, { fresh: false, existing: aSession('first-20') }]);
    expect(await sessions.get('CA-S20')).toEqual(aSession('first-20'));
    expect(await sessions.get('CA-S21')).toEqual(aSession('first-21'));
  });

  it('answers an empty batch with nothing, and a batch of one as claim() does', async () => {
    expect(sessions.claimAll([])).toEqual([]);
    expect(await Promise.all(sessions.claimAll([{ callSid: 'CA-S30', session: aSession('one') }]))).toEqual([{ fresh: true }]);
    expect(await Promise.all(sessions.claimAll([{ callSid: 'CA-S30', session: aSession('two') }]))).toEqual([{ fresh: false, existing: aSession('one') }]);
  });

  it('agrees with claim() one by one for any batch, with or without calls claimed before (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
        fc.array(fc.record({ sid: fc.integer({ min: 0, max: 5 }), tag: fc.integer({ min: 0, max: 3 }) }), { maxLength: 10 }),
        async (claimedBefore, batch) => {
          run += 1;
          const sid = (side: 'A' | 'B', n: number): string => `CA-P${run}-${side}-${n}`;
          for (const n of claimedBefore) {
            await sessions.claim(sid('A', n), aSession(`before-${n}`));
            await sessions.claim(sid('B', n), aSession(`before-${n}`));
          }
          const batched = await Promise.all(sessions.claimAll(batch.map((i) => ({ callSid: sid('A', i.sid), session: aSession(`${i.sid}-${i.tag}`) }))));
          const single: ClaimResult[] = [];
          for (const i of batch) single.push(await sessions.claim(sid('B', i.sid), aSession(`${i.sid}-${i.tag}`)));
          expect(batched).toEqual(single);
          for (let n = 0; n <= 5; n++) expect(await inspect.get(callSessionKey(sid('A', n)))).toBe(await inspect.get(callSessionKey(sid('B', n))));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('GateRepository.resolvePhoneAnd', () => {
  const SESSION_KEY = callSessionKey('CA-G1');
  const SESSION_JSON = JSON.stringify(aSession('replayed'));
  const NO_SESSION_KEY = callSessionKey('CA-G-NONE');

  beforeAll(async () => {
    await open.store.staff.put(aStaffMember({ id: 'jsmith', name: 'J Smith' }));
    await open.store.staff.put(aStaffMember({ id: 'akhan', name: 'A Khan' }));
    await open.store.customers.put(aCustomer({ id: 'C-GP-1', name: 'Pat Jones', phones: ['07700 900123'] }));
    await open.store.restrictions.create(anActiveRestriction({ id: 'R-GP-1', customerId: 'C-GP-1' }));
    // A household of five, added last member first: the answer must name them sorted, whatever order the
    // identity hash gives (insertion order, or the server's seeded hash order once the hash outgrows a listpack).
    for (const n of [5, 4, 3, 2, 1]) await open.store.customers.put(aCustomer({ id: `C-GP-H${n}`, phones: [n % 2 === 0 ? '+44 1632 960001' : '01632 960001'] }));
    await inspect.set(SESSION_KEY, SESSION_JSON);
  });

  it('does not identify a number nobody has, and still reads the other key', async () => {
    expect(await open.store.gate.resolvePhoneAnd('07700 900999', SESSION_KEY)).toEqual({ identification: { kind: 'unidentified' }, other: SESSION_JSON });
    expect(await open.store.gate.resolvePhoneAnd('07700 900999', NO_SESSION_KEY)).toEqual({ identification: { kind: 'unidentified' }, other: null });
  });

  it("resolves a known number to the customer's snapshot and returns the other key's value, writing nothing", async () => {
    const before = await inspect.dbsize();
    const { identification, other } = await open.store.gate.resolvePhoneAnd('+447700900123', SESSION_KEY);
    expect(other).toBe(SESSION_JSON);
    expect(identification).toEqual(await open.store.gate.resolve({ customerId: 'C-GP-1' }));
    const snapshot = snapshotOf(identification);
    expect(snapshot).toMatchObject({ customerId: 'C-GP-1', name: 'Pat Jones' });
    expect(snapshot.restrictions.map((r) => r.id)).toEqual(['R-GP-1']);
    expect(await open.store.gate.resolvePhoneAnd('+447700900123', NO_SESSION_KEY)).toEqual({ identification, other: null });
    expect(await inspect.dbsize()).toBe(before);
  });

  it('names every member of a household sharing the number, sorted', async () => {
    expect(await open.store.gate.resolvePhoneAnd('01632 960001', SESSION_KEY)).toEqual({
      identification: { kind: 'ambiguous', customerIds: ['C-GP-H1', 'C-GP-H2', 'C-GP-H3', 'C-GP-H4', 'C-GP-H5'] },
      other: SESSION_JSON,
    });
  });

  it.each(['07700 900123', '+447700900123', '(07700) 900-123', '01632 960001', '+441632960001', '07700 900999', '020 7946 0999'])(
    'identifies %s exactly as resolve({ phone }) does',
    async (phone) => {
      const answer = await open.store.gate.resolvePhoneAnd(phone, SESSION_KEY);
      expect(answer.identification).toEqual(await open.store.gate.resolve({ phone }));
      expect(answer.other).toBe(SESSION_JSON);
    },
  );

  it('reads a number in national format as its E.164 form', async () => {
    const national = await open.store.gate.resolvePhoneAnd('07700 900123', SESSION_KEY);
    expect(national).toEqual(await open.store.gate.resolvePhoneAnd('+447700900123', SESSION_KEY));
    expect(snapshotOf(national.identification).customerId).toBe('C-GP-1');
  });

  it.each(['anonymous', 'Restricted', '', 'not a number'])('treats the withheld caller ID %p as nobody, still reading the other key', async (phone) => {
    expect(await open.store.gate.resolvePhoneAnd(phone, SESSION_KEY)).toEqual({ identification: { kind: 'unidentified' }, other: SESSION_JSON });
    expect(await open.store.gate.resolvePhoneAnd(phone, NO_SESSION_KEY)).toEqual({ identification: { kind: 'unidentified' }, other: null });
  });
});

describe('AuditLog.appendOnceMany', () => {
  it('appends each record once, in order, and answers as appendOnce would', async () => {
    const earlier = await open.store.audit.appendOnce('voice:CA-A1:decision', anEntry('CA-A1'));
    const answers = await open.store.audit.appendOnceMany([
      { key: 'voice:CA-A1:decision', entry: anEntry('CA-A1') },
      { key: 'voice:CA-A2:decision', entry: anEntry('CA-A2') },
      { key: 'voice:CA-A2:decision', entry: anEntry('CA-A2') },
      { key: 'voice:CA-A3:decision', entry: anEntry('CA-A3') },
    ]);
    expect(answers.map((a) => a.appended)).toEqual([false, true, false, true]);
    expect(answers[0]?.id).toBe(earlier.id);
    expect(answers[2]?.id).toBe(answers[1]?.id);
    const latest = await open.store.audit.latest(3);
    expect(latest.map((r) => r.entityId)).toEqual(['CA-A3', 'CA-A2', 'CA-A1']);
    expect(latest[0]).toEqual({ id: answers[3]?.id, ...anEntry('CA-A3') });
    // A later single append under a batch's key is refused, as after appendOnce.
    expect(await open.store.audit.appendOnce('voice:CA-A3:decision', anEntry('CA-A3'))).toEqual({ id: answers[3]?.id, appended: false });
  });

  it('does nothing for an empty batch and refuses an unusable key before writing', async () => {
    expect(await open.store.audit.appendOnceMany([])).toEqual([]);
    const before = (await open.store.audit.latest(1))[0]?.id;
    await expect(
      open.store.audit.appendOnceMany([
        { key: 'voice:CA-A4:decision', entry: anEntry('CA-A4') },
        { key: 'has space', entry: anEntry('x') },
      ]),
    ).rejects.toMatchObject({ code: 'invalid-id' });
    expect((await open.store.audit.latest(1))[0]?.id).toBe(before);
  });
});

describe('on a three-primary Redis Cluster', () => {
  const servers: TestRedis[] = [];
  let onCluster: OpenStore;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']));
    const admins = servers.map((s) => new Redis(s.port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
    try {
      const ranges = [
        [0, 5460],
        [5461, 10922],
        [10923, 16383],
      ];
      await Promise.all(admins.map((admin, i) => admin.call('CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]?.[0]), String(ranges[i]?.[1]))));
      for (const s of servers.slice(1)) await admins[0]?.call('CLUSTER', 'MEET', '127.0.0.1', String(s.port));
      for (let attempt = 0; ; attempt++) {
        const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
        if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'))) break;
        if (attempt > 150) throw new Error('the cluster did not form');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await Promise.all(admins.map((a) => a.quit()));
    }
    onCluster = await openStore({ kind: 'cluster', nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })) }, { auditOnceTtlSeconds: 3600 });
  }, 30_000);

  afterAll(async () => {
    await onCluster?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('records contacts of customers on different primaries, and a batch of audit entries, each once', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => `CL-${i}`);
    const created = await Promise.all(
      onCluster.store.contacts.recordAll([
        ...customers.map((customerId, i) => ({ customerId, contact: aCall(`CA-C${i}`, { breach: true, restrictionId: 'R-C', outcome: 'deflect' }) })),
        { customerId: undefined, contact: aCall('CA-CU') },
        { customerId: 'CL-0', contact: aCall('CA-C0') },
      ]),
    );
    expect(created).toEqual([...customers.map(() => true), true, false]);
    for (const [i, customerId] of customers.entries()) {
      expect((await onCluster.store.contacts.list(customerId)).map((c) => c.id)).toEqual([`CA-C${i}`]);
      expect(await onCluster.store.contacts.breachCount(customerId, 'R-C', '2026-01-01T00:00:00Z')).toBe(1);
    }
    const answers = await onCluster.store.audit.appendOnceMany(customers.map((_, i) => ({ key: `voice:CA-C${i}:decision`, entry: anEntry(`CA-C${i}`) })));
    expect(answers.every((a) => a.appended)).toBe(true);
    expect((await onCluster.store.audit.appendOnceMany([{ key: 'voice:CA-C3:decision', entry: anEntry('CA-C3') }]))[0]).toEqual({ id: answers[3]?.id, appended: false });
  });
  /** The key's hash slot, as the cluster computes it. */
  async function slotOf(key: string): Promise<number> {
    return Number(await onCluster.connection.call('CLUSTER', 'KEYSLOT', key));
  }

  it('claims a batch of calls whose keys lie on every primary, as claim() would', async () => {
    const sessions = new RedisCallSessions(onCluster.lookup, 900);
    const sids = Array.from({ length: 12 }, (_, i) => `CA-CS${i}`);
    const slots = await Promise.all(sids.map((sid) => slotOf(callSessionKey(sid))));
    // The batch really spans the three primaries' slot ranges (0–5460, 5461–10922, 10923–16383).
    expect(new Set(slots.map((slot) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2))).size).toBe(3);

    await sessions.claim('CA-CS3', aSession('before-3'));
    const answers = await Promise.all(
      sessions.claimAll([...sids.map((callSid) => ({ callSid, session: aSession(`first-${callSid}`) })), { callSid: 'CA-CS5', session: aSession('again-5') }]),
    );
    expect(answers).toEqual([...sids.map((sid) => (sid === 'CA-CS3' ? { fresh: false, existing: aSession('before-3') } : { fresh: true })), { fresh: false, existing: aSession('first-CA-CS5') }]);
    for (const sid of sids) {
      expect(await sessions.get(sid)).toEqual(sid === 'CA-CS3' ? aSession('before-3') : aSession(`first-${sid}`));
      expectFreshTtl(await onCluster.connection.ttl(callSessionKey(sid)), 900);
    }
  });

  it("resolves callers and reads the call's session in another slot, agreeing with resolve()", async () => {
    await onCluster.store.customers.put(aCustomer({ id: 'CL-P1', phones: ['07700 900321'] }));
    await onCluster.store.customers.put(aCustomer({ id: 'CL-H2', phones: ['01632 960002'] }));
    await onCluster.store.customers.put(aCustomer({ id: 'CL-H1', phones: ['01632 960002'] }));
    const key = callSessionKey('CA-CG1');
    const json = JSON.stringify(aSession('cluster-replay'));
    await onCluster.connection.set(key, json);
    // One script over both keys would be refused (CROSSSLOT) here.
    expect(await slotOf(key)).not.toBe(await slotOf(identityKey('phone', '+447700900321')));
    expect(await slotOf(key)).not.toBe(await slotOf(identityKey('phone', '+441632960002')));

    const gate = onCluster.store.gate;
    const known = await gate.resolvePhoneAnd('07700 900321', key);
    expect(known.other).toBe(json);
    expect(snapshotOf(known.identification).customerId).toBe('CL-P1');
    expect(known.identification).toEqual(await gate.resolve({ customerId: 'CL-P1' }));
    expect(await gate.resolvePhoneAnd('+447700900321', callSessionKey('CA-CG-NONE'))).toEqual({ identification: known.identification, other: null });
    expect(await gate.resolvePhoneAnd('01632 960002', key)).toEqual({ identification: { kind: 'ambiguous', customerIds: ['CL-H1', 'CL-H2'] }, other: json });
    expect(await gate.resolvePhoneAnd('07700 900999', key)).toEqual({ identification: { kind: 'unidentified' }, other: json });
    expect(await gate.resolvePhoneAnd('anonymous', key)).toEqual({ identification: { kind: 'unidentified' }, other: json });
    for (const phone of ['07700 900321', '+441632960002', '07700 900999']) expect((await gate.resolvePhoneAnd(phone, key)).identification).toEqual(await gate.resolve({ phone }));
  });
});
