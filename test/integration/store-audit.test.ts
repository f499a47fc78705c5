/**
 * The audit stream over a real redis-server: appending, paging, and "append once" for retried webhooks.
 */
import type { AuditEntry } from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url }, { auditOnceTtlSeconds: 3600, auditMaxLength: 100_000 });
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

function anEntry(n: number, details?: Record<string, unknown>): AuditEntry {
  const entry: AuditEntry = { actor: 'ts1', action: 'approve', entity: 'restriction', entityId: `R-${n}`, at: `2026-07-01T10:00:0${n}.000Z` };
  return details === undefined ? entry : { ...entry, details };
}

describe('appending and reading', () => {
  it('reads back what was appended, in order, with details', async () => {
    const ids = [await open.store.audit.append(anEntry(1)), await open.store.audit.append(anEntry(2, { reasons: ['outside-call-times'], breach: true }))];
    const records = await open.store.audit.read(10);
    expect(records).toEqual([
      { id: ids[0], ...anEntry(1) },
      { id: ids[1], ...anEntry(2, { reasons: ['outside-call-times'], breach: true }) },
    ]);
  });

  it('pages forward from the last id read, and reads the latest backwards', async () => {
    await open.store.audit.append(anEntry(3));
    const firstPage = await open.store.audit.read(2);
    const last = firstPage[firstPage.length - 1];
    const secondPage = await open.store.audit.read(2, last?.id);
    expect(secondPage.map((r) => r.entityId)).toEqual(['R-3']);
    expect((await open.store.audit.latest(2)).map((r) => r.entityId)).toEqual(['R-3', 'R-2']);
  });

  it('refuses a paging id that is not a stream id', async () => {
    await expect(open.store.audit.read(10, 'abc')).rejects.toMatchObject({ code: 'invalid-id' });
  });
});

describe('appendOnce', () => {
  it('writes one record however often a webhook is retried', async () => {
    const before = await open.connection.xlen('gk:{audit}:stream');
    const entry = { actor: 'twilio', action: 'call-decided', entity: 'contact', entityId: 'CA123', at: '2026-07-02T10:00:00.000Z' };
    const results = [await open.store.audit.appendOnce('CA123:decision', entry), await open.store.audit.appendOnce('CA123:decision', entry)];
    const concurrent = await Promise.all([1, 2, 3].map(() => open.store.audit.appendOnce('CA123:decision', entry)));

    expect(results[0]?.appended).toBe(true);
    expect(results[1]).toEqual({ id: results[0]?.id, appended: false });
    expect(concurrent.every((r) => !r.appended && r.id === results[0]?.id)).toBe(true);
    expect(await open.connection.xlen('gk:{audit}:stream')).toBe(before + 1);
  });

  it('appends again under a different key, and remembers keys for the configured time', async () => {
    const entry = anEntry(4);
    const a = await open.store.audit.appendOnce('job-1', entry);
    const b = await open.store.audit.appendOnce('job-2', entry);
    expect([a.appended, b.appended]).toEqual([true, true]);
    const ttl = await open.connection.ttl('gk:{audit}:once:job-1');
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('bounds the stream with an approximate MAXLEN', async () => {
    // `~` trims whole macro-nodes (about 100 entries), so a bound of 1 keeps some, but far fewer than written.
    const small = await openStore({ kind: 'single', url: redis.url }, { auditMaxLength: 1 });
    try {
      for (let i = 0; i < 300; i++) await small.store.audit.append(anEntry(5));
      expect(await small.connection.xlen('gk:{audit}:stream')).toBeLessThan(300);
    } finally {
      await small.close();
    }
  });
});
