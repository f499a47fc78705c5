/**
 * `ContactRepository.known`: which of several contact ids are in a customer's history, in one round trip —
 * on a single redis-server and on a three-primary Redis Cluster, where the pipeline must stay in the
 * customer's slot (ioredis refuses a pipeline that spans nodes).
 */
import type { RedisTarget } from '../../store';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { startRedis, type TestRedis } from '../support/redis-server';
import { openStore, type OpenStore } from './store-fixtures';

const topologies: Array<[string, () => Promise<{ target: RedisTarget; stop: () => Promise<void> }>]> = [
  [
    'single server',
    async () => {
      const server: TestRedis = await startRedis();
      return { target: { kind: 'single', url: server.url }, stop: () => server.stop() };
    },
  ],
  [
    'cluster',
    async () => {
      const cluster: TestRedisCluster = await startRedisCluster();
      return { target: { kind: 'cluster', nodes: cluster.nodes }, stop: () => cluster.stop() };
    },
  ],
];

describe.each(topologies)('known contacts on a %s', (_name, start) => {
  let stop: () => Promise<void>;
  let open: OpenStore;

  beforeAll(async () => {
    const started = await start();
    stop = started.stop;
    open = await openStore(started.target);
    const contact = (id: string, channel: 'voice' | 'email') => ({ id, channel, receivedAt: '2025-11-20T09:00:00.000Z', outcome: 'proceed' as const, reasons: ['no-restriction' as const] });
    await open.store.contacts.record('C1', contact('CA-1', 'voice'));
    await open.store.contacts.record('C1', { ...contact('M-1', 'email'), text: 'About the fence' });
    await open.store.contacts.record('C2', contact('M-2', 'email'));
    await open.store.contacts.record(undefined, contact('M-3', 'email'));
  }, 60_000);

  afterAll(async () => {
    await open?.close();
    await stop?.();
  });

  it('names the ids recorded for that customer, and no one else’s', async () => {
    expect(await open.store.contacts.known('C1', ['M-1', 'NOPE', 'CA-1', 'M-2', 'M-3', 'M-1'])).toEqual(new Set(['M-1', 'CA-1']));
    expect(await open.store.contacts.known('C2', ['M-1', 'M-2'])).toEqual(new Set(['M-2']));
    expect(await open.store.contacts.known(undefined, ['M-2', 'M-3'])).toEqual(new Set(['M-3']));
    expect(await open.store.contacts.known('C1', [])).toEqual(new Set());
  });

  it('refuses an id that would move the key out of the customer’s slot', async () => {
    await expect(open.store.contacts.known('C1', ['M-1', 'x}{y'])).rejects.toMatchObject({ code: 'invalid-id' });
  });
});
