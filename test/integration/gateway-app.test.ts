import { Writable } from 'node:stream';
import { Router } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import winston from 'winston';
import { z } from 'zod';
import { createLogger } from '../../config/logger';
import { createApp, type AppDeps } from '../../gateway/app';
import type { ResolvedToken } from '../../gateway/auth';
import { currentStaff } from '../../gateway/auth';
import { Conflict, toHttpError } from '../../gateway/errors';
import { redisReadiness, type ReadyCheck } from '../../gateway/health';
import { recordDecision } from '../../gateway/metrics';
import { parseBody, parseQuery } from '../../gateway/validate';
import { YearOutOfRangeError } from '../../rules/bank-holidays';
import { RuleError } from '../../rules/errors';
import type { Staff } from '../../rules/types';
import { StoreUnavailableError } from '../../store/errors';
import { startRedis, stopRedis, type TestRedis } from '../support/redis-server';

const ADMIN_TOKEN = 'bootstrap-admin-token-0123456789';
const staff: Record<string, ResolvedToken> = {
  'tok-agent': { tokenId: 't1', staff: { id: 'agent1', name: 'A Gent', email: 'agent1@landlord.example', roles: ['agent'] } },
  'tok-ts': { tokenId: 't2', staff: { id: 'ts1', name: 'T Specialist', email: 'ts1@landlord.example', roles: ['tenancy-specialist'] } },
};

/** Collects the JSON log lines an app writes, through a real winston Stream transport. */
function capturedLogger(): { logger: AppDeps['logger']; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('debug', [new winston.transports.Stream({ stream })]), text: () => chunks.join('') };
}

const restrictionSchema = z.object({
  customerId: z.string(),
  evidence: z.array(z.object({ type: z.string(), reference: z.string() })).min(1),
});

function build(overrides: Partial<AppDeps> = {}) {
  const log = capturedLogger();
  const app = createApp({
    config: { adminToken: ADMIN_TOKEN, trustProxy: false },
    logger: log.logger,
    checkReady: async () => ({ ok: true, checks: { redis: 'ok' } }),
    resolveToken: async (token) => staff[token],
    mount: (a, { auth, requireRole }) => {
      a.get('/v1/whoami', auth, (_req, res) => {
        const me: Staff = currentStaff(res);
        res.json({ id: me.id, roles: me.roles });
      });
      a.post('/v1/restrictions', auth, requireRole('staff', 'tenancy-specialist'), (req, res) => {
        const body = parseBody(restrictionSchema, req.body);
        res.status(201).json({ customerId: body.customerId });
      });
      a.get('/v1/restrictions', auth, (req, res) => {
        const query = parseQuery(z.object({ status: z.enum(['active', 'lifted']) }), req.query);
        res.json({ status: query.status });
      });
      a.post('/voice/status', (req, res) => {
        res.json({ fields: Object.keys(req.body as object).length });
      });
      a.post('/boom', () => {
        throw new Error('database password is hunter2');
      });
      a.get('/rule/:kind', (req) => {
        throw new RuleError('review-too-late', 'The review date is too late', req.params.kind as 'invalid');
      });
      a.get('/store-down', async () => {
        throw new StoreUnavailableError(new Error('ECONNREFUSED'));
      });
      a.get('/conflict', () => {
        throw new Conflict('already-exists', 'A staff member with that id exists');
      });
      const mounted = Router();
      mounted.get('/', (_req, res) => {
        res.json({ ok: true });
      });
      a.use('/mounted', mounted);
    },
    ...overrides,
  });
  return { app, logs: log.text };
}

