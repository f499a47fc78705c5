/**
 * Writes are acknowledged only once a replica has them (store/durability.ts, gateway/durable-writes.ts),
 * over a real Sentinel set-up: a primary, its replica and a Sentinel. The replica is frozen (SIGSTOP: its
 * link stays open but it confirms nothing), killed and restarted to drive each branch. The switchover that
 * this exists for is exercised end to end in sentinel-failover.test.ts.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createLogger } from '../../config/logger';
import { confirmWritesBeforeAnswering } from '../../gateway/durable-writes';
import { errorHandler } from '../../gateway/errors';
import { closeConnection, createStoreConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import { FENCE_KEY, WriteConfirmer } from '../../store/durability';
import { StoreUnavailableError } from '../../store/errors';
import { redisTargetFromSettings, type RedisTarget } from '../../store/redis-target';
import { createEmailIngestion, type EmailIngestion } from '../../workers/email-ingestion';
import { startRedisSentinel, type TestRedisSentinel } from '../support/redis-sentinel';
import { startRedis, type TestRedis } from '../support/redis-server';
import { serveOnLoopback } from '../support/serve';

let sentinel: TestRedisSentinel;
let target: RedisTarget;
let connection: RedisConnection;
let ingestion: EmailIngestion;
let server: Server;
let base: string;

/** A route that writes a key and answers 201, behind the middleware, as the staff routers are. */
function appOver(confirmer: WriteConfirmer): express.Express {
  const app = express();
  app.use(express.json());
  app.use(confirmWritesBeforeAnswering(confirmer));
  app.put('/things/:id', async (req, res) => {
    await connection.set(`test:thing:${String(req.params.id)}`, 'stored');
    res.status(201).json({ id: req.params.id });
  });
  app.get('/things/:id', async (req, res) => {
    res.json({ value: await connection.get(`test:thing:${String(req.params.id)}`) });
  });
  app.put('/refused', (_req, res) => {
    res.status(409).json({ error: { code: 'conflict', message: 'no' } });
  });
  app.use(errorHandler(createLogger('silent')));
  return app;
}

/** One raw message, as the SMTP listener or `POST /inbound/email` hands it to the store. */
function rawMessage(n: number) {
  const bytes = Buffer.from(`From: ray@tenant.example\r\nTo: housing@landlord.example\r\nSubject: ${n}\r\n\r\nHello ${n}\r\n`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { messageKey: `sha-${sha256}`, chunks: [bytes], size: bytes.length, sha256, source: 'http' as const, receivedAt: new Date() };
}

/** What the replica holds for `key` (read on the replica itself). */
async function onReplica(key: string): Promise<string | null> {
  const replica = new Redis(sentinel.replicaPort(), '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    return await replica.get(key);
  } finally {
    await replica.quit();
  }
}

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  const settings = { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name };
  const resolved = redisTargetFromSettings(settings);
  if (resolved?.kind !== 'sentinel') throw new Error('expected a sentinel target');
  target = resolved;
  connection = createStoreConnection(target, { name: 'durability-test' });
  await waitUntilReady(connection);
  ingestion = createEmailIngestion({ config: { rawRetentionDays: 1 }, target, redis: connection, logger: createLogger('silent') });
  ({ server, base } = await serveOnLoopback(appOver(new WriteConfirmer(connection, { timeoutMs: 300 }))));
}, 60_000);

afterAll(async () => {
  sentinel?.signalReplica('SIGCONT');
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await ingestion?.close();
  if (connection) await closeConnection(connection);
  await sentinel?.stop();
});

describe('with a healthy replica', () => {
  it('confirms a write once the replica has it', async () => {
    const confirmer = new WriteConfirmer(connection);
    expect(confirmer.checks).toBe(true);
    const fence = confirmer.begin();
    await connection.set('test:confirmed', 'yes');
    await fence.confirm();
    // The fence covers the write before it: the replica already holds both.
    expect(await onReplica('test:confirmed')).toBe('yes');
    expect(await onReplica(FENCE_KEY)).toBe(await connection.get(FENCE_KEY));
  });

  it('answers a write route as written, and leaves reads and refusals alone', async () => {
    const put = await request(base).put('/things/a').expect(201);
    expect(put.body).toEqual({ id: 'a' });
    expect(await onReplica('test:thing:a')).toBe('stored');
    await request(base).get('/things/a').expect(200, { value: 'stored' });
    await request(base).put('/refused').expect(409);
  });

  it('ingests a message and its job once the replica has both', async () => {
    const message = rawMessage(1);
    const outcome = await ingestion.raw.ingest(message);
    expect(outcome).toMatchObject({ messageKey: message.messageKey, duplicate: false });
    expect(await ingestion.queue.getJob(message.messageKey)).toBeDefined();
  });
});

