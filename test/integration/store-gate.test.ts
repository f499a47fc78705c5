/**
 * The gate's identity index over a real redis-server: one lookup resolves a caller in any UK format,
 * households are ambiguous, withheld numbers match nobody without asking Redis, and every copy of a
 * customer's snapshot follows changes to the customer, their restrictions and the staff they name.
 */
import type { GateSnapshot, Identification } from '../../rules/types';
import { closeConnection, createLookupConnection, createStore } from '../../store';
import { identityKey } from '../../store/keys';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';
import { aCustomer, anActiveRestriction, aStaffMember, CONFIDENTIAL, openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url });
  await open.store.staff.put(aStaffMember({ id: 'jsmith', name: 'J Smith', phone: '020 7946 0018', clientIdentity: 'jsmith' }));
  await open.store.staff.put(aStaffMember({ id: 'akhan', name: 'A Khan' }));
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

function snapshotOf(identification: Identification): GateSnapshot {
  if (identification.kind !== 'resolved') throw new Error(`expected resolved, got ${identification.kind}`);
  return identification.snapshot;
}

describe('resolving a caller', () => {
  beforeAll(async () => {
    await open.store.customers.put(aCustomer({ id: 'C-UNIQUE', name: 'Pat Jones', phones: ['07700 900123'], emails: ['Pat.Jones@Example.org'] }));
  });

  it.each(['07700 900123', '+44 7700 900123', '0044 7700 900123', '+447700900123', '(07700) 900-123', '00447700900123'])(
    'resolves %s to the one customer who has that number',
    async (format) => {
      const result = await open.store.gate.resolve({ phone: format });
      expect(snapshotOf(result).customerId).toBe('C-UNIQUE');
    },
  );

  it('resolves an email address in any case and in "Name <address>" form', async () => {
    const result = await open.store.gate.resolve({ email: 'Pat <PAT.JONES@example.ORG>' });
    expect(snapshotOf(result)).toMatchObject({ customerId: 'C-UNIQUE', name: 'Pat Jones' });
  });

  it('resolves by customer id from the per-customer snapshot', async () => {
    expect(snapshotOf(await open.store.gate.resolve({ customerId: 'C-UNIQUE' })).customerId).toBe('C-UNIQUE');
    expect(await open.store.gate.resolve({ customerId: 'C-NOBODY' })).toEqual({ kind: 'unidentified' });
  });

  it('does not identify a number nobody has', async () => {
    expect(await open.store.gate.resolve({ phone: '07700 900999' })).toEqual({ kind: 'unidentified' });
    expect(await open.store.gate.resolve({ email: 'stranger@example.org' })).toEqual({ kind: 'unidentified' });
  });

  it('reports a number shared by a household as ambiguous, naming every customer', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-HOUSE-1', phones: ['01632 960001'] }));
    await open.store.customers.put(aCustomer({ id: 'C-HOUSE-2', phones: ['+44 1632 960001', '07700 900456'] }));
    expect(await open.store.gate.resolve({ phone: '01632960001' })).toEqual({ kind: 'ambiguous', customerIds: ['C-HOUSE-1', 'C-HOUSE-2'] });
    // The second member's own mobile is still theirs alone.
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700 900456' })).customerId).toBe('C-HOUSE-2');
  });
});

describe('withheld and unreadable caller IDs', () => {
  const withheld = ['', 'anonymous', 'Anonymous', 'RESTRICTED', 'unknown', 'private', 'Unavailable', '+266696687', '+86282452253', '+8656696', '+2562533', '+7378742833', 'not a number'];

  // A lookup connection to a port where nothing listens: any Redis command on it rejects.
  let dead: ReturnType<typeof createLookupConnection>;
  beforeAll(async () => {
    dead = createLookupConnection({ kind: 'single', url: `redis://127.0.0.1:${await freePort()}` }, { name: 'dead' });
  });
  afterAll(async () => closeConnection(dead));

  it.each(withheld)('treats %p as nobody, without asking Redis', async (callerId) => {
    const gate = createStore(open.connection, { lookup: dead }).gate;
    expect(await gate.resolve({ phone: callerId })).toEqual({ kind: 'unidentified' });
  });

  it('(the dead connection really is dead: a real number on it rejects)', async () => {
    const gate = createStore(open.connection, { lookup: dead }).gate;
    await expect(gate.resolve({ phone: '07700 900123' })).rejects.toMatchObject({ code: 'store-unavailable' });
  });
});

