/**
 * When Redis is gone or cannot take writes, every store operation rejects with the typed
 * StoreUnavailableError (the gate's lookup connection without queueing), the readiness helpers say so,
 * and everything works again once Redis is back. Bugs (WRONGTYPE) are not reported as outages.
 */
import { StoreUnavailableError, waitUntilReady } from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { aCustomer, openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url });
  await open.store.customers.put(aCustomer({ id: 'C-UP', phones: ['07700 900123'] }));
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

describe('while Redis is up', () => {
  it('is ready, with the noeviction policy', async () => {
    expect(await open.store.ping()).toBe(true);
    expect(await open.store.evictionPolicy()).toBe('noeviction');
  });

  it('reports a full Redis (OOM under noeviction) as unavailable, so ingest answers 4xx', async () => {
    await open.connection.config('SET', 'maxmemory', '1');
    try {
      const write = open.store.contacts.record('C-UP', { id: 'M-OOM', channel: 'email', receivedAt: '2026-01-01T00:00:00Z', outcome: 'proceed', reasons: [] });
      await expect(write).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await open.connection.config('SET', 'maxmemory', '0');
    }
  });

  it('gives up on a lookup Redis does not answer in time (commandTimeout), and recovers after', async () => {
    await open.connection.call('CLIENT', 'PAUSE', '400', 'ALL');
    await expect(open.store.gate.resolve({ phone: '07700 900123' })).rejects.toMatchObject({ code: 'store-unavailable' });
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await open.store.gate.resolve({ phone: '07700 900123' })).toMatchObject({ kind: 'resolved' });
  });

  it('does not mistake a bug for an outage', async () => {
    await open.connection.hset('gk:{c:C-WRONG}:customer', 'not', 'a string');
    const read = open.store.customers.get('C-WRONG');
    await expect(read).rejects.toThrow(/WRONGTYPE/);
    await expect(read).rejects.not.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('while Redis is down', () => {
  beforeAll(async () => {
    await redis.stop();
  });

  afterAll(async () => {
    await redis.restart();
  });

  it('rejects a gate lookup with StoreUnavailableError (the lookup connection does not queue)', async () => {
    const lookup = open.store.gate.resolve({ phone: '07700 900123' });
    await expect(lookup).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(lookup).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('gives the decision { kind: unavailable } through resolveOrUnavailable', async () => {
    expect(await open.store.gate.resolveOrUnavailable({ phone: '07700 900123' })).toEqual({ kind: 'unavailable' });
    expect(await open.store.gate.resolveOrUnavailable({ customerId: 'C-UP' })).toEqual({ kind: 'unavailable' });
  });

  it('still answers a withheld number, which never needs Redis', async () => {
    expect(await open.store.gate.resolve({ phone: 'anonymous' })).toEqual({ kind: 'unidentified' });
  });

  it('rejects repository reads and writes with StoreUnavailableError', async () => {
    await expect(open.store.customers.get('C-UP')).rejects.toMatchObject({ code: 'store-unavailable' });
    await expect(
      open.store.contacts.record('C-UP', { id: 'M-DOWN', channel: 'email', receivedAt: '2026-01-01T00:00:00Z', outcome: 'proceed', reasons: [] }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(open.store.audit.append({ actor: 'smtp', action: 'received', entity: 'contact', entityId: 'M-DOWN', at: '2026-01-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'store-unavailable',
    });
  });

  it('reports not ready', async () => {
    expect(await open.store.ping()).toBe(false);
    expect(await open.store.evictionPolicy()).toBe('unknown');
  });
});

describe('after Redis comes back', () => {
  it('resolves again on the same connections', async () => {
    await Promise.all([waitUntilReady(open.lookup), waitUntilReady(open.connection)]);
    const result = await open.store.gate.resolve({ phone: '+447700900123' });
    expect(result.kind).toBe('unidentified'); // the test server keeps no data across restarts (--save '')
    await open.store.customers.put(aCustomer({ id: 'C-UP', phones: ['07700 900123'] }));
    expect(await open.store.gate.resolve({ phone: '+447700900123' })).toMatchObject({ kind: 'resolved', snapshot: { customerId: 'C-UP' } });
  });
});

describe('where CONFIG is disabled (managed Redis)', () => {
  it('reports the eviction policy as unknown', async () => {
    const managed = await startRedis(['--rename-command', 'CONFIG', 'gk-renamed-config']);
    const other = await openStore({ kind: 'single', url: managed.url });
    try {
      expect(await other.store.ping()).toBe(true);
      expect(await other.store.evictionPolicy()).toBe('unknown');
    } finally {
      await other.close();
      await managed.stop();
    }
  });
});
