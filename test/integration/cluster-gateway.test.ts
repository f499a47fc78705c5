/**
 * The staff API over a real three-primary Redis Cluster (DESIGN.md §5), configured the way an operator does
 * it (`REDIS_CLUSTER_NODES`) and composed exactly as `npm start` composes it (the full roles, with workers,
 * voice and email, are in cluster-channels.test.ts). Every request below must
 * succeed: a multi-key command, MULTI or script that strayed across hash slots would be refused by the
 * servers with CROSSSLOT, and each node's `INFO errorstats` is checked at the end for any such refusal.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { gatewayWiring, type GatewayWiring } from '../../bin/wiring';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { composeGateway, type ComposedGateway } from '../../gateway/compose';
import type { Role } from '../../rules/types';
import { closeConnection, createStoreConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import { redisTargetFromSettings } from '../../store/redis-target';
import { serveOnLoopback } from '../support/serve';
import { startRedisCluster, until, type TestRedisCluster } from '../support/redis-cluster';

const ADMIN_TOKEN = 'cluster-admin-token-0123456789abcdef';
const NOW = '2026-11-25T10:00:00Z';

let cluster: TestRedisCluster;
let connection: RedisConnection;
let gateway: ComposedGateway;
let wiring: GatewayWiring;
let server: Server;
let base: string;
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${who === 'admin' ? ADMIN_TOKEN : tokens[who]}` });

/** Creates a member of staff through the API and issues them a token. */
async function addStaff(id: string, roles: Role[], patch: Record<string, unknown> = {}): Promise<string> {
  await request(base).post('/v1/staff').set(auth('admin')).send({ id, name: `${id} Name`, email: `${id}@staff.example.org`, roles, ...patch }).expect(201);
  const res = await request(base).post(`/v1/staff/${id}/tokens`).set(auth('admin')).expect(201);
  return (res.body as { token: string }).token;
}

/** Sum of CROSSSLOT refusals every node has counted since it started. */
async function crossSlotRefusals(): Promise<number> {
  const counts = await cluster.eachNode(async (node) => {
    const stats = await node.info('errorstats');
    return Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(stats)?.[1] ?? 0);
  });
  return counts.reduce((a, b) => a + b, 0);
}

/** Every key on every node matching `pattern`, with the node's port and the key's slot. */
async function keysMatching(pattern: string): Promise<Array<{ key: string; port: number; slot: number }>> {
  const perNode = await cluster.eachNode(async (node: Redis, port) => {
    const keys = await node.keys(pattern);
    return Promise.all(keys.map(async (key) => ({ key, port, slot: Number(await node.call('CLUSTER', 'KEYSLOT', key)) })));
  });
  return perNode.flat();
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_CLUSTER_NODES: cluster.nodeList,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL: 'https://gatekeeper.example.org',
    TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
    EMERGENCY_NUMBER: '+443001234567',
    LOG_LEVEL: 'error',
    DATA_DIR: '/tmp/gk-test-data',
  });
  // The same function `npm start` uses to pick a topology from the environment.
  const target = redisTargetFromSettings({ REDIS_CLUSTER_NODES: cluster.nodeList });
  if (target?.kind !== 'cluster' || config.redis.kind !== 'cluster') throw new Error('expected a cluster target');
  connection = createStoreConnection(target, { name: 'cluster-test' });
  await waitUntilReady(connection);
  const now = new Date(NOW);
  // Exactly as bin/gatekeeper.ts startGateway: the producers (letters, inbound email) wired in.
  const logger = createLogger('error');
  wiring = gatewayWiring({ config, logger, target, redis: connection });
  gateway = composeGateway({ config, logger, target, redis: connection, now: () => now, ...wiring });
  ({ server, base } = await serveOnLoopback(gateway.app));

  tokens.agent = await addStaff('agent1', ['agent']);
  tokens.sam = await addStaff('sam', ['staff']);
  tokens.mia = await addStaff('mia', ['manager']);
  tokens.tess = await addStaff('tess', ['tenancy-specialist']);
  tokens.tom = await addStaff('tom', ['ts-manager']);
  await addStaff('jsmith', ['staff'], { clientIdentity: 'jsmith' });
  await addStaff('akhan', ['staff']);

  // The gate's lookup connection has no offline queue: wait until it answers before asserting decisions.
  await until('the gate to resolve over the cluster', async () => {
    const res = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900999' });
    return res.status === 200 && !(res.body as { reasons: string[] }).reasons.includes('restriction-check-unavailable');
  });
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await gateway?.close();
  await wiring?.close();
  if (connection) await closeConnection(connection);
  await cluster?.stop();
});