/** The fixed error shape, with nothing else in it (no stack, no details). */
function expectErrorBody(body: unknown, code: string): void {
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

describe('createApp: errors', () => {
  const { app, logs } = build();

  it('answers unknown routes 404 not-found in the error shape', async () => {
    const res = await request(app).get('/nowhere?q=1').expect(404);
    expectErrorBody(res.body, 'not-found');
    expect(res.body.error.message).toBe('No route for GET /nowhere');
  });

  it('answers a JSON body over 100kb 413 payload-too-large', async () => {
    const res = await request(app)
      .post('/v1/restrictions')
      .set('Authorization', 'Bearer tok-ts')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ customerId: 'C1', pad: 'x'.repeat(110 * 1024) }))
      .expect(413);
    expectErrorBody(res.body, 'payload-too-large');
  });

  it('accepts a JSON body under the limit', async () => {
    const res = await request(app)
      .post('/v1/restrictions')
      .set('Authorization', 'Bearer tok-ts')
      .send({ customerId: 'C1', evidence: [{ type: 'call-log', reference: 'CL1' }], pad: 'x'.repeat(90 * 1024) })
      .expect(201);
    expect(res.body).toEqual({ customerId: 'C1' });
  });

  it('answers a form body over 64kb 413, and parses one under it', async () => {
    const big = await request(app).post('/voice/status').type('form').send(`CallSid=CA1&Pad=${'x'.repeat(70 * 1024)}`).expect(413);
    expectErrorBody(big.body, 'payload-too-large');
    const small = await request(app).post('/voice/status').type('form').send('CallSid=CA1&CallStatus=completed').expect(200);
    expect(small.body).toEqual({ fields: 2 });
  });

  it('answers invalid JSON 400 invalid-json without a stack trace', async () => {
    const res = await request(app)
      .post('/v1/restrictions')
      .set('Authorization', 'Bearer tok-ts')
      .set('Content-Type', 'application/json')
      .send('{"customerId": "C1",')
      .expect(400);
    expectErrorBody(res.body, 'invalid-json');
  });

  it('answers a compressed body that does not decompress 400 invalid-encoding, not 500', async () => {
    for (const encoding of ['gzip', 'deflate']) {
      const res = await request(app)
        .post('/v1/restrictions')
        .set('Authorization', 'Bearer tok-ts')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send('{}')
        .expect(400);
      expectErrorBody(res.body, 'invalid-encoding');
    }
  });

  it('answers a year the bank-holiday table does not know 422 year-out-of-range, not 500', () => {
    const mapped = toHttpError(new YearOutOfRangeError(2100));
    expect(mapped?.status).toBe(422);
    expect(mapped?.code).toBe('year-out-of-range');
  });

  it('answers a malformed body 400 invalid-request naming the first bad field', async () => {
    const res = await request(app)
      .post('/v1/restrictions')
      .set('Authorization', 'Bearer tok-ts')
      .send({ customerId: 'C1', evidence: [{ type: 'call-log' }] })
      .expect(400);
    expect(res.body).toEqual({ error: { code: 'invalid-request', message: 'evidence[0].reference: Required' } });
  });

  it('answers a bad query 400 invalid-request naming the parameter', async () => {
    const res = await request(app).get('/v1/restrictions?status=sleeping').set('Authorization', 'Bearer tok-agent').expect(400);
    expectErrorBody(res.body, 'invalid-request');
    expect(res.body.error.message).toMatch(/^status: /);
  });

  it('answers an unexpected error 500 internal, and logs it without the request body', async () => {
    const res = await request(app).post('/boom').send({ note: 'tenant wrote SECRET-BODY-TEXT from 07700 900123' }).expect(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    const logged = logs();
    expect(logged).toContain('unhandled error');
    expect(logged).toContain('database password is hunter2');
    expect(logged).not.toContain('SECRET-BODY-TEXT');
    expect(logged).not.toContain('900123');
  });

  it.each([
    ['invalid', 422],
    ['forbidden', 403],
    ['conflict', 409],
    ['not-found', 404],
  ])('maps a RuleError of kind %s to %i with its code', async (kind, status) => {
    const res = await request(app).get(`/rule/${kind}`).expect(status);
    expect(res.body).toEqual({ error: { code: 'review-too-late', message: 'The review date is too late' } });
  });

  it('maps store-unavailable to 503 with Retry-After', async () => {
    const res = await request(app).get('/store-down').expect(503);
    expectErrorBody(res.body, 'store-unavailable');
    expect(res.headers['retry-after']).toBe('5');
  });

  it('maps an HttpError to its status and code', async () => {
    const res = await request(app).get('/conflict').expect(409);
    expect(res.body).toEqual({ error: { code: 'already-exists', message: 'A staff member with that id exists' } });
  });

  it('logs one line per request without bodies or query strings', async () => {
    await request(app).post('/voice/status?From=%2B447700900123').type('form').send('Body=PRIVATE-WORDS').expect(200);
    const line = logs()
      .split('\n')
      .filter((l) => l.includes('"request"') && l.includes('/voice/status'))
      .pop();
    expect(line).toBeDefined();
    const entry = JSON.parse(line ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({ message: 'request', method: 'POST', path: '/voice/status', status: 200, ms: expect.any(Number) });
    expect(logs()).not.toContain('PRIVATE-WORDS');
    expect(logs()).not.toContain('7700900123');
  });

  it('logs the whole path of a request a mounted router answered (not the router’s own part of it)', async () => {
    await request(app).get('/mounted').expect(200);
    const line = logs()
      .split('\n')
      .filter((l) => l.includes('"request"') && l.includes('"GET"'))
      .pop();
    expect(JSON.parse(line ?? '{}')).toMatchObject({ message: 'request', method: 'GET', path: '/mounted', status: 200 });
  });
});

describe('createApp: security headers', () => {
  const { app } = build();

  it('sends a strict CSP and no X-Powered-By', async () => {
    const res = await request(app).get('/healthz').expect(200);
    expect(res.headers['content-security-policy']).toMatch(/(^|;)default-src 'self'(;|$)/);
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[\w-]+$/);
  });
});

