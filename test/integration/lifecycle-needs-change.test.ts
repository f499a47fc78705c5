/**
 * Policy §5: "always maintain at least one form of contact … don't restrict the customer to a contact method
 * they cannot comply with". Deciding such measures is refused (422 no-usable-channel); this is the same
 * state reached later, when the customer's needs change under a restriction in force (`cannot-write`
 * recorded under `written-only`). The needs are recorded (they are facts), whoever records them is told,
 * agents see it, and the gate stops turning the customer's calls and visits away until a review.
 */
import request from 'supertest';

import { activeRestriction, bearer, createCast, startLifecycleHarness, type Cast, type LifecycleHarness } from './lifecycle-harness';

let h: LifecycleHarness;
let cast: Cast;
let restrictionId = '';

const CUSTOMER = { name: 'Wyn Written', phones: ['07700 900077'], emails: ['wyn@example.org'], needs: [] as string[] };
const REVIEW_NOW = /^Review now: .*no way to contact us/;

beforeAll(async () => {
  h = await startLifecycleHarness();
  cast = await createCast(h);
  await request(h.gateway.app).put('/v1/customers/C77').set(bearer(cast.tess)).send(CUSTOMER).expect(201);
  restrictionId = await activeRestriction(h, cast, {
    customerId: 'C77',
    reviewAt: '2027-01-15T10:00:00Z',
    measures: [
      { type: 'written-only', channels: ['letter', 'email'] },
      { type: 'named-contact', staffId: 'jsmith' },
    ],
  });
}, 60_000);

afterAll(async () => {
  await h.close();
});

/** What the gate would do with a call from the customer now. */
async function callDecision(): Promise<{ outcome: string; reasons: string[]; routeTo?: string; agentFlags: string[] }> {
  const res = await request(h.gateway.app).post('/v1/decisions').set(bearer(cast.agent)).send({ channel: 'voice', from: '+447700900077' }).expect(200);
  return res.body as { outcome: string; reasons: string[]; routeTo?: string; agentFlags: string[] };
}

async function agentFlags(): Promise<string[]> {
  const res = await request(h.gateway.app).get('/v1/customers/C77/flags').set(bearer(cast.agent)).expect(200);
  return (res.body as { flags: string[] }).flags;
}

describe('needs that leave a restricted customer no way in', () => {
  it('deflects calls while the customer can write', async () => {
    expect(await callDecision()).toMatchObject({ outcome: 'deflect', reasons: ['written-only'] });
    expect((await agentFlags()).some((f) => REVIEW_NOW.test(f))).toBe(false);
  });

  it('records the new need, warns whoever recorded it, and lets calls through to the named contact meanwhile', async () => {
    const res = await request(h.gateway.app)
      .put('/v1/customers/C77')
      .set(bearer(cast.tess))
      .send({ ...CUSTOMER, needs: ['cannot-write'] })
      .expect(200);
    expect(res.body).toMatchObject({ id: 'C77', needs: ['cannot-write'], warnings: [{ code: 'no-usable-channel', restrictionIds: [restrictionId], message: expect.any(String) as string }] });
    expect((await request(h.gateway.app).get('/v1/customers/C77').set(bearer(cast.agent)).expect(200)).body).toMatchObject({ needs: ['cannot-write'] });

    const decision = await callDecision();
    expect(decision).toMatchObject({ outcome: 'proceed', reasons: ['named-contact'], routeTo: 'jsmith' });
    expect(decision.agentFlags.some((f) => REVIEW_NOW.test(f))).toBe(true);
    expect((await agentFlags()).some((f) => REVIEW_NOW.test(f))).toBe(true);
    // A review that keeps the measures as they are is refused, as deciding them would be.
    const review = await request(h.gateway.app)
      .post(`/v1/restrictions/${restrictionId}/review`)
      .set(bearer(cast.tess))
      .send({ outcome: 'continue', note: 'no change', nextReviewAt: '2027-02-15T10:00:00Z' });
    expect({ status: review.status, code: (review.body as { error?: { code?: string } }).error?.code }).toEqual({ status: 422, code: 'no-usable-channel' });
  });

  it('enforces the restriction again once a reasonable adjustment is recorded for the need', async () => {
    await request(h.gateway.app)
      .post(`/v1/restrictions/${restrictionId}/vary`)
      .set(bearer(cast.tess))
      .send({
        measures: [
          { type: 'written-only', channels: ['letter', 'email'] },
          { type: 'named-contact', staffId: 'jsmith' },
        ],
        adjustments: [{ need: 'cannot-write', arrangement: 'Their advocate writes on their behalf' }],
        note: 'Advocate arranged',
      })
      .expect(200);
    expect(await callDecision()).toMatchObject({ outcome: 'deflect', reasons: ['written-only'] });
    expect((await agentFlags()).some((f) => REVIEW_NOW.test(f))).toBe(false);
    // And a needs update that leaves a way in carries no warning.
    const res = await request(h.gateway.app).put('/v1/customers/C77').set(bearer(cast.tess)).send({ ...CUSTOMER, needs: ['cannot-write'] }).expect(200);
    expect((res.body as { warnings?: unknown }).warnings).toBeUndefined();
  });
});
