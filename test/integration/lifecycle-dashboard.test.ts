/**
 * The queue dashboard (bull-board) at /admin/queues: admins only, over the real gateway app and real
 * queues; its relaxed Content-Security-Policy stays on its own path.
 */
import type { Express } from 'express';
import request from 'supertest';
import { createLogger } from '../../config/logger';
import { createApp } from '../../gateway/app';
import { mountQueuesDashboard } from '../../gateway/queues-dashboard';
import { createStore } from '../../store';
import { closeConnection, createQueueConnection, createStoreConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import { closeLifecycleQueues, createLifecycleQueues, enqueueNotice, type LifecycleQueues } from '../../workers/lifecycle-queues';
import { startRedis, type TestRedis } from '../support/redis-server';

const ADMIN_TOKEN = 'dashboard-admin-token-0123456789abcdef';

let redis: TestRedis;
let connection: RedisConnection;
let queueConnection: RedisConnection;
let queues: LifecycleQueues;
let app: Express;
let agentToken: string;

beforeAll(async () => {
  redis = await startRedis();
  connection = createStoreConnection({ kind: 'single', url: redis.url });
  queueConnection = createQueueConnection({ kind: 'single', url: redis.url });
  await Promise.all([waitUntilReady(connection), waitUntilReady(queueConnection)]);
  const store = createStore(connection);
  queues = createLifecycleQueues(queueConnection);
  app = createApp({
    config: { adminToken: ADMIN_TOKEN, trustProxy: false },
    logger: createLogger('silent'),
    checkReady: async () => ({ ok: true, checks: { redis: 'ok' } }),
    resolveToken: (token) => store.staff.resolveToken(token),
    authFailureLimits: { maxFailures: 1000 },
    mount: (a, kit) => mountQueuesDashboard(a, { queues: [queues.notifications, queues.lifecycle], auth: kit.auth, requireRole: kit.requireRole }),
  });
  await store.staff.put({ id: 'agent1', name: 'Alex Agent', email: 'agent1@staff.example', roles: ['agent', 'ts-manager'] });
  agentToken = (await store.staff.issueToken('agent1')).token;
  await enqueueNotice(queues, { kind: 'monthly-report', noticeId: 'monthly-report.2026-10', month: '2026-10' });
});

afterAll(async () => {
  await closeLifecycleQueues(queues);
  await closeConnection(queueConnection);
  await closeConnection(connection);
  await redis.stop();
});

describe('/admin/queues', () => {
  it('refuses anyone without a token, and staff who are not admins', async () => {
    const anonymous = await request(app).get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    const staff = await request(app).get('/admin/queues/api/queues').set('Authorization', `Bearer ${agentToken}`);
    expect(staff.status).toBe(403);
    expect(staff.body.error.code).toBe('forbidden-role');
    expect((await request(app).get('/admin/queues/static/css/main.88d71b4bd7.css')).status).toBe(401);
  });

  it('serves the dashboard to an admin, with inline styles allowed on this path only', async () => {
    const page = await request(app).get('/admin/queues').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('<title>Gatekeeper queues</title>');
    const csp = page.headers['content-security-policy'] ?? '';
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");

    // Everywhere else the gateway's strict policy is unchanged.
    const elsewhere = await request(app).get('/healthz');
    expect(elsewhere.headers['content-security-policy']).toMatch(/style-src 'self'(;|$)/);
    expect(elsewhere.headers['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('shows the lifecycle queues and their jobs, which carry references only', async () => {
    const res = await request(app).get('/admin/queues/api/queues?activeQueue=notifications&status=waiting').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const body = res.body as { queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ id: string; data: unknown }> }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['lifecycle', 'notifications']);
    const notifications = body.queues.find((q) => q.name === 'notifications');
    expect(notifications?.counts.waiting).toBe(1);
    expect(notifications?.jobs[0]).toMatchObject({ id: 'notice.monthly-report.2026-10', data: { notice: { kind: 'monthly-report', month: '2026-10' } } });
  });
});
