/**
 * Authentication and authorisation of the staff API (DESIGN.md §2 roles, §4 endpoints), attacked from
 * outside: every endpoint refuses a missing, malformed, wrong or revoked token (401) and every role that
 * is not allowed (403), always in the `{ error: { code, message } }` shape; tokens are kept only as hashes;
 * and guessing tokens is cut short by the authentication-failure limit (429).
 *
 * The gateway runs behind a trusted proxy here (`TRUST_PROXY=true`) so each request can come from an
 * address of its own (`X-Forwarded-For`): the hundreds of deliberate failures below would otherwise trip
 * the very limit the last tests check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import request from 'supertest';
import type { Response } from 'supertest';
import { ROLES, type Role } from '../../rules/types';
import type { RedisConnection } from '../../store/connections';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
/** One member of staff per role, each holding only that role. */
const tokenOf = {} as Record<Role, string>;
let revokedToken = '';
let addressCounter = 0;
let server: Server;
let base = '';

/** A fresh client address, so that no two requests share an authentication-failure budget. */
function freshAddress(): string {
  addressCounter += 1;
  return `10.${(addressCounter >> 16) & 255}.${(addressCounter >> 8) & 255}.${addressCounter & 255}`;
}

/** A well-formed token (`gk_` + 43 base64url characters) that was never issued. */
function unissuedToken(): string {
  return `gk_${randomBytes(32).toString('base64url')}`;
}

/** The refusal `res` must be: the status, the code, the fixed error shape and nothing more. */
function expectRefusal(res: Response, status: number, code: string): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer realm="gatekeeper"');
}

