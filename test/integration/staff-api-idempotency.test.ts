/**
 * `Idempotency-Key` on `POST /v1/restrictions`, the one create whose id the server chooses: a client that
 * lost its answer (a timeout, or a 503 because the replicas had not confirmed) retries with the same key
 * and gets the first request's restriction, never a second one — including when the first attempt
 * stopped half-way, and when the retries race each other.
 */
import request from 'supertest';

import { idFromIdempotencyKey } from '../../gateway/idempotency';
import { startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  h = await startGateway();
  tokens.sam = await h.staff('sam', ['staff']);
  tokens.ann = await h.staff('ann', ['staff']);
  tokens.mia = await h.staff('mia', ['manager']);
  tokens.max = await h.staff('max', ['manager']);
  tokens.tess = await h.staff('tess', ['tenancy-specialist']);
  for (const id of ['C1', 'C2', 'C3', 'C4', 'C5', 'C6']) {
    await request(h.app)
      .put(`/v1/customers/${id}`)
      .set(auth('tess'))
      .send({ name: `Customer ${id}`, phones: [], emails: [`${id.toLowerCase()}@example.org`], needs: [] })
      .expect(201);
  }
});

afterAll(async () => {
  await h.close();
});

function body(customerId: string, summary = '212 calls in October, many abusive'): Record<string, unknown> {
  return {
    customerId,
    category: 'excessive-contact',
    summary,
    evidence: [{ type: 'call-log', reference: 'LOG-2026-10' }],
    authorisedBy: 'mia',
    warnings: [{ type: 'formal', date: '2026-10-05', reference: 'W-1' }],
  };
}

const post = (who: string, payload: Record<string, unknown>, key?: string) => {
  const req = request(h.app).post('/v1/restrictions').set(auth(who));
  return (key === undefined ? req : req.set('Idempotency-Key', key)).send(payload);
};

async function requestsOf(customerId: string): Promise<string[]> {
  return (await h.gateway.store.restrictions.listByCustomer(customerId)).map((r) => r.id);
}

async function auditedRequests(id: string): Promise<number> {
  const records = await h.gateway.store.audit.latest(1000);
  return records.filter((r) => r.action === 'restriction.request' && r.entityId === id).length;
}

it('answers a retry with the same key with the first request, and stores and audits it once', async () => {
  const first = await post('sam', body('C1'), 'key-0001');
  expect(first.status).toBe(201);
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  const again = await post('sam', body('C1'), 'key-0001');
  expect(again.status).toBe(201);
  expect(again.body).toEqual(first.body);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(await requestsOf('C1')).toEqual([first.body.id]);
  expect(await auditedRequests(first.body.id as string)).toBe(1);
});

it('creates a second request without a key, or with another key', async () => {
  const a = await post('sam', body('C2')).expect(201);
  const b = await post('sam', body('C2')).expect(201);
  const c = await post('sam', body('C2'), 'key-0002').expect(201);
  const d = await post('sam', body('C2'), 'key-0003').expect(201);
  expect(new Set([a.body.id, b.body.id, c.body.id, d.body.id]).size).toBe(4);
  expect(await requestsOf('C2')).toHaveLength(4);
});

it('keeps each member of staff’s keys apart', async () => {
  const sam = await post('sam', body('C3'), 'shared-key').expect(201);
  const ann = await post('ann', body('C3'), 'shared-key').expect(201);
  expect(ann.body.id).not.toBe(sam.body.id);
  expect(ann.headers['idempotent-replayed']).toBeUndefined();
});

it('refuses the same key with a different body (422), and stores nothing more', async () => {
  const first = await post('sam', body('C4'), 'key-0004').expect(201);
  const other = await post('sam', body('C4', 'A different summary'), 'key-0004');
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe('idempotency-key-reused');
  expect(await requestsOf('C4')).toEqual([first.body.id]);
});

it('leaves the key free when the request is refused, so the corrected request can use it', async () => {
  const refused = await post('sam', { ...body('C5'), evidence: [] }, 'key-0005');
  expect(refused.status).toBe(422);
  const corrected = await post('sam', body('C5'), 'key-0005');
  expect(corrected.status).toBe(201);
  expect(corrected.headers['idempotent-replayed']).toBeUndefined();
});

