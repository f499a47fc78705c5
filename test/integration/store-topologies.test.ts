/**
 * One contract, three topologies: the same store behaviour over a single redis-server, a three-primary
 * Redis Cluster, and a Sentinel-managed primary. On the cluster, every multi-key command, MULTI and script
 * must stay inside one hash slot (the servers answer CROSSSLOT otherwise) and every pipeline inside one
 * node (ioredis refuses otherwise), so this suite is what proves the key layout is cluster-safe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../../store';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';
import { aCustomer, anActiveRestriction, aRequestedRestriction, aStaffMember, openStore, type OpenStore } from './store-fixtures';

/** A running topology: its target and how to tear it down. */
interface Topology {
  target: RedisTarget;
  stop(): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function single(): Promise<Topology> {
  const server = await startRedis();
  return { target: { kind: 'single', url: server.url }, stop: () => server.stop() };
}

/** Three primaries splitting the 16384 slots, joined with CLUSTER MEET (no replicas: not needed here). */
async function cluster(): Promise<Topology> {
  const servers: TestRedis[] = [];
  for (let i = 0; i < 3; i++) servers.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']));
  const admins = servers.map((s) => new Redis(s.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 }));
  try {
    const ranges = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ] as const;
    await Promise.all(admins.map((admin, i) => admin.call('CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]?.[0]), String(ranges[i]?.[1]))));
    for (const s of servers.slice(1)) await admins[0]?.call('CLUSTER', 'MEET', '127.0.0.1', String(s.port));
    await until('cluster_state:ok', async () => {
      const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'));
    });
  } finally {
    await Promise.all(admins.map((a) => a.quit()));
  }
  return {
    target: { kind: 'cluster', nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })) },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** A primary watched by one Sentinel (quorum 1), started from a config file Sentinel may rewrite. */
async function sentinel(): Promise<Topology> {
  const primary = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'gk-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor gk-primary 127.0.0.1 ${primary.port} 1`, ''].join('\n'));
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  probe.on('error', () => undefined);
  try {
    await until('sentinel to know the primary', async () => {
      if (probe.status === 'wait') await probe.connect();
      const addr = (await probe.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'gk-primary')) as string[] | null;
      return addr?.[1] === String(primary.port);
    });
  } finally {
    probe.disconnect();
  }
  return {
    target: { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port }], name: 'gk-primary' },
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await primary.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.each([
  ['a single server', single],
  ['a Redis Cluster', cluster],
  ['Sentinel', sentinel],
])('the store on %s', (_name, start) => {
  let topology: Topology;
  let open: OpenStore;

  beforeAll(async () => {
    topology = await start();
    open = await openStore(topology.target);
  });

  afterAll(async () => {
    await open?.close();
    await topology?.stop();
  });

  it('is ready, with noeviction', async () => {
    expect(await open.store.ping()).toBe(true);
    expect(await open.store.evictionPolicy()).toBe('noeviction');
  });

  it('resolves callers through the identity index, households as ambiguous', async () => {
    const { customers, gate } = open.store;
    await customers.put(aCustomer({ id: 'T-1', phones: ['07700 900801'], emails: ['one@example.org'] }));
    await customers.put(aCustomer({ id: 'T-2', phones: ['01632 960801'] }));
    await customers.put(aCustomer({ id: 'T-3', phones: ['+44 1632 960801'] }));
    expect(await gate.resolve({ phone: '+44 7700 900801' })).toMatchObject({ kind: 'resolved', snapshot: { customerId: 'T-1' } });
    expect(await gate.resolve({ email: 'ONE@example.org' })).toMatchObject({ kind: 'resolved', snapshot: { customerId: 'T-1' } });
    expect(await gate.resolve({ customerId: 'T-1' })).toMatchObject({ kind: 'resolved', snapshot: { customerId: 'T-1' } });
    expect(await gate.resolve({ phone: '01632960801' })).toEqual({ kind: 'ambiguous', customerIds: ['T-2', 'T-3'] });

    await customers.put(aCustomer({ id: 'T-1', phones: ['07700 900802'], emails: [] }));
    expect(await gate.resolve({ phone: '07700 900801' })).toEqual({ kind: 'unidentified' });
    expect(await gate.resolve({ email: 'one@example.org' })).toEqual({ kind: 'unidentified' });
    expect(await gate.resolve({ phone: '07700 900802' })).toMatchObject({ kind: 'resolved' });
    expect((await customers.search('07700900802')).map((c) => c.id)).toEqual(['T-1']);
  });

  it('keeps restrictions, their listings and snapshots in step, with optimistic concurrency', async () => {
    const { staff, restrictions, gate } = open.store;
    await staff.put(aStaffMember({ id: 'jsmith', phone: '020 7946 0018' }));
    await restrictions.create(anActiveRestriction({ id: 'TR-1', customerId: 'T-1' }));
    const requested = aRequestedRestriction({ id: 'TR-2', customerId: 'T-1' });
    await restrictions.create(requested);

    const resolved = await gate.resolve({ phone: '07700 900802' });
    expect(resolved).toMatchObject({ kind: 'resolved', snapshot: { restrictions: [{ id: 'TR-1' }], staff: { jsmith: { phone: '+442079460018' } } } });

    const rejected = { ...requested, status: 'rejected' as const, history: [...requested.history, { action: 'reject', from: 'requested' as const, to: 'rejected' as const, by: 'ts1', at: '2026-02-01T00:00:00Z' }] };
    await restrictions.save(rejected, 1);
    await expect(restrictions.save(rejected, 1)).rejects.toMatchObject({ code: 'concurrent-update' });
    expect((await restrictions.listByStatus('rejected')).map((r) => r.id)).toEqual(['TR-2']);
    expect((await restrictions.listByStatus('active')).map((r) => r.id)).toEqual(['TR-1']);
    expect((await restrictions.listByCustomer('T-1')).map((r) => r.id)).toEqual(['TR-1', 'TR-2']);
    expect((await restrictions.get('TR-2'))?.status).toBe('rejected');

    await staff.put(aStaffMember({ id: 'jsmith', phone: '020 7946 0019' }));
    expect(await gate.resolve({ customerId: 'T-1' })).toMatchObject({ snapshot: { staff: { jsmith: { phone: '+442079460019' } } } });
  });

  it('records contacts once, copies responded texts, counts breaches', async () => {
    const { contacts, responses } = open.store;
    const contact = { id: 'TC-1', channel: 'email' as const, receivedAt: '2026-03-01T10:00:00Z', outcome: 'proceed' as const, reasons: [], breach: true, restrictionId: 'TR-1', text: 'hello' };
    expect(await contacts.record('T-1', contact)).toBe(true);
    expect(await contacts.record('T-1', contact)).toBe(false);
    expect(await contacts.record(undefined, { ...contact, id: 'TU-1' })).toBe(true);
    expect((await contacts.list('T-1')).map((c) => c.id)).toEqual(['TC-1']);
    await contacts.update('T-1', 'TC-1', { status: 'acknowledged' });
    expect(await contacts.breachCount('T-1', 'TR-1', '2026-01-01T00:00:00Z')).toBe(1);
    expect(await responses.record('T-1', { reference: 'TREF', respondedAt: '2026-03-02T10:00:00Z', summary: 's', contactIds: ['TC-1'] })).toEqual({ copied: ['TC-1'], missing: [] });
    expect(await responses.responded('T-1')).toEqual([{ contactId: 'TC-1', text: 'hello', respondedAt: '2026-03-02T10:00:00Z', reference: 'TREF' }]);
  });

  it('issues, resolves and revokes tokens, and lists staff', async () => {
    const { staff } = open.store;
    const { token, tokenId } = await staff.issueToken('jsmith');
    expect((await staff.resolveToken(token))?.staff.id).toBe('jsmith');
    expect(await staff.revokeToken(tokenId)).toBe(true);
    expect(await staff.resolveToken(token)).toBeUndefined();
    expect((await staff.list()).map((s) => s.id)).toEqual(['jsmith']);
  });

  it('appends audit records once per key', async () => {
    const entry = { actor: 'twilio', action: 'call-decided', entity: 'contact', entityId: 'CA1', at: '2026-03-01T10:00:00Z' };
    const first = await open.store.audit.appendOnce('CA1', entry);
    expect(await open.store.audit.appendOnce('CA1', entry)).toEqual({ id: first.id, appended: false });
    await open.store.audit.append({ ...entry, entityId: 'CA2' });
    expect((await open.store.audit.read(10)).map((r) => r.entityId)).toEqual(['CA1', 'CA2']);
  });
});