describe('with the replica frozen (its link open, confirming nothing)', () => {
  beforeAll(() => sentinel.signalReplica('SIGSTOP'));
  afterAll(() => sentinel.signalReplica('SIGCONT'));

  it('refuses the confirmation as an outage', async () => {
    const fence = new WriteConfirmer(connection, { timeoutMs: 200 }).begin();
    await connection.set('test:frozen', 'maybe');
    await expect(fence.confirm()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('answers a write route 503 store-unavailable with Retry-After, so the client retries; reads still answer', async () => {
    const res = await request(base).put('/things/b').expect(503);
    expect(res.body).toEqual({ error: { code: 'store-unavailable', message: expect.any(String) } });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    await request(base).get('/things/a').expect(200, { value: 'stored' });
  });

  it('does not acknowledge an ingested message, and acknowledges its retry once the replica is back', async () => {
    const message = rawMessage(2);
    await expect(ingestion.raw.ingest(message)).rejects.toBeInstanceOf(StoreUnavailableError);
    sentinel.signalReplica('SIGCONT');
    // The sender's retry: the bytes and the job were stored the first time, and are confirmed now.
    const retried = await ingestion.raw.ingest(message);
    expect(retried.messageKey).toBe(message.messageKey);
    expect(await ingestion.queue.getJob(message.messageKey)).toBeDefined();
    sentinel.signalReplica('SIGSTOP');
  });
});

describe('when the primary loses its replica', () => {
  afterAll(() => sentinel.restartReplica(), 30_000);

  it('refuses within the grace period (a switchover, seen from the old primary), then accepts and reports it', async () => {
    let clock = 1_000_000;
    const reported: string[] = [];
    const confirmer = new WriteConfirmer(connection, { graceMs: 30_000, now: () => clock, onUnreplicated: (primary) => reported.push(primary) });
    await confirmer.begin().confirm();

    await sentinel.killReplica();
    clock += 1_000;
    await expect(confirmer.begin().confirm()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(reported).toEqual([]);

    // Long after the replica went: the primary is on its own, and writes go on (reported once a minute).
    clock += 30_000;
    await confirmer.begin().confirm();
    await confirmer.begin().confirm();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/^[0-9a-f]{40}$/);
    clock += 60_000;
    await confirmer.begin().confirm();
    expect(reported).toHaveLength(2);
  }, 30_000);

  it('accepts writes on a primary it never saw with a replica (a replica promoted after its primary died)', async () => {
    const confirmer = new WriteConfirmer(connection, { graceMs: 30_000 });
    await confirmer.begin().confirm();
  });
});

describe('when the connection reconnects between the writes and the confirmation', () => {
  it('refuses: the writes may have gone to another primary', async () => {
    const confirmer = new WriteConfirmer(connection);
    const fence = confirmer.begin();
    connection.disconnect(true);
    await new Promise((resolve) => connection.once('ready', resolve));
    await expect(fence.confirm()).rejects.toBeInstanceOf(StoreUnavailableError);
    // A fence begun after the reconnect is confirmed as usual.
    await confirmer.begin().confirm();
  });
});

describe('on a single server', () => {
  let single: TestRedis;
  let plain: RedisConnection;

  beforeAll(async () => {
    single = await startRedis();
    plain = createStoreConnection({ kind: 'single', url: single.url });
  });

  afterAll(async () => {
    await closeConnection(plain);
    await single.stop();
  });

  it('checks nothing: there is no replica and no failover to lose writes in', async () => {
    const confirmer = new WriteConfirmer(plain, { timeoutMs: 60_000 });
    expect(confirmer.checks).toBe(false);
    await confirmer.begin().confirm();
    // Not even the fence write: the server was not asked anything.
    expect(await plain.exists(FENCE_KEY)).toBe(0);
  });
});
