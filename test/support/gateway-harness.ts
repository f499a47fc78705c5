/**
 * Test harness for the HTTP gateway: a real redis-server of the suite's own, the real configuration
 * loader, the real store and the app exactly as `npm start` composes it.
 */
import request from 'supertest';
import type { RequestListener } from 'node:http';
import { loadConfig, type Config } from '../../config/env';
import { createLogger } from '../../config/logger';
import { gatewayWiring } from '../../bin/wiring';
import { composeGateway, type ComposedGateway } from '../../gateway/compose';
import { closeConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import type { Role } from '../../rules/types';
import { startRedis, type TestRedis } from './redis-server';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GatewayHarness {
  redis: TestRedis;
  config: Config;
  gateway: ComposedGateway;
  /** What the server runs: the voice webhooks ahead of the express app (gateway/http-handler.ts). */
  app: RequestListener;
  connection: RedisConnection;
  /** Moves the pinned clock. */
  setNow(iso: string): void;
  /** Creates a member of staff with the given roles and returns their bearer token. */
  staff(id: string, roles: Role[], patch?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** Starts redis-server and the gateway with `env` overrides; the clock starts at `nowIso`. */
export async function startGateway(env: Record<string, string> = {}, nowIso = '2026-11-25T10:00:00Z'): Promise<GatewayHarness> {
  const redis = await startRedis();
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: redis.url,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL: 'https://gatekeeper.example.org',
    TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
    EMERGENCY_NUMBER: '+443001234567',
    LOG_LEVEL: 'error',
    DATA_DIR: '/tmp/gk-test-data',
    ...env,
  });
  const connection = createStoreConnection({ kind: 'single', url: redis.url });
  let now = new Date(nowIso);
  const wiring = gatewayWiring({ config, logger: createLogger('error'), target: { kind: 'single', url: redis.url }, redis: connection });
  const gateway = composeGateway({
    ...wiring,
    config,
    logger: createLogger('error'),
    target: { kind: 'single', url: redis.url },
    redis: connection,
    now: () => now,
  });
  const app = gateway.app;
  return {
    redis,
    config,
    gateway,
    app,
    connection,
    setNow: (iso) => {
      now = new Date(iso);
    },
    staff: async (id, roles, patch = {}) => {
      await request(app)
        .post('/v1/staff')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ id, name: `${id} Name`, email: `${id}@staff.example.org`, roles, ...patch })
        .expect((res) => {
          if (res.status !== 201 && res.status !== 200) throw new Error(`staff ${id}: ${res.status} ${JSON.stringify(res.body)}`);
        });
      const res = await request(app).post(`/v1/staff/${id}/tokens`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(201);
      return (res.body as { token: string }).token;
    },
    close: async () => {
      await gateway.close();
      await wiring.close();
      await closeConnection(connection);
      await redis.stop();
    },
  };
}
