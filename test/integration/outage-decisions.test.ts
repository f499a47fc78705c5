/**
 * DESIGN.md §3: "`emergency` beats everything, always — also when Redis is unreachable." An agent asking
 * `POST /v1/decisions` during an outage must get the emergency (or `restriction-check-unavailable`), not a
 * 503 because their token could not be looked up: a token this gateway verified lately stands in for the
 * store's answer while Redis cannot give one (gateway/verified-tokens.ts). A token it never verified, and
 * one revoked before the outage, are not let in. Run against a real redis-server, frozen (SIGSTOP: a hung
 * Redis, connections open) and then stopped (connections refused).
 */
import request from 'supertest';

import { registry } from '../../gateway/metrics';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
let agent = '';
let unused = '';

beforeAll(async () => {
  h = await startGateway();
  agent = await h.staff('outage-agent', ['agent']);
  unused = await h.staff('outage-unused', ['agent']);
  // A restricted customer, so that "unavailable" is not mistaken for "no restriction".
  await request(h.app)
    .put('/v1/customers/C-OUT')
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send({ name: 'Out Age', phones: ['+447700900555'], emails: ['out.age@example.org'], needs: [] })
    .expect((res) => expect([200, 201]).toContain(res.status));
}, 30_000);

afterAll(async () => {
  h.redis.signal('SIGCONT');
  await h.close();
});

/** `POST /v1/decisions` as `token`. */
function ask(token: string, body: Record<string, unknown>): request.Test {
  return request(h.app).post('/v1/decisions').set('Authorization', `Bearer ${token}`).send(body);
}

async function failStaticCount(): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('gatekeeper_auth_fail_static_total '));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** What every outage must still answer, for a token verified before it. */
async function expectDecisionsDuringOutage(): Promise<void> {
  const before = await failStaticCount();
  const emergencies: Array<Record<string, unknown>> = [
    { channel: 'voice', from: '+447700900555', emergency: true },
    { channel: 'visit', customerId: 'C-OUT', emergency: true },
    { channel: 'letter', text: 'There is a fire in the flat' },
    { channel: 'email', from: 'out.age@example.org', text: 'I can smell gas in the kitchen' },
  ];
  // Asked together: while Redis hangs, each waits for the store connection's command timeout (5 s) first.
  const [ordinary, ...answers] = await Promise.all([ask(agent, { channel: 'voice', from: '+447700900555' }), ...emergencies.map((body) => ask(agent, body))]);
  for (const res of answers) {
    expect({ status: res.status, outcome: (res.body as { outcome?: unknown }).outcome }).toEqual({ status: 200, outcome: 'emergency' });
  }
  expect(ordinary?.status).toBe(200);
  expect(ordinary?.body).toMatchObject({ outcome: 'proceed', reasons: ['restriction-check-unavailable'] });
  expect(await failStaticCount()).toBeGreaterThanOrEqual(before + emergencies.length + 1);
  // The monitoring page answers too (the queues' counts are left out of it, not waited for).
  expect((await request(h.app).get('/metrics')).status).toBe(200);

  // Not let in: no token; a token this gateway never verified (the store cannot say it is valid); and the
  // verified agent anywhere but decisions (an outage is a 503 there, as before).
  const [anonymous, never, flags] = await Promise.all([
    request(h.app).post('/v1/decisions').send({ channel: 'voice', emergency: true }),
    ask(unused, { channel: 'voice', emergency: true }),
    request(h.app).get('/v1/customers/C-OUT/flags').set('Authorization', `Bearer ${agent}`),
  ]);
  expect(anonymous.status).toBe(401);
  for (const res of [never, flags]) {
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'store-unavailable', message: expect.any(String) as string } });
  }
}

describe('POST /v1/decisions while Redis cannot answer', () => {
  it('answers while Redis is up, which verifies the agent’s token', async () => {
    const res = await ask(agent, { channel: 'voice', from: '+447700900555' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'proceed', customerId: 'C-OUT' });
  });

  it('still decides, emergency first, while Redis is frozen', async () => {
    h.redis.signal('SIGSTOP');
    try {
      await expectDecisionsDuringOutage();
    } finally {
      h.redis.signal('SIGCONT');
    }
  }, 60_000);

  it('still decides while Redis is stopped, and uses the store again once it is back', async () => {
    await h.redis.stop();
    try {
      await expectDecisionsDuringOutage();
    } finally {
      await h.redis.restart();
    }
    // Back (empty: the suite's Redis keeps no data over a restart), the store is asked first again: a token
    // is let in while valid, refused once revoked ...
    const valid = await h.staff('outage-valid', ['agent']);
    await h.staff('outage-leaver', ['agent']);
    const issued = await request(h.app).post('/v1/staff/outage-leaver/tokens').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(201);
    const { token: leaver, tokenId } = issued.body as { token: string; tokenId: string };
    for (const token of [valid, leaver]) expect((await ask(token, { channel: 'voice', emergency: true })).body).toMatchObject({ outcome: 'emergency' });
    await request(h.app).delete(`/v1/staff/outage-leaver/tokens/${tokenId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(204);
    expect((await ask(leaver, { channel: 'voice', emergency: true })).status).toBe(401);
    // ... and the first agent's token, which this Redis no longer knows, is refused and forgotten.
    expect((await ask(agent, { channel: 'voice', emergency: true })).status).toBe(401);
    // So the next outage lets in the valid token only.
    h.redis.signal('SIGSTOP');
    try {
      expect((await ask(valid, { channel: 'voice', emergency: true })).body).toMatchObject({ outcome: 'emergency' });
      expect((await ask(leaver, { channel: 'voice', emergency: true })).status).toBe(503);
      expect((await ask(agent, { channel: 'voice', emergency: true })).status).toBe(503);
    } finally {
      h.redis.signal('SIGCONT');
    }
  }, 60_000);

  it('waits for a Redis that stalls and then answers: a revoked admin token is refused, not let in', async () => {
    await h.staff('outage-admin', ['admin']);
    const tokens = await request(h.app).post('/v1/staff/outage-admin/tokens').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(201);
    const { token: leaver, tokenId } = tokens.body as { token: string; tokenId: string };
    // Verified once (remembered), then revoked through this gateway.
    await request(h.app).post('/v1/staff/outage-admin/tokens').set('Authorization', `Bearer ${leaver}`).expect(201);
    await request(h.app).delete(`/v1/staff/outage-admin/tokens/${tokenId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(204);
    // Redis stalls for 1.5 s (well inside the store connection's 5 s command timeout), then answers.
    h.redis.signal('SIGSTOP');
    // Sent now (supertest sends a request when it is first awaited or then-ed).
    const during = [
      request(h.app).post('/v1/staff/outage-admin/tokens').set('Authorization', `Bearer ${leaver}`).then((res) => res),
      request(h.app).post('/v1/decisions').set('Authorization', `Bearer ${leaver}`).send({ channel: 'voice', emergency: true }).then((res) => res),
    ];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    h.redis.signal('SIGCONT');
    const [issue, decision] = await Promise.all(during);
    expect(issue?.status).toBe(401);
    expect(decision?.status).toBe(401);
  }, 60_000);
});