describe('keeping snapshots in step', () => {
  it('removes a customer from a number they no longer have, in every copy', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-MOVE', phones: ['07700 900201', '07700 900202'], emails: ['old@example.org'] }));
    await open.store.customers.put(aCustomer({ id: 'C-MOVE', phones: ['07700 900202'], emails: ['new@example.org'] }));

    expect(await open.store.gate.resolve({ phone: '07700 900201' })).toEqual({ kind: 'unidentified' });
    expect(await open.store.gate.resolve({ email: 'old@example.org' })).toEqual({ kind: 'unidentified' });
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700 900202' })).customerId).toBe('C-MOVE');
    expect(snapshotOf(await open.store.gate.resolve({ email: 'new@example.org' })).customerId).toBe('C-MOVE');
    // Nothing is left behind in the old identity's hash.
    expect(await open.connection.hkeys(identityKey('phone', '+447700900201'))).toEqual([]);
  });

  it('turns an ambiguous household number into a resolved one when one member gives it up', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-FLAT-1', phones: ['07700 900301'] }));
    await open.store.customers.put(aCustomer({ id: 'C-FLAT-2', phones: ['07700 900301'] }));
    expect((await open.store.gate.resolve({ phone: '07700900301' })).kind).toBe('ambiguous');
    await open.store.customers.put(aCustomer({ id: 'C-FLAT-2', phones: [] }));
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700900301' })).customerId).toBe('C-FLAT-1');
  });

  it('carries active restrictions without reason or evidence, and the staff they name', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-RESTRICTED', phones: ['07700 900401'], needs: ['hearing-impairment'] }));
    await open.store.restrictions.create(anActiveRestriction({ id: 'R-ACTIVE', customerId: 'C-RESTRICTED' }));

    const snapshot = snapshotOf(await open.store.gate.resolve({ phone: '07700 900401' }));
    expect(snapshot.needs).toEqual(['hearing-impairment']);
    expect(snapshot.restrictions.map((r) => r.id)).toEqual(['R-ACTIVE']);
    expect(snapshot.restrictions[0]?.measures).toEqual(anActiveRestriction({ id: 'x', customerId: 'y' }).measures);
    expect(snapshot.staff).toEqual({
      jsmith: { id: 'jsmith', name: 'J Smith', email: 'jsmith@landlord.example', phone: '+442079460018', clientIdentity: 'jsmith' },
      akhan: { id: 'akhan', name: 'A Khan', email: 'akhan@landlord.example' },
    });

    // Checked on the raw stored bytes, not the parsed object: the secrets must not be in Redis's copies.
    const raw = [
      ...Object.values(await open.connection.hgetall(identityKey('phone', '+447700900401'))),
      (await open.connection.get('gk:{c:C-RESTRICTED}:gate')) ?? '',
    ].join('\n');
    expect(raw).toContain('R-ACTIVE');
    for (const secret of Object.values(CONFIDENTIAL)) expect(raw).not.toContain(secret);
    for (const field of ['"summary"', '"evidence"', '"category"', '"history"', '"warnings"']) expect(raw).not.toContain(field);
  });

  it('leaves requested restrictions out, and drops one when it is lifted', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-LIFT', phones: ['07700 900501'] }));
    const active = anActiveRestriction({ id: 'R-LIFT', customerId: 'C-LIFT' });
    await open.store.restrictions.create(active);
    await open.store.restrictions.create(anActiveRestriction({ id: 'R-ASKED', customerId: 'C-LIFT', status: 'requested' }));
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700900501' })).restrictions.map((r) => r.id)).toEqual(['R-LIFT']);

    const lifted = {
      ...active,
      status: 'lifted' as const,
      history: [...active.history, { action: 'lift', from: 'active' as const, to: 'lifted' as const, by: 'ts1', at: '2026-03-01T09:00:00.000Z' }],
    };
    await open.store.restrictions.save(lifted, active.history.length);
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700900501' })).restrictions).toEqual([]);
    expect(snapshotOf(await open.store.gate.resolve({ customerId: 'C-LIFT' })).restrictions).toEqual([]);
  });

  it('follows a named member of staff to their new number', async () => {
    await open.store.staff.put(aStaffMember({ id: 'mpatel', name: 'M Patel', phone: '020 7946 0100' }));
    await open.store.customers.put(aCustomer({ id: 'C-STAFFED', phones: ['07700 900601'] }));
    await open.store.restrictions.create(
      anActiveRestriction({ id: 'R-STAFFED', customerId: 'C-STAFFED', measures: [{ type: 'appointments-only', staffId: 'mpatel' }], singlePointOfContact: 'mpatel' }),
    );
    await open.store.staff.put(aStaffMember({ id: 'mpatel', name: 'M Patel', phone: '020 7946 0199' }));
    const snapshot = snapshotOf(await open.store.gate.resolve({ phone: '07700 900601' }));
    expect(snapshot.staff['mpatel']?.phone).toBe('+442079460199');
  });

  it('loads responded-to contacts only when asked and a new-issues-only measure applies', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-REPEAT', emails: ['repeat@example.org'] }));
    await open.store.restrictions.create(anActiveRestriction({ id: 'R-REPEAT', customerId: 'C-REPEAT', measures: [{ type: 'new-issues-only' }] }));
    await open.store.contacts.record('C-REPEAT', {
      id: 'M-1', channel: 'email', receivedAt: '2026-02-01T10:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'], text: 'The boiler is broken again',
    });
    await open.store.responses.record('C-REPEAT', { reference: 'REF-1', respondedAt: '2026-02-03T10:00:00.000Z', summary: 'engineer booked', contactIds: ['M-1'] });

    const withResponded = await open.store.gate.resolve({ email: 'repeat@example.org' }, { responded: true });
    expect(withResponded).toMatchObject({ kind: 'resolved', responded: [{ contactId: 'M-1', text: 'The boiler is broken again', reference: 'REF-1' }] });
    const without = await open.store.gate.resolve({ email: 'repeat@example.org' });
    expect(without).toEqual({ kind: 'resolved', snapshot: snapshotOf(without) });
  });

  it('never lets an older refresh overwrite a newer snapshot, or bring back a removed one', async () => {
    // Drive the guarded writes directly, in the order a slow refresh would reach Redis.
    const key = identityKey('phone', '+447700900950');
    const revKey = `${key}:rev`;
    const snap = (name: string): string => JSON.stringify({ customerId: 'C-ORDER', name, needs: [], restrictions: [], staff: {} });
    expect(await open.connection.gkPutIdentitySnapshot(key, revKey, 'C-ORDER', 7, snap('newer'))).toBe(1);
    expect(await open.connection.gkPutIdentitySnapshot(key, revKey, 'C-ORDER', 6, snap('older'))).toBe(0);
    expect(JSON.parse((await open.connection.hget(key, 'C-ORDER')) ?? '{}')).toMatchObject({ name: 'newer' });

    expect(await open.connection.gkPutIdentitySnapshot(key, revKey, 'C-ORDER', 8, '')).toBe(1);
    expect(await open.connection.gkPutIdentitySnapshot(key, revKey, 'C-ORDER', 7, snap('older'))).toBe(0);
    expect(await open.connection.hkeys(key)).toEqual([]);

    const k = { gate: 'gk:{c:C-ORDER}:gate', gateRev: 'gk:{c:C-ORDER}:gate-rev', idents: 'gk:{c:C-ORDER}:idents', rev: 'gk:{c:C-ORDER}:rev' };
    expect(await open.connection.gkPutGate(k.gate, k.gateRev, k.idents, 3, snap('newer'), key)).toBe(1);
    expect(await open.connection.gkPutGate(k.gate, k.gateRev, k.idents, 2, snap('older'))).toBe(0);
    expect(JSON.parse((await open.connection.get(k.gate)) ?? '{}')).toMatchObject({ name: 'newer' });

    // Forgetting an identity is refused once a newer refresh has started (it may be writing there again).
    await open.connection.set(k.rev, '4');
    expect(await open.connection.gkPruneIdentities(k.rev, k.idents, 3, key)).toBe(-1);
    expect(await open.connection.smembers(k.idents)).toEqual([key]);
    expect(await open.connection.gkPruneIdentities(k.rev, k.idents, 4, key)).toBe(1);
    expect(await open.connection.smembers(k.idents)).toEqual([]);
  });

  it('ends consistent when changes to one customer race: exactly the stored numbers resolve to them', async () => {
    const numbers = Array.from({ length: 8 }, (_, i) => `+4477009009${String(i).padStart(2, '0')}`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(numbers.map((phone, i) => open.store.customers.put(aCustomer({ id: 'C-RACE', name: `Race ${round}-${i}`, phones: [phone] }))));
      const stored = await open.store.customers.get('C-RACE');
      for (const phone of numbers) {
        const result = await open.store.gate.resolve({ phone });
        if (stored?.phones.includes(phone)) expect(result).toMatchObject({ kind: 'resolved', snapshot: { name: stored.name } });
        else expect(result).toEqual({ kind: 'unidentified' });
      }
      expect(snapshotOf(await open.store.gate.resolve({ customerId: 'C-RACE' })).name).toBe(stored?.name);
    }
  });

  it('repairs lost or stale copies with refreshAll', async () => {
    await open.store.customers.put(aCustomer({ id: 'C-REPAIR', phones: ['07700 900801'] }));
    // As if a refresh had failed half-way: one copy gone, the other stale.
    await open.connection.hdel(identityKey('phone', '+447700900801'), 'C-REPAIR');
    await open.connection.set('gk:{c:C-REPAIR}:gate', JSON.stringify({ customerId: 'C-REPAIR', name: 'stale', needs: [], restrictions: [], staff: {} }));
    expect(await open.store.gate.resolve({ phone: '07700 900801' })).toEqual({ kind: 'unidentified' });

    expect(await open.store.snapshots.refreshAll()).toBeGreaterThanOrEqual(1);
    expect(snapshotOf(await open.store.gate.resolve({ phone: '07700 900801' })).customerId).toBe('C-REPAIR');
    expect(snapshotOf(await open.store.gate.resolve({ customerId: 'C-REPAIR' })).name).toBe('Customer C-REPAIR');
  });

  it('rejects phone numbers and email addresses that cannot be stored', async () => {
    await expect(open.store.customers.put(aCustomer({ id: 'C-BAD', phones: ['12'] }))).rejects.toMatchObject({ code: 'invalid-phone' });
    await expect(open.store.customers.put(aCustomer({ id: 'C-BAD', emails: ['nobody'] }))).rejects.toMatchObject({ code: 'invalid-email' });
    await expect(open.store.customers.put(aCustomer({ id: 'C {BAD}' }))).rejects.toMatchObject({ code: 'invalid-id' });
  });
});

describe('searching customers', () => {
  beforeAll(async () => {
    await open.store.customers.put(aCustomer({ id: 'C-SEARCH-1', name: 'Margaret Thompson', phones: ['07700 900701'], emails: ['mags@example.org'] }));
    await open.store.customers.put(aCustomer({ id: 'C-SEARCH-2', name: 'Tom Thompson-Hale', phones: ['07700 900702'] }));
  });

  it('finds by phone in any format, by email, by id and by part of the name', async () => {
    const ids = async (q: string): Promise<string[]> => (await open.store.customers.search(q)).map((c) => c.id);
    expect(await ids('+44 7700 900701')).toEqual(['C-SEARCH-1']);
    expect(await ids('MAGS@example.org')).toEqual(['C-SEARCH-1']);
    expect(await ids('C-SEARCH-2')).toEqual(['C-SEARCH-2']);
    expect(await ids('thompson')).toEqual(['C-SEARCH-1', 'C-SEARCH-2']);
    expect(await ids('zzz-nobody')).toEqual([]);
  });

  it('stores phones in E.164 and emails lower-cased', async () => {
    expect(await open.store.customers.get('C-SEARCH-1')).toMatchObject({ phones: ['+447700900701'], emails: ['mags@example.org'] });
  });
});
