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
  for (const body of emergencies) {
    const res = await ask(agent, body);
    expect({ status: res.status, outcome: (res.body as { outcome?: unknown }).outcome }).toEqual({ status: 200, outcome: 'emergency' });
  }
  const ordinary = await ask(agent, { channel: 'voice', from: '+447700900555' });
  expect(ordinary.status).toBe(200);
  expect(ordinary.body).toMatchObject({ outcome: 'proceed', reasons: ['restriction-check-unavailable'] });
  expect(await failStaticCount()).toBeGreaterThanOrEqual(before + emergencies.length + 1);
  // The monitoring page answers too (the queues' counts are left out of it, not waited for).
  expect((await request(h.app).get('/metrics')).status).toBe(200);

  // Not let in: no token, a token this gateway never verified (the store cannot say it is valid).
  expect((await request(h.app).post('/v1/decisions').send({ channel: 'voice', emergency: true })).status).toBe(401);
  const never = await ask(unused, { channel: 'voice', emergency: true });
  expect(never.status).toBe(503);
  expect(never.body).toEqual({ error: { code: 'store-unavailable', message: expect.any(String) as string } });
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
});