beforeAll(async () => {
  h = await startGateway({ TRUST_PROXY: 'true' });
  for (const role of ROLES) tokenOf[role] = await h.staff(`only-${role}`, [role]);
  // A powerful member of staff whose token is then revoked through the API.
  await h.staff('leaver', ['admin', 'tenancy-specialist', 'ts-manager']);
  const issued = await request(h.app).post('/v1/staff/leaver/tokens').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(201);
  revokedToken = (issued.body as { token: string }).token;
  await request(h.app)
    .delete(`/v1/staff/leaver/tokens/${(issued.body as { tokenId: string }).tokenId}`)
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .expect(204);
  server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}`;
  await request(h.app).put('/v1/customers/C1').set('Authorization', `Bearer ${tokenOf['tenancy-specialist']}`).send({ name: 'Pat Example', phones: ['07700 900123'], emails: [], needs: [] }).expect(201);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

const ANY_STAFF: Role[] = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager', 'admin'];
const CASEWORKERS: Role[] = ['tenancy-specialist', 'ts-manager', 'manager'];

/**
 * Every endpoint of DESIGN.md §4 that takes a bearer token, as the composed gateway serves it, with the
 * roles allowed to use it. The ids name nothing that exists (an allowed role gets 400/404/415/422), so
 * probing the table changes no state. `stream` marks a server-sent-events endpoint, which never ends.
 */
const ROUTES: Array<{ method: 'get' | 'post' | 'put' | 'delete'; path: string; allowed: Role[]; stream?: boolean }> = [
  { method: 'post', path: '/v1/staff', allowed: ['admin'] },
  { method: 'get', path: '/v1/staff', allowed: ['admin', 'tenancy-specialist', 'ts-manager', 'manager'] },
  { method: 'post', path: '/v1/staff/nobody/tokens', allowed: ['admin'] },
  { method: 'delete', path: '/v1/staff/nobody/tokens/no-such-token', allowed: ['admin'] },
  { method: 'get', path: '/v1/customers?q=x', allowed: ANY_STAFF },
  { method: 'put', path: '/v1/customers/C1', allowed: ['admin', 'tenancy-specialist'] },
  { method: 'get', path: '/v1/customers/C1', allowed: ANY_STAFF },
  { method: 'get', path: '/v1/customers/C1/flags', allowed: ANY_STAFF },
  { method: 'get', path: '/v1/customers/C1/contacts?limit=0', allowed: ['tenancy-specialist', 'ts-manager'] },
  { method: 'post', path: '/v1/customers/C1/responses', allowed: ['staff', 'tenancy-specialist', 'ts-manager', 'manager'] },
  { method: 'post', path: '/v1/restrictions', allowed: ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager'] },
  { method: 'get', path: '/v1/restrictions?status=bogus', allowed: CASEWORKERS },
  { method: 'get', path: '/v1/restrictions/RNONE', allowed: CASEWORKERS },
  { method: 'post', path: '/v1/restrictions/RNONE/decide', allowed: ['tenancy-specialist'] },
  { method: 'post', path: '/v1/restrictions/RNONE/approve', allowed: ['ts-manager'] },
  { method: 'post', path: '/v1/restrictions/RNONE/reject', allowed: ['tenancy-specialist', 'ts-manager'] },
  { method: 'post', path: '/v1/restrictions/RNONE/review', allowed: ['tenancy-specialist'] },
  { method: 'post', path: '/v1/restrictions/RNONE/vary', allowed: ['tenancy-specialist'] },
  { method: 'post', path: '/v1/restrictions/RNONE/lift', allowed: ['tenancy-specialist'] },
  { method: 'post', path: '/v1/restrictions/RNONE/appeal', allowed: ['tenancy-specialist', 'ts-manager'] },
  { method: 'post', path: '/v1/restrictions/RNONE/appeal-outcome', allowed: ['ts-manager'] },
  { method: 'post', path: '/v1/restrictions/RNONE/exceptions', allowed: ['tenancy-specialist'] },
  { method: 'post', path: '/v1/decisions', allowed: ANY_STAFF },
  { method: 'get', path: '/v1/reports/monthly?month=2026-13', allowed: ['ts-manager'] },
  { method: 'post', path: '/v1/reports/monthly/2026-13/audits/RNONE', allowed: ['ts-manager'] },
  { method: 'get', path: '/v1/events', allowed: ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager'], stream: true },
  { method: 'get', path: '/admin/queues', allowed: ['admin'] },
  { method: 'post', path: '/inbound/email', allowed: ['ingest'] },
  // Who is signed in: any valid token, whatever its roles.
  { method: 'get', path: '/console/me', allowed: [...ROLES] },
];

/** Sends the route's request (an empty JSON body for writes) with `authorization`, from a fresh address. */
function call(route: (typeof ROUTES)[number], authorization?: string) {
  let req = request(h.app)[route.method](route.path).set('X-Forwarded-For', freshAddress());
  if (authorization !== undefined) req = req.set('Authorization', authorization);
  return route.method === 'get' || route.method === 'delete' ? req : req.send({});
}

/** The status a stream endpoint answers with; the stream itself is abandoned once the headers arrive. */
async function streamStatus(path: string, token: string): Promise<number> {
  const abort = new AbortController();
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': freshAddress() }, signal: abort.signal });
  abort.abort();
  return res.status;
}

describe.each(ROUTES)('$method $path', (route) => {
  it('refuses a missing or non-bearer Authorization header (401 unauthenticated)', async () => {
    expectRefusal(await call(route), 401, 'unauthenticated');
    expectRefusal(await call(route, `Basic ${Buffer.from('admin:admin').toString('base64')}`), 401, 'unauthenticated');
    expectRefusal(await call(route, 'Bearer'), 401, 'unauthenticated');
    expectRefusal(await call(route, `Bearer ${tokenOf.admin} extra`), 401, 'unauthenticated');
  });

  it('refuses a wrong token (401 invalid-token)', async () => {
    const real = tokenOf[route.allowed[0] ?? 'admin'];
    const flipped = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [unissuedToken(), flipped, real.slice(0, -1), `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(1), createHash('sha256').update(real).digest('hex')]) {
      expectRefusal(await call(route, `Bearer ${wrong}`), 401, 'invalid-token');
    }
  });

  it('refuses a revoked token (401 invalid-token)', async () => {
    expectRefusal(await call(route, `Bearer ${revokedToken}`), 401, 'invalid-token');
  });

  const refused = ROLES.filter((role) => !route.allowed.includes(role));
  if (refused.length > 0) {
    it(`refuses every other role (403 forbidden-role): ${refused.join(', ')}`, async () => {
      for (const role of refused) expectRefusal(await call(route, `Bearer ${tokenOf[role]}`), 403, 'forbidden-role');
    });
  }

  it(`lets the allowed roles past authentication: ${route.allowed.join(', ')}`, async () => {
    const stopped: string[] = [];
    for (const role of route.allowed) {
      if (route.stream) {
        const status = await streamStatus(route.path, tokenOf[role]);
        if (status !== 200) stopped.push(`${role}: ${status}`);
        continue;
      }
      const res = await call(route, `Bearer ${tokenOf[role]}`);
      if ([401, 403, 429].includes(res.status) || res.status >= 500) stopped.push(`${role}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(stopped).toEqual([]);
  });
});

describe('tokens in the URL', () => {
  it('are never accepted, not even for the event stream (they would end up in access logs and browser history)', async () => {
    for (const name of ['token', 'access_token', 'authorization', 'bearer']) {
      // The stream says why (it is the one a browser might be tempted to put a token in), even beside a header.
      expectRefusal(await request(h.app).get(`/v1/events?${name}=${tokenOf.agent}`).set('X-Forwarded-For', freshAddress()), 401, 'token-in-url');
      expectRefusal(
        await request(h.app).get(`/v1/events?${name}=${tokenOf.agent}`).set('X-Forwarded-For', freshAddress()).set('Authorization', `Bearer ${tokenOf.agent}`),
        401,
        'token-in-url',
      );
      expectRefusal(await request(h.app).get(`/v1/customers/C1?${name}=${tokenOf.agent}`).set('X-Forwarded-For', freshAddress()), 401, 'unauthenticated');
    }
  });
});

/** Every key and every value in Redis, as one string per key (`key\tvalues…`). */
async function dumpRedis(redis: RedisConnection): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let values: unknown;
      if (type === 'string') values = await redis.get(key);
      else if (type === 'hash') values = await redis.hgetall(key);
      else if (type === 'set') values = await redis.smembers(key);
      else if (type === 'zset') values = await redis.zrange(key, '0', '-1');
      else if (type === 'list') values = await redis.lrange(key, 0, -1);
      else if (type === 'stream') values = await redis.xrange(key, '-', '+');
      else values = `<${type}>`;
      out.push(`${key}\t${JSON.stringify(values)}`);
    }
  } while (cursor !== '0');
  return out;
}

describe('tokens at rest', () => {
  it('stores only the SHA-256 of each token: no key or value holds a raw token, live or revoked', async () => {
    const dump = await dumpRedis(h.connection);
    expect(dump.length).toBeGreaterThan(20);
    const raw = [...Object.values(tokenOf), revokedToken, ADMIN_TOKEN];
    for (const token of raw) expect(dump.filter((line) => line.includes(token))).toEqual([]);
    // Not even the part after the recognisable prefix.
    for (const token of raw) expect(dump.filter((line) => line.includes(token.slice(3)))).toEqual([]);

    const hashOf = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');
    for (const token of Object.values(tokenOf)) expect(await h.connection.exists(`gk:token:${hashOf(token)}`)).toBe(1);
    expect(await h.connection.exists(`gk:token:${hashOf(revokedToken)}`)).toBe(0);
  });

  it('never shows a token or its hash again after issuing it', async () => {
    const res = await request(h.app).get('/v1/staff').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    const text = JSON.stringify(res.body);
    for (const token of Object.values(tokenOf)) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
    }
  });
});

describe('authentication-failure limit', () => {
  it('answers 429 to bad tokens after 20 from one address, lets good tokens from it in, and leaves other addresses alone', async () => {
    const attacker = '203.0.113.7';
    const probe = () => request(h.app).get('/v1/customers/C1').set('X-Forwarded-For', attacker);
    for (let i = 0; i < 20; i++) expectRefusal(await probe().set('Authorization', `Bearer ${unissuedToken()}`), 401, 'invalid-token');

    const blocked = await probe().set('Authorization', `Bearer ${unissuedToken()}`);
    expectRefusal(blocked, 429, 'too-many-failures');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // A valid token still gets in (tokens are 256-bit random: the limit slows hammering, no guess can win),
    // so a stale console tab behind a shared address cannot lock every agent out of emergency decisions.
    await probe().set('Authorization', `Bearer ${tokenOf.agent}`).expect(200);
    expectRefusal(await probe().set('Authorization', `Bearer ${unissuedToken()}`), 429, 'too-many-failures');

    await request(h.app).get('/v1/customers/C1').set('X-Forwarded-For', '198.51.100.9').set('Authorization', `Bearer ${tokenOf.agent}`).expect(200);
  });

  it('does not let a client dodge the limit with X-Forwarded-For when no proxy is trusted (the default)', async () => {
    const direct = await startGateway();
    try {
      const probe = () => request(direct.app).get('/v1/customers').set('X-Forwarded-For', freshAddress()).set('Authorization', `Bearer ${unissuedToken()}`);
      for (let i = 0; i < 20; i++) expectRefusal(await probe(), 401, 'invalid-token');
      expectRefusal(await probe(), 429, 'too-many-failures');
    } finally {
      await direct.close();
    }
  });
});
