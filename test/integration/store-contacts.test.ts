/**
 * Recorded contacts and responses over a real redis-server: recording is idempotent, texts are kept apart
 * with a TTL, breaches are counted, and a response copies the texts it answers into the responded list.
 */
import type { StoredContact } from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url }, { textRetentionDays: 30 });
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

function aContact(id: string, overrides: Partial<StoredContact> = {}): StoredContact {
  return { id, channel: 'email', receivedAt: '2026-06-01T10:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'], ...overrides };
}

describe('recording contacts', () => {
  it('records a contact once, however often it is retried', async () => {
    const first = await open.store.contacts.record('C1', { ...aContact('CA-1', { channel: 'voice', from: '07700 900123' }), text: 'first' });
    const retry = await open.store.contacts.record('C1', { ...aContact('CA-1', { channel: 'voice', outcome: 'deflect' }), text: 'second' });
    expect([first, retry]).toEqual([true, false]);
    expect(await open.store.contacts.get('C1', 'CA-1')).toEqual(aContact('CA-1', { channel: 'voice', from: '+447700900123' }));
    expect(await open.store.contacts.list('C1')).toHaveLength(1);
    expect(await open.connection.get('gk:{c:C1}:contact-text:CA-1')).toBe('first');
  });

  it('keeps the text out of the record, with the retention TTL', async () => {
    await open.store.contacts.record('C1', { ...aContact('M-TEXT'), text: 'My kitchen tap leaks' });
    const raw = await open.connection.get('gk:{c:C1}:contact:M-TEXT');
    expect(raw).not.toContain('kitchen');
    const ttl = await open.connection.ttl('gk:{c:C1}:contact-text:M-TEXT');
    expect(ttl).toBeGreaterThan(29 * 86_400);
    expect(ttl).toBeLessThanOrEqual(30 * 86_400);
  });

  it('lists newest first, up to the limit', async () => {
    await open.store.contacts.record('C-ORDER', aContact('a', { receivedAt: '2026-06-01T10:00:00.000Z' }));
    await open.store.contacts.record('C-ORDER', aContact('c', { receivedAt: '2026-06-03T10:00:00.000Z' }));
    await open.store.contacts.record('C-ORDER', aContact('b', { receivedAt: '2026-06-02T10:00:00.000Z' }));
    expect((await open.store.contacts.list('C-ORDER')).map((c) => c.id)).toEqual(['c', 'b', 'a']);
    expect((await open.store.contacts.list('C-ORDER', 2)).map((c) => c.id)).toEqual(['c', 'b']);
  });

  it('keeps contacts from unidentified senders apart from every customer', async () => {
    expect(await open.store.contacts.record(undefined, aContact('U-1', { from: 'Stranger <Someone@Example.org>' }))).toBe(true);
    expect(await open.store.contacts.get(undefined, 'U-1')).toMatchObject({ from: 'someone@example.org' });
    expect((await open.store.contacts.list(undefined)).map((c) => c.id)).toEqual(['U-1']);
    expect(await open.connection.zrange('gk:{unmatched}:contacts', 0, '-1')).toEqual(['U-1']);
  });

  it('updates a contact and keeps its identity fields', async () => {
    await open.store.contacts.record('C1', aContact('CA-2', { channel: 'voice' }));
    const updated = await open.store.contacts.update('C1', 'CA-2', { status: 'completed', details: { durationSeconds: 42 } });
    expect(updated).toMatchObject({ id: 'CA-2', channel: 'voice', status: 'completed', details: { durationSeconds: 42 } });
    expect(await open.store.contacts.get('C1', 'CA-2')).toEqual(updated);
    await expect(open.store.contacts.update('C1', 'CA-NONE', { status: 'x' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('applies concurrent updates without losing either', async () => {
    await open.store.contacts.record('C1', aContact('CA-3'));
    await Promise.all([
      open.store.contacts.update('C1', 'CA-3', { status: 'forwarded' }),
      open.store.contacts.update('C1', 'CA-3', { routeTo: 'jsmith' }),
    ]);
    expect(await open.store.contacts.get('C1', 'CA-3')).toMatchObject({ status: 'forwarded', routeTo: 'jsmith' });
  });

  it('merges details arriving in pieces at the same moment, losing none', async () => {
    await open.store.contacts.record('C1', aContact('CA-4', { channel: 'voice' }));
    await Promise.all([
      open.store.contacts.update('C1', 'CA-4', { details: { answeredBy: 'jsmith' } }),
      open.store.contacts.update('C1', 'CA-4', { details: { durationSeconds: 65 } }),
      open.store.contacts.update('C1', 'CA-4', { details: { recordingSid: 'RE123' } }),
    ]);
    expect((await open.store.contacts.get('C1', 'CA-4'))?.details).toEqual({ answeredBy: 'jsmith', durationSeconds: 65, recordingSid: 'RE123' });
  });

  it('refuses a receivedAt that is not an instant', async () => {
    await expect(open.store.contacts.record('C1', aContact('BAD', { receivedAt: 'yesterday' }))).rejects.toMatchObject({ code: 'invalid-date' });
  });
});

describe('breaches', () => {
  it('counts breaches of one restriction since a moment, following updates', async () => {
    const breach = { breach: true, restrictionId: 'R-B', outcome: 'deflect' as const, reasons: ['outside-call-times' as const], channel: 'voice' as const };
    await open.store.contacts.record('C-B', aContact('b1', { ...breach, receivedAt: '2026-06-01T10:00:00.000Z' }));
    await open.store.contacts.record('C-B', aContact('b2', { ...breach, receivedAt: '2026-06-05T10:00:00.000Z' }));
    await open.store.contacts.record('C-B', aContact('b2', { ...breach, receivedAt: '2026-06-05T10:00:00.000Z' }));
    await open.store.contacts.record('C-B', aContact('ok', { restrictionId: 'R-B', receivedAt: '2026-06-06T10:00:00.000Z' }));
    await open.store.contacts.record('C-B', aContact('other', { ...breach, restrictionId: 'R-OTHER', receivedAt: '2026-06-06T10:00:00.000Z' }));

    expect(await open.store.contacts.breachCount('C-B', 'R-B', '2026-01-01T00:00:00.000Z')).toBe(2);
    expect(await open.store.contacts.breachCount('C-B', 'R-B', '2026-06-02T00:00:00.000Z')).toBe(1);

    await open.store.contacts.update('C-B', 'ok', { breach: true });
    await open.store.contacts.update('C-B', 'b1', { breach: false });
    expect(await open.store.contacts.breachCount('C-B', 'R-B', '2026-01-01T00:00:00.000Z')).toBe(2);
    expect(await open.store.contacts.breachCount('C-B', 'R-B', '2026-06-06T00:00:00.000Z')).toBe(1);
  });
});

describe('responses', () => {
  beforeAll(async () => {
    await open.store.contacts.record('C-R', { ...aContact('e1', { receivedAt: '2026-06-01T10:00:00.000Z' }), text: 'Damp in the bedroom again' });
    await open.store.contacts.record('C-R', { ...aContact('e2', { receivedAt: '2026-06-02T10:00:00.000Z' }), text: 'Bins not collected' });
    await open.store.contacts.record('C-R', aContact('call', { channel: 'voice' }));
  });

  it('copies the texts of the contacts a response answers into the responded list', async () => {
    const result = await open.store.responses.record('C-R', { reference: 'RESP-1', respondedAt: '2026-06-03T09:00:00.000Z', summary: 'Surveyor booked', contactIds: ['e1', 'call', 'nope'] });
    expect(result).toEqual({ copied: ['e1'], missing: ['call', 'nope'] });
    expect(await open.store.responses.responded('C-R')).toEqual([
      { contactId: 'e1', text: 'Damp in the bedroom again', respondedAt: '2026-06-03T09:00:00.000Z', reference: 'RESP-1' },
    ]);
  });

  it('lists newest response first, and a later answer to the same contact replaces the earlier', async () => {
    await open.store.responses.record('C-R', { reference: 'RESP-2', respondedAt: '2026-06-04T09:00:00.000Z', summary: 'Bins escalated', contactIds: ['e2'] });
    await open.store.responses.record('C-R', { reference: 'RESP-3', respondedAt: '2026-06-05T09:00:00.000Z', summary: 'Damp works ordered', contactIds: ['e1'] });
    expect((await open.store.responses.responded('C-R')).map((r) => [r.contactId, r.reference])).toEqual([
      ['e1', 'RESP-3'],
      ['e2', 'RESP-2'],
    ]);
    expect((await open.store.responses.list('C-R')).map((r) => r.reference)).toEqual(['RESP-3', 'RESP-2', 'RESP-1']);
    expect(await open.connection.ttl('gk:{c:C-R}:responded')).toBeGreaterThan(0);
  });

  it('is idempotent by reference', async () => {
    const input = { reference: 'RESP-4', respondedAt: '2026-06-06T09:00:00.000Z', summary: 'Again', contactIds: ['e2'] };
    await open.store.responses.record('C-R', input);
    await open.store.responses.record('C-R', input);
    expect((await open.store.responses.list('C-R')).filter((r) => r.reference === 'RESP-4')).toHaveLength(1);
  });
});
