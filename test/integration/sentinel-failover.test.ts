/**
 * The gateway over a Sentinel-managed Redis (DESIGN.md §5), configured the way an operator does it
 * (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`) and composed as `npm start` composes it. With traffic flowing —
 * decisions, new customers, restriction requests — the primary is first switched over (a planned
 * `SENTINEL FAILOVER`), then SIGKILLed. While Sentinel fails over, the gateway may refuse writes (503, so the
 * sender retries) and may answer decisions flagged `restriction-check-unavailable`, but it must never give a
 * wrong answer, never a 500, and once a replica is promoted it must be ready and correct again, with every
 * write it acknowledged (2xx) before or after the fault still there.
 */
import type { Server } from 'node:http';
import request from 'supertest';
import { gatewayWiring, type GatewayWiring } from '../../bin/wiring';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { composeGateway, type ComposedGateway } from '../../gateway/compose';
import type { Role } from '../../rules/types';
import { closeConnection, createStoreConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import { redisTargetFromSettings } from '../../store/redis-target';
import type { AuditRecord } from '../../store/types';
import { serveOnLoopback } from '../support/serve';
import { startRedisSentinel, type TestRedisSentinel } from '../support/redis-sentinel';

const ADMIN_TOKEN = 'sentinel-admin-token-0123456789abcdef';
/** A Wednesday afternoon: outside the Tue/Thu 10:00–12:00 call window. */
const OUTSIDE = '2026-11-25T14:00:00Z';
const INSIDE = '2026-11-26T10:15:00Z';

let sentinel: TestRedisSentinel;
let connection: RedisConnection;
let gateway: ComposedGateway;
let wiring: GatewayWiring;
let rid = '';
let server: Server;
let base: string;
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${who === 'admin' ? ADMIN_TOKEN : tokens[who]}` });

async function addStaff(id: string, roles: Role[]): Promise<string> {
  await request(base).post('/v1/staff').set(auth('admin')).send({ id, name: `${id} Name`, email: `${id}@staff.example.org`, roles }).expect(201);
  const res = await request(base).post(`/v1/staff/${id}/tokens`).set(auth('admin')).expect(201);
  return (res.body as { token: string }).token;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  const env = { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name };
  const config = loadConfig({
    NODE_ENV: 'test',
    ...env,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL: 'https://gatekeeper.example.org',
    TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
    EMERGENCY_NUMBER: '+443001234567',
    LOG_LEVEL: 'error',
    DATA_DIR: '/tmp/gk-test-data',
  });
  const target = redisTargetFromSettings(env);
  if (target?.kind !== 'sentinel' || config.redis.kind !== 'sentinel') throw new Error('expected a sentinel target');
  connection = createStoreConnection(target, { name: 'sentinel-test' });
  await waitUntilReady(connection);
  const now = new Date(OUTSIDE);
  const logger = createLogger('silent');
  wiring = gatewayWiring({ config, logger, target, redis: connection });
  gateway = composeGateway({ config, logger, target, redis: connection, now: () => now, ...wiring });
  ({ server, base } = await serveOnLoopback(gateway.app));

  tokens.agent = await addStaff('agent1', ['agent']);
  tokens.sam = await addStaff('sam', ['staff']);
  tokens.mia = await addStaff('mia', ['manager']);
  tokens.tess = await addStaff('tess', ['tenancy-specialist']);
  tokens.tom = await addStaff('tom', ['ts-manager']);
  await addStaff('jsmith', ['staff']);

  await request(base).put('/v1/customers/C1').set(auth('tess')).send({ name: 'Pat Example', phones: ['07700 900123'], emails: [], needs: [] }).expect(201);
  const requested = await request(base)
    .post('/v1/restrictions')
    .set(auth('sam'))
    .send({ customerId: 'C1', category: 'excessive-contact', summary: '212 calls', evidence: [{ type: 'call-log', reference: 'LOG-1' }], authorisedBy: 'mia', warnings: [{ type: 'formal', date: '2026-10-05' }] })
    .expect(201);
  rid = (requested.body as { id: string }).id;
  await request(base)
    .post(`/v1/restrictions/${rid}/decide`)
    .set(auth('tess'))
    .send({ measures: [{ type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] }, { type: 'named-contact', staffId: 'jsmith' }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' })
    .expect(200);
  await request(base).post(`/v1/restrictions/${rid}/approve`).set(auth('tom')).send({}).expect(200);
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await gateway?.close();
  await wiring?.close();
  if (connection) await closeConnection(connection);
  await sentinel?.stop();
});

/** What the traffic loops saw. */
interface Observed {
  decisions: Array<{ status: number; body: { outcome?: string; reasons?: string[]; restrictionId?: string } }>;
  customers: Array<{ id: string; name: string; status: number }>;
  restrictions: Array<{ id?: string; summary: string; status: number }>;
  /** Every non-2xx answer. */
  refusals: Array<{ status: number; body: unknown }>;
  /** Answers counted when the fault was injected, and when it was over. */
  atFault: number;
  total: number;
}

let sequence = 0;

/**
 * Runs three client loops (a decision, a new customer, a restriction request each round) while `fault`
 * happens, and until the gateway is ready again and has accepted 15 writes in a row.
 */
async function trafficThrough(label: string, fault: () => Promise<unknown>): Promise<Observed> {
  const seen: Observed = { decisions: [], customers: [], restrictions: [], refusals: [], atFault: 0, total: 0 };
  let stop = false;
  const loop = async (worker: number): Promise<void> => {
    while (!stop) {
      const n = sequence++;
      const decision = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700 900123', at: OUTSIDE });
      seen.decisions.push({ status: decision.status, body: decision.body as Observed['decisions'][number]['body'] });
      const id = `${label}${worker}-${n}`;
      const name = `Loop customer ${n}`;
      const put = await request(base).put(`/v1/customers/${id}`).set(auth('tess')).send({ name, phones: [`07700 91${String(n).padStart(4, '0')}`], emails: [], needs: [] });
      seen.customers.push({ id, name, status: put.status });
      const summary = `Loop ${id}`;
      const sendRequest = () =>
        request(base)
          .post('/v1/restrictions')
          .set(auth('sam'))
          .set('Idempotency-Key', `loop-${id}`)
          .send({ customerId: 'C1', category: 'other', summary, evidence: [{ type: 'note', reference: `N${n}` }], authorisedBy: 'mia', noWarningReason: 'Serious threat' });
      let req = await sendRequest();
      // A refused request is sent again by its sender with the same Idempotency-Key, as a real client would:
      // a refusal does not say it was not stored, and the key keeps a retry from raising a second request.
      for (let attempt = 0; req.status >= 500 && attempt < 100; attempt++) {
        seen.refusals.push({ status: req.status, body: req.body as unknown });
        await sleep(50);
        req = await sendRequest();
      }
      seen.restrictions.push({ id: (req.body as { id?: string }).id, summary, status: req.status });
      seen.total += 3;
      for (const res of [decision, put, req]) if (res.status >= 300) seen.refusals.push({ status: res.status, body: res.body as unknown });
      // A refused write is retried by its sender a moment later, as a real client would.
      if (put.status >= 500 || req.status >= 500) await sleep(50);
    }
  };

  const loops = [0, 1, 2].map(loop);
  try {
    await sleep(800);
    expect(seen.customers.filter((c) => c.status === 201).length).toBeGreaterThan(0);
    seen.atFault = seen.total;
    await fault();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await request(base).get('/readyz');
      const recent = seen.customers.slice(-15);
      if (ready.status === 200 && recent.length === 15 && recent.every((c) => c.status === 201)) break;
      if (Date.now() > deadline) {
        throw new Error(`no recovery: readyz ${ready.status} ${JSON.stringify(ready.body)}, store connection ${connection.status}, recent ${JSON.stringify(recent.map((c) => c.status))}`);
      }
      await sleep(100);
    }
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  expect(seen.total).toBeGreaterThan(seen.atFault);
  return seen;
}

/** Every audit record, oldest first (the log is read in pages of at most 1,000). */
async function allAuditRecords(): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  for (;;) {
    const page = await gateway.store.audit.read(1000, all.at(-1)?.id);
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/** Nothing worse than a retryable refusal happened, nothing acknowledged was lost, and the gate is right again. */
async function expectNothingLost(seen: Observed): Promise<number> {
  // Every refusal is the retryable 503 in the error shape: no 500, and no 401/404 from a half-seen store.
  expect(seen.refusals.filter((r) => r.status !== 503)).toEqual([]);
  for (const r of seen.refusals) expect(r.body).toEqual({ error: { code: 'store-unavailable', message: expect.any(String) } });

  // Never a wrong decision: either the restriction, or an honest "could not check".
  const wrong = seen.decisions.filter((d) => {
    if (d.status !== 200) return false;
    const enforced = d.body.outcome === 'deflect' && d.body.restrictionId === rid;
    const unavailable = d.body.outcome === 'proceed' && d.body.reasons?.includes('restriction-check-unavailable') === true;
    return !enforced && !unavailable;
  });
  expect(wrong).toEqual([]);
  expect(seen.decisions.filter((d) => d.status === 200).length).toBeGreaterThan(0);

  // Every acknowledged write is readable on the new primary (and its audit record with it).
  const lostCustomers: string[] = [];
  for (const c of seen.customers.filter((x) => x.status === 201)) {
    const res = await request(base).get(`/v1/customers/${c.id}`).set(auth('agent'));
    if (res.status !== 200 || (res.body as { name?: string }).name !== c.name) lostCustomers.push(`${c.id}: ${res.status}`);
  }
  expect(lostCustomers).toEqual([]);
  const audited = new Set((await allAuditRecords()).filter((a) => a.action === 'restriction.request').map((a) => a.entityId));
  const lostRestrictions: string[] = [];
  for (const r of seen.restrictions.filter((x) => x.status === 201)) {
    const res = await request(base).get(`/v1/restrictions/${String(r.id)}`).set(auth('tess'));
    if (res.status !== 200 || (res.body as { status?: string }).status !== 'requested' || !audited.has(String(r.id))) {
      lostRestrictions.push(`${String(r.id)}: ${res.status}, audited ${String(audited.has(String(r.id)))}`);
    }
  }
  expect(lostRestrictions).toEqual([]);
  // Retried with their Idempotency-Key, no request was stored twice, however its first attempts ended.
  const stored = (await gateway.store.restrictions.listByCustomer('C1')).filter((r) => r.summary.startsWith('Loop '));
  const copies = new Map<string, number>();
  for (const r of stored) copies.set(r.summary, (copies.get(r.summary) ?? 0) + 1);
  const twice = [...copies].filter(([, count]) => count > 1).map(([summary]) => summary);
  expect(twice).toEqual([]);
  for (const r of seen.restrictions.filter((x) => x.status === 201)) expect(stored.find((x) => x.summary === r.summary)?.id).toBe(r.id);

  // The same restriction decides calls again.
  const outside = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900123', at: OUTSIDE }).expect(200);
  expect(outside.body).toMatchObject({ outcome: 'deflect', restrictionId: rid, reasons: ['outside-call-times'], breach: true });
  const inside = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900123', at: INSIDE }).expect(200);
  expect(inside.body).toMatchObject({ outcome: 'proceed', restrictionId: rid, routeTo: 'jsmith', reasons: ['named-contact'] });
  const flags = await request(base).get('/v1/customers/C1/flags').set(auth('agent')).expect(200);
  expect(flags.body.restricted).toBe(true);
  const ready = await request(base).get('/readyz').expect(200);
  expect(ready.body.checks.redis).toBe('ok');
  return lostCustomers.length + lostRestrictions.length;
}

describe('the gateway on Sentinel', () => {
  it('decides by the restriction before any fault', async () => {
    const before = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900123', at: OUTSIDE }).expect(200);
    expect(before.body).toMatchObject({ outcome: 'deflect', restrictionId: rid, reasons: ['outside-call-times'] });
  });

  /**
   * A planned switchover. Redis replicates asynchronously: between the replica's promotion and the old
   * primary's demotion, the old primary still accepts writes that its resync then discards. Writes are
   * therefore answered only once a replica confirms them (store/durability.ts); in that moment they are
   * refused with a retryable 503 instead, and nothing acknowledged is lost.
   */
  it('follows a planned switchover (SENTINEL FAILOVER) mid-traffic, losing no acknowledged write', async () => {
    const oldPrimary = sentinel.masterPort();
    const seen = await trafficThrough('S', () => sentinel.switchover());
    expect(sentinel.masterPort()).not.toBe(oldPrimary);
    const acknowledged = seen.customers.filter((c) => c.status === 201).length + seen.restrictions.filter((r) => r.status === 201).length;
    expect(await expectNothingLost(seen)).toBe(0);
    // The confirmations are counted for monitoring, as composed for `npm start`.
    const metrics = (await request(base).get('/metrics').expect(200)).text;
    const counted = (result: string): number => Number(new RegExp(`^gatekeeper_write_confirmations_total\\{result="${result}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    // Each acknowledged write was confirmed on a replica, or accepted on the new primary before its first
    // replica (the old primary) had resynced: never acknowledged unconfirmed on a primary that had one.
    expect(counted('confirmed')).toBeGreaterThan(0);
    expect(counted('confirmed') + counted('unreplicated')).toBeGreaterThanOrEqual(acknowledged);
    console.log(
      `planned switchover: ${acknowledged} acknowledged writes, none lost; ${seen.refusals.length} answers refused for a retry; confirmations per connection written over: confirmed ${counted('confirmed')}, accepted before the new primary had a replica ${counted('unreplicated')}, refused ${counted('refused')}`,
    );
  }, 90_000);

  it('survives the primary being SIGKILLed mid-traffic, losing no acknowledged write', async () => {
    const seen = await trafficThrough('K', () => sentinel.killMaster());
    // The outage was really felt: writes were refused for a retry while no primary was known.
    expect(seen.refusals.length).toBeGreaterThan(0);
    await expectNothingLost(seen);
  }, 90_000);
});