const measures = [
  { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' },
  { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' },
  { type: 'new-issues-only' },
];

async function activeRestriction(customerId: string): Promise<string> {
  const requested = await request(base)
    .post('/v1/restrictions')
    .set(auth('sam'))
    .send({
      customerId,
      category: 'excessive-contact',
      summary: '212 calls in October',
      evidence: [{ type: 'call-log', reference: 'LOG-2026-10' }],
      authorisedBy: 'mia',
      warnings: [{ type: 'formal', date: '2026-10-05' }],
    })
    .expect(201);
  const id = (requested.body as { id: string }).id;
  await request(base).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
  const approved = await request(base).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({}).expect(200);
  expect(approved.body.status).toBe('active');
  return id;
}

describe('the gateway on a three-primary Redis Cluster', () => {
  it('is ready: every primary answers and none evicts', async () => {
    const res = await request(base).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', checks: { redis: 'ok', 'maxmemory-policy': 'noeviction', gate: 'ok' } });
  });

  it('resolves many customers spread over all three primaries in parallel, each to the right one', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `CP${String(i).padStart(3, '0')}`);
    for (const [i, id] of ids.entries()) {
      await request(base)
        .put(`/v1/customers/${id}`)
        .set(auth('tess'))
        .send({ name: `Parallel ${i}`, phones: [`07700 9002${String(i).padStart(2, '0')}`], emails: [`p${i}@example.org`], needs: [] })
        .expect(201);
    }
    const customerKeys = await keysMatching('gk:{c:CP*}:customer');
    expect(customerKeys).toHaveLength(ids.length);
    expect(new Set(customerKeys.map((k) => k.port)).size).toBe(3);

    const decisions = await Promise.all(
      ids.map((_, i) => request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: `+4477009002${String(i).padStart(2, '0')}` })),
    );
    decisions.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ outcome: 'proceed', customerId: ids[i], reasons: ['no-restriction'] });
    });
  });

  it('walks a restriction through its lifecycle: request → decide → approve → flags → exception → vary → lift', async () => {
    await request(base).put('/v1/customers/C123').set(auth('tess')).send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['Pat@Example.org'], needs: [] }).expect(201);
    const id = await activeRestriction('C123');

    const deflect = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700 900123', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(deflect.body).toMatchObject({ outcome: 'deflect', customerId: 'C123', restrictionId: id, reasons: ['outside-call-times'], nextAllowedAt: '2026-11-26T10:00:00Z', breach: true });
    const inside = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900123', at: '2026-11-26T10:15:00Z' }).expect(200);
    expect(inside.body).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith', reasons: ['named-contact'] });
    const emergency = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z', emergency: true }).expect(200);
    expect(emergency.body.outcome).toBe('emergency');
    const byEmail = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'email', from: 'PAT@example.org', text: 'About my rent statement' }).expect(200);
    expect(byEmail.body).toMatchObject({ outcome: 'proceed', customerId: 'C123', routeTo: 'jsmith' });

    const flags = await request(base).get('/v1/customers/C123/flags').set(auth('agent')).expect(200);
    expect(flags.body.restricted).toBe(true);
    expect(flags.body.flags).toEqual(expect.arrayContaining(['Named contact: jsmith Name', 'Deputy for jsmith Name: akhan Name']));

    await request(base)
      .post(`/v1/restrictions/${id}/exceptions`)
      .set(auth('tess'))
      .send({ channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'Call back arranged' })
      .expect(201);
    const excepted = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(excepted.body.outcome).toBe('proceed');

    await request(base)
      .post(`/v1/restrictions/${id}/vary`)
      .set(auth('tess'))
      .send({ measures: [...measures, { type: 'word-limit', maxWords: 300 }], note: 'Long emails' })
      .expect(200);
    const listed = await request(base).get('/v1/restrictions?status=active').set(auth('tom')).expect(200);
    expect(listed.body.restrictions.map((r: { id: string }) => r.id)).toContain(id);

    const lifted = await request(base).post(`/v1/restrictions/${id}/lift`).set(auth('tess')).send({ reason: 'Behaviour has improved' }).expect(200);
    expect(lifted.body.status).toBe('lifted');
    const after = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(after.body.reasons).toEqual(['no-restriction']);
    const record = await request(base).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    expect(record.body.history.map((s: { action: string }) => s.action)).toEqual(['request', 'decide', 'approve', 'exception', 'vary', 'lift']);
  });

  it('keeps a shared household number ambiguous, and restricts only by the unique identity', async () => {
    await request(base).put('/v1/customers/H1').set(auth('tess')).send({ name: 'Alex Household', phones: ['01632 960123'], emails: ['alex@example.org'], needs: [] }).expect(201);
    await request(base).put('/v1/customers/H2').set(auth('tess')).send({ name: 'Sam Household', phones: ['+441632960123'], emails: ['sam.h@example.org'], needs: [] }).expect(201);
    await activeRestriction('H1');

    const shared = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '01632960123', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(shared.body.outcome).toBe('proceed');
    expect(shared.body.reasons).toEqual(['ambiguous-identity']);
    expect(shared.body.restrictionId).toBeUndefined();

    const unique = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'visit', customerId: 'H1', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(unique.body.customerId).toBe('H1');
    expect(unique.body.restrictionId).toBeDefined();
    const other = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'email', from: 'sam.h@example.org', text: 'Hello' }).expect(200);
    expect(other.body).toMatchObject({ outcome: 'proceed', customerId: 'H2', reasons: ['no-restriction'] });

    // Moving H2 to its own number leaves H1 the only holder of the old one: now it resolves, and is restricted.
    await request(base).put('/v1/customers/H2').set(auth('tess')).send({ name: 'Sam Household', phones: ['01632 960124'], emails: ['sam.h@example.org'], needs: [] }).expect(200);
    const resolved = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '01632960123', at: '2026-11-25T14:00:00Z' }).expect(200);
    expect(resolved.body).toMatchObject({ outcome: 'deflect', customerId: 'H1', reasons: ['outside-call-times'] });
  });

  it('records contacts and responses, and detects a repeated issue from the responded text', async () => {
    await request(base).put('/v1/customers/C300').set(auth('tess')).send({ name: 'Robin Repeat', phones: [], emails: ['robin@example.org'], needs: [] }).expect(201);
    const rid = await activeRestriction('C300');
    const text = 'The fence at the back of my garden has blown down again and the panels are lying on the path';
    // The email channel records contacts like this (store/contact-repository.ts), keyed by message.
    for (const [i, at] of ['2026-11-01T09:00:00Z', '2026-11-03T09:00:00Z', '2026-11-05T09:00:00Z'].entries()) {
      await gateway.store.contacts.record('C300', { id: `M${i}`, channel: 'email', receivedAt: at, from: 'robin@example.org', outcome: 'proceed', reasons: ['named-contact'], restrictionId: rid, text });
    }
    const contacts = await request(base).get('/v1/customers/C300/contacts').set(auth('tess')).expect(200);
    expect(contacts.body.map((c: { id: string }) => c.id)).toEqual(['M2', 'M1', 'M0']);

    await request(base)
      .post('/v1/customers/C300/responses')
      .set(auth('tess'))
      .send({ reference: 'RESP-77', respondedAt: '2026-11-06T10:00:00Z', summary: 'Fence repair booked', contactIds: ['M0', 'M1', 'M2'] })
      .expect(201);
    const repeat = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'email', from: 'robin@example.org', text }).expect(200);
    expect(repeat.body.reasons).toContain('repeat-issue');
    expect(repeat.body.repeatOf).toMatchObject({ reference: 'RESP-77' });
  });

  it('issues, uses and revokes tokens; only the token hash is stored', async () => {
    await addStaff('temp1', ['agent']);
    const issued = await request(base).post('/v1/staff/temp1/tokens').set(auth('admin')).expect(201);
    const { token, tokenId } = issued.body as { token: string; tokenId: string };
    await request(base).get('/v1/customers/C123').set('Authorization', `Bearer ${token}`).expect(200);

    const hash = createHash('sha256').update(token).digest('hex');
    expect(await keysMatching(`gk:token:${hash}`)).toHaveLength(1);
    expect(await keysMatching(`*${token}*`)).toEqual([]);

    await request(base).delete(`/v1/staff/temp1/tokens/${tokenId}`).set(auth('admin')).expect(204);
    const refused = await request(base).get('/v1/customers/C123').set('Authorization', `Bearer ${token}`).expect(401);
    expect(refused.body.error.code).toBe('invalid-token');
  });

  it('appends every step to the audit stream', async () => {
    const records = await gateway.store.audit.latest(500);
    const actions = new Set(records.map((r) => r.action));
    for (const action of ['staff.create', 'token.issue', 'token.revoke', 'customer.create', 'customer.update', 'restriction.request', 'restriction.decide', 'restriction.approve', 'restriction.lift', 'response.record']) {
      expect(actions).toContain(action);
    }
  });

  it('keeps all of one customer’s keys in one hash slot, on one node', async () => {
    const keys = await keysMatching('gk:{c:C300}:*');
    const kinds = keys.map((k) => k.key.slice('gk:{c:C300}:'.length).replace(/:.*$/, ''));
    // Record, snapshot, restrictions, contacts (and their texts), responses: all of it.
    for (const kind of ['customer', 'gate', 'restrictions', 'restriction', 'contacts', 'contact', 'contact-text', 'responses', 'responded']) {
      expect(kinds).toContain(kind);
    }
    expect(new Set(keys.map((k) => k.slot)).size).toBe(1);
    expect(new Set(keys.map((k) => k.port)).size).toBe(1);

    // An identity hash and its revision companion share the identity's slot.
    const ident = await keysMatching('gk:ident:{email:robin@example.org}*');
    expect(ident.map((k) => k.key).sort()).toEqual(['gk:ident:{email:robin@example.org}', 'gk:ident:{email:robin@example.org}:rev']);
    expect(new Set(ident.map((k) => k.slot)).size).toBe(1);
  });

  it('never had a command refused with CROSSSLOT on any node', async () => {
    expect(await crossSlotRefusals()).toBe(0);
  });
});