describe('createApp: authentication and roles', () => {
  const { app } = build();

  it('refuses a request without a token: 401 unauthenticated', async () => {
    const res = await request(app).get('/v1/whoami').expect(401);
    expectErrorBody(res.body, 'unauthenticated');
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('refuses a non-bearer scheme: 401 unauthenticated', async () => {
    const res = await request(app).get('/v1/whoami').set('Authorization', 'Basic dXNlcjpwYXNz').expect(401);
    expectErrorBody(res.body, 'unauthenticated');
  });

  it('refuses an unknown token: 401 invalid-token', async () => {
    const res = await request(app).get('/v1/whoami').set('Authorization', 'Bearer nope').expect(401);
    expectErrorBody(res.body, 'invalid-token');
  });

  it('accepts a staff token and exposes the staff member', async () => {
    const res = await request(app).get('/v1/whoami').set('Authorization', 'Bearer tok-agent').expect(200);
    expect(res.body).toEqual({ id: 'agent1', roles: ['agent'] });
  });

  it('accepts the bootstrap admin token as a synthetic admin', async () => {
    const res = await request(app).get('/v1/whoami').set('Authorization', `bearer ${ADMIN_TOKEN}`).expect(200);
    expect(res.body).toEqual({ id: 'bootstrap-admin', roles: ['admin'] });
  });

  it('refuses a token that is only a prefix of the admin token', async () => {
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`).expect(401);
  });

  it('refuses a role the endpoint does not allow: 403 forbidden-role (admin is no superuser)', async () => {
    const agent = await request(app).post('/v1/restrictions').set('Authorization', 'Bearer tok-agent').send({}).expect(403);
    expectErrorBody(agent.body, 'forbidden-role');
    const admin = await request(app).post('/v1/restrictions').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({}).expect(403);
    expectErrorBody(admin.body, 'forbidden-role');
  });
});

describe('createApp: authentication failure limit', () => {
  it('answers 429 too-many-failures to bad tokens after 20 from one address, and still lets a good token in', async () => {
    const { app } = build();
    for (let i = 0; i < 20; i += 1) {
      await request(app).get('/v1/whoami').set('Authorization', `Bearer guess-${i}`).expect(401);
    }
    const limited = await request(app).get('/v1/whoami').set('Authorization', 'Bearer guess-21').expect(429);
    expectErrorBody(limited.body, 'too-many-failures');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // One stale console tab behind the same load balancer must not lock the contact centre out.
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer tok-agent').expect(200);
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer guess-22').expect(429);
  });

  it('lets the address try again once the window has passed', async () => {
    let now = 1_000_000;
    const { app } = build({ authFailureLimits: { maxFailures: 2, windowMs: 60_000, now: () => now } });
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer a').expect(401);
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer b').expect(401);
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer c').expect(429);
    now += 60_001;
    await request(app).get('/v1/whoami').set('Authorization', 'Bearer c').expect(401);
  });
});

describe('createApp: health and metrics', () => {
  it('GET /healthz → 200 {status:"ok"}', async () => {
    const { app } = build();
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 503 when the check fails or throws', async () => {
    const failing: ReadyCheck = async () => ({ ok: false, checks: { redis: 'unreachable: test' } });
    const res = await request(build({ checkReady: failing }).app).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'not-ready', checks: { redis: 'unreachable: test' } });
    const throwing: ReadyCheck = async () => {
      throw new Error('kaput');
    };
    const res2 = await request(build({ checkReady: throwing }).app).get('/readyz').expect(503);
    expect(res2.body.status).toBe('not-ready');
  });

  it('GET /metrics → Prometheus text with the decision metrics and default metrics', async () => {
    recordDecision('voice', 'deflect', 0.012);
    const res = await request(build().app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/gatekeeper_decisions_total\{channel="voice",outcome="deflect"\} [1-9]/);
    expect(res.text).toContain('gatekeeper_decision_seconds_bucket');
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(/gatekeeper_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\}/);
  });
});

describe('readiness against a real Redis', () => {
  let redis: TestRedis | undefined;
  let lru: TestRedis | undefined;
  const clients: Redis[] = [];

  function client(url: string): Redis {
    // Offline queue on (the ioredis default): a command while Redis is down waits, so the check's own timeout
    // is what answers — the behaviour being tested.
    const c = new Redis(url, { retryStrategy: () => 100, disconnectTimeout: 100 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    redis = await startRedis();
    lru = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await stopRedis(redis);
    await stopRedis(lru);
  });

  it('is ready when Redis answers and evicts nothing, and not ready once Redis stops', async () => {
    if (!redis) throw new Error('no redis');
    const { app } = build({ checkReady: redisReadiness(client(redis.url), 500) });
    const ok = await request(app).get('/readyz').expect(200);
    expect(ok.body).toEqual({ status: 'ready', checks: { redis: 'ok', 'maxmemory-policy': 'noeviction' } });

    await redis.stop();
    const down = await request(app).get('/readyz').expect(503);
    expect(down.body.status).toBe('not-ready');
    expect(down.body.checks.redis).toMatch(/^unreachable/);
  });

  it('is not ready when Redis may evict keys, and names the policy', async () => {
    if (!lru) throw new Error('no redis');
    const { app } = build({ checkReady: redisReadiness(client(lru.url), 500) });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.checks.redis).toBe('ok');
    expect(res.body.checks['maxmemory-policy']).toMatch(/^allkeys-lru \(must be noeviction/);
  });
});
