/**
 * The gateway when the Sentinels (and so Redis) cannot be reached by some of its connections. Both tests
 * FAIL TODAY and show bugs described in the report:
 *
 * 1. `/readyz` checks only the shared store connection, not the gate's own fail-fast lookup connection
 *    (gateway/compose.ts). The two reconnect on different schedules — at start-up and after every outage or
 *    failover — so an instance can say "ready" while every call and decision it answers is unchecked.
 * 2. `EventHub.close()` (gateway/events-routes.ts) awaits an UNSUBSCRIBE on a connection that waits through
 *    outages, so `ComposedGateway.endStreams()` / `close()` — the first steps of `npm start`'s shutdown —
 *    never finish while Redis is unreachable, and SIGTERM ends in the grace-period exit(1).
 */
import request from 'supertest';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { composeGateway } from '../../gateway/compose';
import { EventHub } from '../../gateway/events-routes';
import { closeConnection, createStoreConnection, createSubscriberConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import type { RedisTarget } from '../../store/redis-target';
import { freePort } from '../support/redis-server';
import { startRedisSentinel, type TestRedisSentinel } from '../support/redis-sentinel';

const ADMIN_TOKEN = 'sentinel-outage-admin-token-0123456789';

let sentinel: TestRedisSentinel;
let connection: RedisConnection;
/** Sentinels nobody listens on: every connection to this target keeps trying. */
let unreachable: RedisTarget;

/** Whether `promise` settles within `ms` (a liveness check: "does it ever finish", not "how fast"). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  connection = createStoreConnection({ kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: sentinel.sentinelPort }], name: sentinel.name });
  await waitUntilReady(connection);
  unreachable = { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: await freePort() }], name: sentinel.name };
}, 60_000);

afterAll(async () => {
  if (connection) await closeConnection(connection);
  await sentinel?.stop();
});

describe('a gateway whose own connections cannot reach Redis', () => {
  it('is not ready while its gate cannot reach Redis, even though the store connection can', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_SENTINELS: `127.0.0.1:${sentinel.sentinelPort}`, REDIS_SENTINEL_NAME: sentinel.name, GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'silent' });
    // The gate's lookup (and event) connections go to the unreachable target; the store connection is healthy.
    const gateway = composeGateway({ config, logger: createLogger('silent'), target: unreachable, redis: connection });
    try {
      const decision = await request(gateway.app).post('/v1/decisions').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ channel: 'voice', from: '+447700900123' }).expect(200);
      expect(decision.body.reasons).toEqual(['restriction-check-unavailable']);
      const ready = await request(gateway.app).get('/readyz');
      expect({ status: ready.status, body: ready.body as unknown }).toEqual({ status: 503, body: expect.objectContaining({ status: 'not-ready' }) });
    } finally {
      // close() itself hangs on the unreachable event connection (the second test); end that connection
      // first so this suite never leaves a reconnecting client behind.
      const hub = gateway.events.hub as unknown as { subscriber: RedisConnection };
      hub.subscriber.disconnect();
      await gateway.close();
    }
  });

  it('can end its event streams and close while Redis is unreachable (shutdown must not hang)', async () => {
    const subscriber = createSubscriberConnection(unreachable, { name: 'outage-test' });
    const hub = new EventHub(subscriber);
    try {
      expect(await settlesWithin(hub.close(), 3000)).toBe(true);
    } finally {
      await closeConnection(subscriber);
    }
  });
});
