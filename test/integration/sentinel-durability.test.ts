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
import { FENCE_KEY, sharedWriteConfirmer, WriteConfirmer } from '../../store/durability';
import { createStore } from '../../store';
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
  app.delete('/things/:id', async (req, res) => {
    await connection.del(`test:thing:${String(req.params.id)}`);
    res.status(204).end();
  });
  app.post('/streamed', (_req, res) => {
    // Headers out before the end: nothing could replace this answer, so it is not held.
    res.writeHead(201, { 'Content-Type': 'text/plain' });
    res.write('part one, ');
    res.end('part two');
  });
  app.post('/throws-after-answering', async (_req, res) => {
    await connection.set('test:thing:thrown', 'stored');
    res.status(201).json({ ok: true });
    throw new Error('a bug after the answer');
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
  // The replica may still be on its first sync when the harness returns; the first test times its
  // confirmation at 500 ms, so start once the replica acknowledges writes (WAIT: replicas that have them).
  const syncedBy = Date.now() + 30_000;
  await connection.set('test:warm-up', '1');
  while ((await connection.wait(1, 1000)) < 1) {
    if (Date.now() > syncedBy) throw new Error('the replica never caught up with the primary');
  }
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
    await request(base).delete('/things/a').expect(204);
    expect(await onReplica('test:thing:a')).toBeNull();
    const streamed = await request(base).post('/streamed').expect(201);
    expect(streamed.text).toBe('part one, part two');
  });

  it('answers a route that throws after answering with the error, once, and keeps serving', async () => {
    const res = await request(base).post('/throws-after-answering').expect(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    await request(base).put('/things/c').expect(201);
  });

  it('serves confirmations that arrive together with shared fence rounds', async () => {
    const confirmer = new WriteConfirmer(connection);
    const before = Number(await connection.get(FENCE_KEY));
    const fences = Array.from({ length: 8 }, () => confirmer.begin());
    await Promise.all(fences.map(async (fence, i) => {
      await connection.set(`test:together:${i}`, 'yes');
      await fence.confirm();
    }));
    // One round for the first to arrive, one for all the others that arrived while it was on its way.
    const rounds = Number(await connection.get(FENCE_KEY)) - before;
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(rounds).toBeLessThanOrEqual(2);
    for (let i = 0; i < 8; i++) expect(await onReplica(`test:together:${i}`)).toBe('yes');
    await confirmer.close();
  });

  it('queues a duplicate delivery again when its job is gone and the message is not processed yet', async () => {
    const message = rawMessage(3);
    await ingestion.raw.ingest(message);
    // The job lost in a failover (it went to the old primary), while the bytes survived on the new one.
    await (await ingestion.queue.getJob(message.messageKey))?.remove();
    expect(await ingestion.queue.getJob(message.messageKey)).toBeUndefined();
    const retried = await ingestion.raw.ingest(message);
    expect(retried).toMatchObject({ messageKey: message.messageKey, duplicate: true });
    expect(await ingestion.queue.getJob(message.messageKey)).toBeDefined();

    // Once processed, a duplicate is only a duplicate.
    await ingestion.raw.update(message.messageKey, { processedAt: new Date().toISOString() });
    await (await ingestion.queue.getJob(message.messageKey))?.remove();
    await ingestion.raw.ingest(message);
    expect(await ingestion.queue.getJob(message.messageKey)).toBeUndefined();
  });

  it('gives the store and the email ingest on one connection one confirmer: no second fence connection', async () => {
    const primary = new Redis(sentinel.masterPort(), '127.0.0.1', { maxRetriesPerRequest: 0 });
    const fences = async (): Promise<number> => ((await primary.client('LIST')) as string).split('\n').filter((line) => / name=\S*-durability-test-fence /.test(line)).length;
    /** The count once connections still on their way have arrived (none more for 300 ms). */
    const settled = async (): Promise<number> => {
      for (let last = -1; ; ) {
        const now = await fences();
        if (now === last) return now;
        last = now;
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    try {
      // The ingest's confirmer (made in beforeAll) has run a round, so its fence connection is up.
      await sharedWriteConfirmer(connection).begin().confirm();
      const before = await settled();
      expect(before).toBeGreaterThanOrEqual(1);
      const store = createStore(connection);
      expect(store.writes).toBe(sharedWriteConfirmer(connection));
      // A confirmer of its own would open its fence connection for this round.
      await store.writes.begin().confirm();
      expect(await settled()).toBe(before);
    } finally {
      await primary.quit();
    }
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

  it('refuses the confirmation as an outage, without holding up other traffic on the writes\' connection', async () => {
    const confirmer = new WriteConfirmer(connection, { timeoutMs: 300 });
    const fences = [confirmer.begin(), confirmer.begin(), confirmer.begin()];
    await connection.set('test:frozen', 'maybe');
    let settled = false;
    const confirmations = Promise.allSettled(fences.map((f) => f.confirm())).then((results) => {
      settled = true;
      return results;
    });
    // WAIT blocks the connection it is sent on; it goes on the fence connection, so reads here still answer.
    expect(await connection.get('test:frozen')).toBe('maybe');
    expect(settled).toBe(false);
    for (const result of await confirmations) {
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(StoreUnavailableError);
    }
    await confirmer.close();
  });

  it('answers a write route 503 store-unavailable with Retry-After, so the client retries; reads still answer', async () => {
    const res = await request(base).put('/things/b').expect(503);
    expect(res.body).toEqual({ error: { code: 'store-unavailable', message: expect.any(String) } });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    await request(base).get('/things/c').expect(200, { value: 'stored' });
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

  it('remembers the replica from its poller, not from writes: an idle gateway still refuses on the old primary', async () => {
    let clock = 5_000_000;
    const confirmer = new WriteConfirmer(connection, { graceMs: 15_000, pollMs: 50, now: () => clock });
    const pollsHappen = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 400));
    await pollsHappen();
    // No write for a minute; the poller keeps looking at the primary meanwhile.
    clock += 60_000;
    await pollsHappen();
    await sentinel.killReplica();
    clock += 1_000;
    await expect(confirmer.begin().confirm()).rejects.toBeInstanceOf(StoreUnavailableError);
    await confirmer.close();
    await sentinel.restartReplica();
  }, 30_000);

  it('refuses within the grace period (a switchover, seen from the old primary), then accepts and reports it', async () => {
    let clock = 1_000_000;
    const reported: string[] = [];
    const results: string[] = [];
    const confirmer = new WriteConfirmer(connection, {
      graceMs: 30_000,
      now: () => clock,
      onUnreplicated: (primary) => reported.push(primary),
      onResult: (result) => results.push(result),
    });
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
    expect(results).toEqual(['confirmed', 'refused', 'unreplicated', 'unreplicated', 'unreplicated']);
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

  it('asks nothing of a connection that was not up when the unit began: it connected once at most', async () => {
    // A producer connection still connecting at start-up, while a staff change is answered.
    const late = createStoreConnection(target, { name: 'durability-late' });
    try {
      const confirmer = new WriteConfirmer(late);
      expect(late.status).not.toBe('ready');
      // Not up since either: nothing was written over it, so there is nothing to confirm (and no refusal).
      await confirmer.begin().confirm();
      // Up during the unit, and written over: confirmed on the server it connected to.
      const fence = confirmer.begin();
      await waitUntilReady(late);
      await late.set('test:late', 'written');
      await fence.confirm();
      expect(await onReplica('test:late')).toBe('written');
      // Up at the start, then a reconnect: refused as before.
      const moved = confirmer.begin();
      late.disconnect(true);
      await new Promise((resolve) => late.once('ready', resolve));
      await expect(moved.confirm()).rejects.toBeInstanceOf(StoreUnavailableError);
      await confirmer.close();
    } finally {
      await closeConnection(late);
    }
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