it('completes a first attempt that stopped half-way: indexes claimed but no record stored', async () => {
  const id = idFromIdempotencyKey('R', 'sam', 'key-0006');
  // What an attempt that died after claiming the owner index leaves behind.
  await h.connection.hset('gk:restriction-owner', id, 'C6');
  const retry = await post('sam', body('C6'), 'key-0006');
  expect(retry.status).toBe(201);
  expect(retry.body).toEqual({ id, status: 'requested' });
  expect(await requestsOf('C6')).toEqual([id]);
  expect(await auditedRequests(id)).toBe(1);
});

it('refuses a key whose first attempt was for another customer and never stored (422), not as a conflict', async () => {
  const id = idFromIdempotencyKey('R', 'sam', 'key-0008');
  // That attempt claimed the id for C5 and stopped before storing the request.
  await h.connection.hset('gk:restriction-owner', id, 'C5');
  const res = await post('sam', body('C6', 'Another request'), 'key-0008');
  expect(res.status).toBe(422);
  expect(res.body.error.code).toBe('idempotency-key-reused');
});

it('audits a request its first attempt stored but did not audit, once', async () => {
  const id = idFromIdempotencyKey('R', 'sam', 'key-0007');
  // The first attempt stored the request and stopped before its audit record (or the record was lost).
  const first = await post('sam', body('C6', 'Stored, not audited'), 'key-0007').expect(201);
  expect(first.body.id).toBe(id);
  const records = await h.gateway.store.audit.latest(1000);
  const audit = records.find((r) => r.action === 'restriction.request' && r.entityId === id);
  await h.connection.xdel('gk:{audit}:stream', audit!.id);
  await h.connection.del(`gk:{audit}:once:restriction.request:${id}`);
  expect(await auditedRequests(id)).toBe(0);
  const retry = await post('sam', body('C6', 'Stored, not audited'), 'key-0007').expect(201);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(await auditedRequests(id)).toBe(1);
  await post('sam', body('C6', 'Stored, not audited'), 'key-0007').expect(201);
  expect(await auditedRequests(id)).toBe(1);
});

it('answers a retry from what was stored, though the request would now be refused (its authoriser left the role)', async () => {
  const first = await post('sam', { ...body('C4', 'Authorised by max'), authorisedBy: 'max' }, 'key-0009').expect(201);
  await h.staff('max', ['staff']);
  // A new request with max as authoriser is refused now…
  expect((await post('sam', { ...body('C4', 'Authorised by max again'), authorisedBy: 'max' }, 'key-0010')).status).toBe(422);
  // …but the retry of the stored one is still the stored one.
  const retry = await post('sam', { ...body('C4', 'Authorised by max'), authorisedBy: 'max' }, 'key-0009');
  expect(retry.status).toBe(201);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers['idempotent-replayed']).toBe('true');
});

it('keeps the audit’s once-key of a request for good, so a replay months later writes no second record', async () => {
  const first = await post('sam', body('C3', 'Audited once for good'), 'key-0011').expect(201);
  expect(await h.connection.ttl(`gk:{audit}:once:restriction.request:${String(first.body.id)}`)).toBe(-1);
  await post('sam', body('C3', 'Audited once for good'), 'key-0011').expect(201);
  expect(await auditedRequests(first.body.id as string)).toBe(1);
});

it('answers racing retries with one restriction', async () => {
  const replies = await Promise.all(Array.from({ length: 6 }, () => post('ann', body('C1', 'Racing'), 'race-key')));
  expect(replies.map((r) => r.status)).toEqual(Array(6).fill(201));
  const ids = new Set(replies.map((r) => r.body.id as string));
  expect(ids.size).toBe(1);
  const [id] = [...ids];
  expect((await requestsOf('C1')).filter((r) => r === id)).toHaveLength(1);
  expect(await auditedRequests(id!)).toBe(1);
});

it('refuses a malformed key with 400 before anything is stored', async () => {
  const before = await requestsOf('C3');
  for (const key of ['has space', 'x'.repeat(129), 'brace{tag}', 'semi;colon', 'slash/es']) {
    const res = await post('sam', body('C3'), key);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-idempotency-key');
  }
  expect(await requestsOf('C3')).toEqual(before);
});
