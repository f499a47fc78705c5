/**
 * The store's batch writes over a real redis-server: `ContactRepository.recordAll` (one pipeline) and
 * `AuditLog.appendOnceMany` (one script) leave exactly what the one-by-one writes leave, each record
 * judged on its own — the voice webhooks record every call decided in one turn of the event loop through
 * them. Also on a three-primary Redis Cluster, where a script touching two slots would be refused.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';

import type { AuditEntry, StoredContact } from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url }, { textRetentionDays: 30, auditOnceTtlSeconds: 3600 });
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

function aCall(id: string, overrides: Partial<StoredContact> = {}): StoredContact {
  return { id, channel: 'voice', receivedAt: '2026-06-01T10:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'], breach: false, status: 'decided', ...overrides };
}

function anEntry(callSid: string): AuditEntry {
  return { actor: 'twilio', action: 'call.decided', entity: 'contact', entityId: callSid, at: '2026-06-01T10:00:00.000Z', details: { channel: 'voice' } };
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
});
