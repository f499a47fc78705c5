import request from 'supertest';
import { ADMIN_TOKEN, startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  h = await startGateway();
  tokens.agent = await h.staff('agent1', ['agent']);
  tokens.sam = await h.staff('sam', ['staff']);
  tokens.mia = await h.staff('mia', ['manager']);
  tokens.tess = await h.staff('tess', ['tenancy-specialist']);
  tokens.tom = await h.staff('tom', ['ts-manager']);
  tokens.tara = await h.staff('tara', ['ts-manager']);
  tokens.jsmith = await h.staff('jsmith', ['staff'], { clientIdentity: 'jsmith' });
  tokens.akhan = await h.staff('akhan', ['staff']);
  await request(h.app)
    .put('/v1/customers/C123')
    .set(auth('tess'))
    .send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['Pat@Example.org'], needs: [] })
    .expect(201);
  await request(h.app)
    .put('/v1/customers/C200')
    .set(auth('tess'))
    .send({ name: 'Chris Cannotwrite', phones: ['07700 900200'], emails: [], needs: ['cannot-write'] })
    .expect(201);
});

afterAll(async () => {
  await h.close();
});

async function requestRestriction(customerId = 'C123'): Promise<string> {
  const res = await request(h.app)
    .post('/v1/restrictions')
    .set(auth('sam'))
    .send({
      customerId,
      category: 'excessive-contact',
      summary: '212 calls in October, many abusive',
      evidence: [{ type: 'call-log', reference: 'LOG-2026-10' }],
      authorisedBy: 'mia',
      warnings: [{ type: 'formal', date: '2026-10-05', reference: 'W-1' }],
    })
    .expect(201);
  expect(res.body).toEqual({ id: expect.stringMatching(/^R/), status: 'requested' });
  return (res.body as { id: string }).id;
}

const measures = [
  { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' },
  { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' },
];

describe('the restriction lifecycle over HTTP', () => {
  it('walks request → decide → approve, refusing the wrong role and the same person twice', async () => {
    const id = await requestRestriction();

    // An agent may not decide; a tenancy specialist may.
    const wrongRole = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('agent')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body.error.code).toBe('forbidden-role');

    const decided = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('pending-approval');

    // Before approval nothing is enforced.
    const before = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+447700900123', at: '2026-11-25T14:00:00Z' });
    expect(before.body.reasons).toEqual(['no-restriction']);

    // The approver must be a ts-manager (role), and not the decider (duty).
    expect((await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tess')).send({})).status).toBe(403);
    const approved = await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('active');

    const again = await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tara')).send({});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid-transition');

    const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    expect(record.body.history.map((s: { action: string; by: string }) => `${s.action}:${s.by}`)).toEqual(['request:sam', 'decide:tess', 'approve:tom']);

    // Enforced now: a Wednesday afternoon call is deflected with the next Thursday window.
    const deflect = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700 900123', at: '2026-11-25T14:00:00Z' });
    expect(deflect.body).toMatchObject({ outcome: 'deflect', customerId: 'C123', restrictionId: id, reasons: ['outside-call-times'], nextAllowedAt: '2026-11-26T10:00:00Z', breach: true });
    const inside = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '+44 7700 900123', at: '2026-11-26T10:15:00Z' });
    expect(inside.body).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith', reasons: ['named-contact'] });
    const emergency = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z', emergency: true });
    expect(emergency.body.outcome).toBe('emergency');

    // Agents see flags and terms, never the reason or evidence.
    const flags = await request(h.app).get('/v1/customers/C123/flags').set(auth('agent')).expect(200);
    expect(flags.body.restricted).toBe(true);
    expect(flags.body.flags).toEqual(expect.arrayContaining(['Named contact: jsmith Name', 'Deputy for jsmith Name: akhan Name']));
    const flat = JSON.stringify(flags.body);
    expect(flat).not.toContain('212 calls');
    expect(flat).not.toContain('LOG-2026-10');
    expect(flat).not.toContain('excessive-contact');

    // Review, appeal (decided by an uninvolved ts-manager), exception, lift.
    const reviewed = await request(h.app).post(`/v1/restrictions/${id}/review`).set(auth('tess')).send({ outcome: 'continue', note: 'Calls still excessive', nextReviewAt: '2027-03-01T10:00:00Z' });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.restriction.reviewAt).toBe('2027-03-01T10:00:00Z');
    await request(h.app).post(`/v1/restrictions/${id}/appeal`).set(auth('tess')).send({ grounds: 'I need to call about repairs' }).expect(200);
    const sameManager = await request(h.app).post(`/v1/restrictions/${id}/appeal-outcome`).set(auth('tom')).send({ outcome: 'dismissed', note: 'x' });
    expect(sameManager.status).toBe(403);
    expect(sameManager.body.error.code).toBe('separation-of-duties');
    await request(h.app).post(`/v1/restrictions/${id}/appeal-outcome`).set(auth('tara')).send({ outcome: 'dismissed', note: 'Restriction remains proportionate' }).expect(200);

    const exception = await request(h.app).post(`/v1/restrictions/${id}/exceptions`).set(auth('tess')).send({ channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'Call back arranged about the boiler' });
    expect(exception.status).toBe(201);
    const excepted = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z' });
    expect(excepted.body).toMatchObject({ outcome: 'proceed', routeTo: 'tess' });

    const varied = await request(h.app).post(`/v1/restrictions/${id}/vary`).set(auth('tess')).send({ measures: [...measures, { type: 'word-limit', maxWords: 300 }], note: 'Long emails' });
    expect(varied.status).toBe(200);

    const lifted = await request(h.app).post(`/v1/restrictions/${id}/lift`).set(auth('tess')).send({ reason: 'Behaviour has improved' });
    expect(lifted.body.status).toBe('lifted');
    const after = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z' });
    expect(after.body.reasons).toEqual(['no-restriction']);

    const list = await request(h.app).get('/v1/restrictions?status=lifted').set(auth('tom')).expect(200);
    expect(list.body.restrictions.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('takes the free text of a step under either name, reason or note, and refuses a step without one', async () => {
    const id = await requestRestriction();
    await request(h.app).post(`/v1/restrictions/${id}/reject`).set(auth('tess')).send({}).expect(400);
    const rejected = await request(h.app).post(`/v1/restrictions/${id}/reject`).set(auth('tess')).send({ note: 'Not proportionate yet' }).expect(200);
    expect(rejected.body.status).toBe('rejected');
    const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    expect(record.body.history.at(-1)).toMatchObject({ action: 'reject', note: 'Not proportionate yet' });
  });

  it('lets the requester follow their request, and keeps other non-caseworkers out of its evidence', async () => {
    const id = await requestRestriction();
    const own = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('sam')).expect(200);
    expect(own.body).toMatchObject({ id, status: 'requested', requestedBy: 'sam' });
    for (const who of ['agent', 'jsmith']) {
      const res = await request(h.app).get(`/v1/restrictions/${id}`).set(auth(who)).expect(403);
      expect(res.body.error.code).toBe('forbidden-role');
      expect(JSON.stringify(res.body)).not.toContain('LOG-2026-10');
    }
    await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    // Someone else's and one that does not exist look the same to them.
    await request(h.app).get('/v1/restrictions/RNOPE').set(auth('sam')).expect(403);
    await request(h.app).get('/v1/restrictions/RNOPE').set(auth('tess')).expect(404);
  });

  it('refuses a request without a warning or a reason for none', async () => {
    const res = await request(h.app)
      .post('/v1/restrictions')
      .set(auth('sam'))
      .send({ customerId: 'C123', category: 'abusive-contact', summary: 'Threats', evidence: [{ type: 'note', reference: 'N1' }], authorisedBy: 'mia' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('no-warning');
  });

  it.each([
    ['no-category', { category: undefined }],
    ['no-evidence', { evidence: [] }],
    ['no-authorisation', { authorisedBy: undefined }],
    ['unknown-authoriser', { authorisedBy: 'tess' }],
  ])('refuses a request with %s (422)', async (code, patch) => {
    const body = {
      customerId: 'C123',
      category: 'other',
      summary: 'Demands',
      evidence: [{ type: 'note', reference: 'N1' }],
      authorisedBy: 'mia',
      noWarningReason: 'Serious threat',
      ...patch,
    };
    const res = await request(h.app).post('/v1/restrictions').set(auth('sam')).send(body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses measures that leave the customer no usable channel', async () => {
    const id = await requestRestriction('C200');
    const res = await request(h.app)
      .post(`/v1/restrictions/${id}/decide`)
      .set(auth('tess'))
      .send({ measures: [{ type: 'written-only', channels: ['letter', 'email'] }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('no-usable-channel');
    expect(res.body.error.message).toContain('cannot-write');
  });

  it.each([
    ['a start after its end', [{ days: ['tue'], start: '12:00', end: '10:00' }]],
    ['an hour that does not exist', [{ days: ['tue'], start: '25:00', end: '26:00' }]],
    ['a day spelt out', [{ days: ['tuesday'], start: '10:00', end: '12:00' }]],
    ['no days', [{ days: [], start: '10:00', end: '12:00' }]],
    ['no windows', []],
    ['a window that is not one', ['10:00-12:00']],
    ['windows that are null', null],
    ['windows written as text', 'tue 10-12'],
  ])('refuses call times with %s as 422 malformed-window', async (_what, windows) => {
    const id = await requestRestriction();
    const res = await request(h.app)
      .post(`/v1/restrictions/${id}/decide`)
      .set(auth('tess'))
      .send({ measures: [{ type: 'call-times', windows }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('malformed-window');
  });

  it('refuses call times with a bank-holiday rule other than open or closed as 422 malformed-window', async () => {
    const id = await requestRestriction();
    const res = await request(h.app)
      .post(`/v1/restrictions/${id}/decide`)
      .set(auth('tess'))
      .send({ measures: [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }], bankHolidays: 'sometimes' }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('malformed-window');
  });

  it('takes a review date written as a calendar date, and still refuses one beyond six months (422)', async () => {
    const late = await requestRestriction();
    const tooLate = await request(h.app).post(`/v1/restrictions/${late}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-12-01', singlePointOfContact: 'jsmith' });
    expect(tooLate.status).toBe(422);
    expect(tooLate.body.error.code).toBe('review-too-late');
    const id = await requestRestriction();
    await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01', singlePointOfContact: 'jsmith' }).expect(200);
    const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    expect(record.body.reviewAt).toBe('2027-02-01T00:00:00Z');
  });

  it('refuses a review date that is no date at all as a malformed request (400)', async () => {
    const id = await requestRestriction();
    for (const reviewAt of ['2027-02-30', '1 February 2027', '2027-02-01T10:00:00']) {
      const res = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt, singlePointOfContact: 'jsmith' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid-request');
    }
  });

  it('refuses a review date beyond six months, and a missing one', async () => {
    const id = await requestRestriction();
    const late = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-07-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(late.body.error.code).toBe('review-too-late');
    const none = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, singlePointOfContact: 'jsmith' });
    expect(none.status).toBe(422);
    expect(none.body.error.code).toBe('no-review-date');
    const unknown = await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures: [{ type: 'named-contact', staffId: 'ghost' }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' });
    expect(unknown.body.error.code).toBe('unknown-staff');
  });

  it('rejects a request, and an admin cannot approve restrictions', async () => {
    const id = await requestRestriction();
    const admin = await request(h.app).post(`/v1/restrictions/${id}/approve`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({});
    expect(admin.status).toBe(403);
    const rejected = await request(h.app).post(`/v1/restrictions/${id}/reject`).set(auth('tess')).send({ reason: 'Not proportionate yet' });
    expect(rejected.body.status).toBe('rejected');
  });

  it('expires a restriction at endsAt: its flags disappear', async () => {
    const id = await requestRestriction();
    await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-01-10T10:00:00Z', endsAt: '2026-12-01T00:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
    await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({}).expect(200);
    const during = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900123', at: '2026-11-25T14:00:00Z' });
    expect(during.body.outcome).toBe('deflect');
    h.setNow('2026-12-02T10:00:00Z');
    try {
      const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
      expect(record.body.status).toBe('expired');
      const flags = await request(h.app).get('/v1/customers/C123/flags').set(auth('agent')).expect(200);
      expect(flags.body.restricted).toBe(false);
      expect(flags.body.flags).toEqual([]);
    } finally {
      h.setNow('2026-11-25T10:00:00Z');
    }
  });
});

describe('dates of things that have happened (a warning, an appeal received) are real and not in the future', () => {
  const asked = (warnings: unknown, key?: string) => {
    const req = request(h.app).post('/v1/restrictions').set(auth('sam'));
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send({
      customerId: 'C123',
      category: 'excessive-contact',
      summary: 'Calls every hour',
      evidence: [{ type: 'call-log', reference: 'LOG-W' }],
      authorisedBy: 'mia',
      warnings,
    });
  };

  it.each([
    ['words', 'not a date at all'],
    ['a month and day that do not exist', '2026-13-45'],
    ['a day that does not exist', '2026-02-29'],
    ['a date years ahead', '2030-01-01'],
    ['tomorrow (the gateway’s clock is 2026-11-25)', '2026-11-26'],
    ['a time without its offset', '2026-10-05T10:00:00'],
  ])('refuses a warning dated with %s: 422 invalid-dates, nothing recorded', async (_what, date) => {
    const before = (await request(h.app).get('/v1/restrictions?status=requested').set(auth('tom')).expect(200)).body.restrictions.length as number;
    const res = await asked([{ type: 'formal', date }]);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: { code: 'invalid-dates', message: expect.stringContaining('warnings[0].date') } });
    const after = (await request(h.app).get('/v1/restrictions?status=requested').set(auth('tom')).expect(200)).body.restrictions.length as number;
    expect(after).toBe(before);
  });

  it('accepts a warning given today or before, as a calendar date or an instant with its offset', async () => {
    for (const date of ['2026-11-25', '2026-10-05T14:30:00+01:00']) {
      const res = await asked([{ type: 'informal', date }]);
      expect(res.status).toBe(201);
      const record = await request(h.app).get(`/v1/restrictions/${String(res.body.id)}`).set(auth('tess')).expect(200);
      expect(record.body.warnings).toEqual([{ type: 'informal', date }]);
    }
  });

  it('still answers a warning date of the wrong JSON type as a malformed request (400)', async () => {
    const res = await asked([{ type: 'formal', date: 20261005 }]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-request');
  });

  it('lets an Idempotency-Key refused for a future warning be used again for the corrected request, and replays it', async () => {
    await asked([{ type: 'formal', date: '2030-01-01' }], 'warning-date-key-1').expect(422);
    const first = await asked([{ type: 'formal', date: '2026-11-20' }], 'warning-date-key-1').expect(201);
    const retry = await asked([{ type: 'formal', date: '2026-11-20' }], 'warning-date-key-1').expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    // The key now names that request: another warning date is another request.
    const other = await asked([{ type: 'formal', date: '2026-11-21' }], 'warning-date-key-1');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency-key-reused');
  });

  it('refuses an appeal received in the future (422 invalid-dates), and records one received today', async () => {
    await request(h.app).put('/v1/customers/C510').set(auth('tess')).send({ name: 'Ana Appeal', phones: ['07700 900510'], emails: [], needs: [] }).expect(201);
    const id = await requestRestriction('C510');
    await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
    await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({}).expect(200);
    for (const receivedAt of ['2026-11-26', '2030-01-01T09:00:00Z']) {
      const res = await request(h.app).post(`/v1/restrictions/${id}/appeal`).set(auth('tess')).send({ grounds: 'I need to call', receivedAt });
      expect(res.status).toBe(422);
      expect(res.body.error).toEqual({ code: 'invalid-dates', message: expect.stringContaining('receivedAt') });
    }
    const ok = await request(h.app).post(`/v1/restrictions/${id}/appeal`).set(auth('tess')).send({ grounds: 'I need to call', receivedAt: '2026-11-25' }).expect(200);
    expect(ok.body.restriction.appeal.receivedAt).toBe('2026-11-25T00:00:00Z');
    await request(h.app).post(`/v1/restrictions/${id}/lift`).set(auth('tess')).send({ reason: 'Test over' }).expect(200);
  });
});

describe('every transition records who, when and why', () => {
  it('records the reason of every step in its history entry and its audit record, and never shows it to agents', async () => {
    await request(h.app).put('/v1/customers/C500').set(auth('tess')).send({ name: 'Rae Reason', phones: ['07700 900500'], emails: [], needs: [] }).expect(201);
    const id = await requestRestriction('C500');
    const step = (path: string, who: string, body: object) => request(h.app).post(`/v1/restrictions/${id}/${path}`).set(auth(who)).send(body).expect((res) => {
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    });
    await step('decide', 'tess', { measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith', note: 'NOTE-DECIDE windows leave a daily line open' });
    await step('approve', 'tom', { note: 'NOTE-APPROVE approved after checking policy' });
    await step('review', 'tess', { outcome: 'continue', note: 'NOTE-REVIEW calls still excessive', nextReviewAt: '2027-03-01T10:00:00Z' });
    await step('appeal', 'tess', { grounds: 'NOTE-APPEAL I need to call about repairs' });
    await step('appeal-outcome', 'tara', { outcome: 'dismissed', note: 'NOTE-OUTCOME remains proportionate' });
    await step('vary', 'tess', { measures: [...measures, { type: 'word-limit', maxWords: 300 }], note: 'NOTE-VARY long emails' });

    // Agents see flags and terms only: none of the reasons.
    const flags = await request(h.app).get('/v1/customers/C500/flags').set(auth('agent')).expect(200);
    expect(flags.body.restricted).toBe(true);
    expect(JSON.stringify(flags.body)).not.toContain('NOTE-');

    await step('exceptions', 'tess', { channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'NOTE-EXCEPTION call back about the boiler' });
    await step('lift', 'tess', { reason: 'NOTE-LIFT behaviour has improved' });

    const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    const history = record.body.history as Array<{ action: string; by: string; at: string; note?: string }>;
    expect(history.map((s) => [s.action, s.by, s.note])).toEqual([
      ['request', 'sam', '212 calls in October, many abusive'],
      ['decide', 'tess', 'NOTE-DECIDE windows leave a daily line open'],
      ['approve', 'tom', 'NOTE-APPROVE approved after checking policy'],
      ['review:continue', 'tess', 'NOTE-REVIEW calls still excessive'],
      ['appeal', 'tess', 'NOTE-APPEAL I need to call about repairs'],
      ['appeal:dismissed', 'tara', 'NOTE-OUTCOME remains proportionate'],
      ['vary', 'tess', 'NOTE-VARY long emails'],
      ['exception', 'tess', 'NOTE-EXCEPTION call back about the boiler'],
      ['lift', 'tess', 'NOTE-LIFT behaviour has improved'],
    ]);
    expect(history.every((s) => s.at === '2026-11-25T10:00:00.000Z')).toBe(true);

    // The audit stream carries the same who, what and why.
    const audit = (await h.gateway.store.audit.latest(1000)).filter((a) => a.entityId === id).reverse();
    expect(audit.map((a) => [a.action, a.actor, a.details?.note])).toEqual([
      ['restriction.request', 'sam', '212 calls in October, many abusive'],
      ['restriction.decide', 'tess', 'NOTE-DECIDE windows leave a daily line open'],
      ['restriction.approve', 'tom', 'NOTE-APPROVE approved after checking policy'],
      ['restriction.review', 'tess', 'NOTE-REVIEW calls still excessive'],
      ['restriction.appeal', 'tess', 'NOTE-APPEAL I need to call about repairs'],
      ['restriction.appeal-outcome', 'tara', 'NOTE-OUTCOME remains proportionate'],
      ['restriction.vary', 'tess', 'NOTE-VARY long emails'],
      ['restriction.exception', 'tess', 'NOTE-EXCEPTION call back about the boiler'],
      ['restriction.lift', 'tess', 'NOTE-LIFT behaviour has improved'],
    ]);
    expect(audit.find((a) => a.action === 'restriction.approve')?.details).toMatchObject({ from: 'pending-approval', to: 'active' });
  });

  it('takes the note of /decide and /approve under either name, and an approval with no body at all', async () => {
    await request(h.app).put('/v1/customers/C501').set(auth('tess')).send({ name: 'Nia Note', phones: ['07700 900501'], emails: [], needs: [] }).expect(201);
    const id = await requestRestriction('C501');
    await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith', reason: 'Decided because' }).expect(200);
    await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({ reason: 'Approved because' }).expect(200);
    const record = await request(h.app).get(`/v1/restrictions/${id}`).set(auth('tess')).expect(200);
    expect(record.body.history.slice(1).map((s: { note?: string }) => s.note)).toEqual(['Decided because', 'Approved because']);

    const bare = await requestRestriction('C501');
    await request(h.app).post(`/v1/restrictions/${bare}/decide`).set(auth('tess')).send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
    // No body and no Content-Type, as `curl -X POST` sends it: still an approval, without a note.
    const approved = await request(h.app).post(`/v1/restrictions/${bare}/approve`).set(auth('tom'));
    expect(approved.status).toBe(200);
    expect(approved.body.restriction.history.at(-1)).not.toHaveProperty('note');
    // A note that is not text is a malformed body.
    const wrong = await request(h.app).post(`/v1/restrictions/${bare}/lift`).set(auth('tess')).send({ reason: 42 });
    expect(wrong.status).toBe(400);
    await request(h.app).post(`/v1/restrictions/${bare}/lift`).set(auth('tess')).send({ reason: 'Test over' }).expect(200);
    await request(h.app).post(`/v1/restrictions/${id}/lift`).set(auth('tess')).send({ reason: 'Test over' }).expect(200);
  });
});

describe('POST /v1/decisions over a real store, for every channel', () => {
  it('shapes written contact and deflects calls and visits under written-only, word-limit and weekly responses', async () => {
    await request(h.app).put('/v1/customers/C300').set(auth('tess')).send({ name: 'Wren Writer', phones: ['07700 900300'], emails: ['wren@example.org'], needs: [] }).expect(201);
    const id = await requestRestriction('C300');
    const written = [
      { type: 'written-only', channels: ['letter', 'email'] },
      { type: 'word-limit', maxWords: 20 },
      { type: 'response-frequency', every: 'P7D', weekday: 'fri' },
      { type: 'named-contact', staffId: 'jsmith' },
    ];
    await request(h.app).post(`/v1/restrictions/${id}/decide`).set(auth('tess')).send({ measures: written, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
    await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({}).expect(200);

    const long = Array.from({ length: 30 }, (_, i) => `point${i}`).join(' ');
    const email = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'email', from: 'WREN@example.org', subject: 'Fence', text: long, at: '2026-11-25T10:00:00Z' });
    expect(email.body).toMatchObject({
      outcome: 'proceed',
      customerId: 'C300',
      restrictionId: id,
      routeTo: 'jsmith',
      respondAfter: '2026-11-27T09:00:00Z',
      wordLimit: { limit: 20, words: 30, exceeded: true },
      breach: false,
    });
    expect(email.body.reasons).toEqual(expect.arrayContaining(['named-contact', 'response-frequency', 'word-limit-exceeded']));

    const letter = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'letter', customerId: 'C300', words: 12, at: '2026-11-28T10:00:00Z' });
    expect(letter.body).toMatchObject({ outcome: 'proceed', respondAfter: '2026-12-04T09:00:00Z', wordLimit: { limit: 20, words: 12, exceeded: false } });

    const call = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '07700900300', at: '2026-11-26T10:30:00Z' });
    expect(call.body).toMatchObject({ outcome: 'deflect', reasons: ['written-only'], breach: true });
    const visit = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'visit', customerId: 'C300', at: '2026-11-26T10:30:00Z' });
    expect(visit.body).toMatchObject({ outcome: 'deflect', reasons: ['written-only'] });
    const gas = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'email', from: 'wren@example.org', text: 'I can smell gas in the hallway', at: '2026-11-25T10:00:00Z' });
    expect(gas.body.outcome).toBe('emergency');
  });

  it('answers a household number as ambiguous and an unknown one as unidentified', async () => {
    await request(h.app).put('/v1/customers/C401').set(auth('tess')).send({ name: 'Ann House', phones: ['01632 960401'], emails: [], needs: [] }).expect(201);
    await request(h.app).put('/v1/customers/C402').set(auth('tess')).send({ name: 'Bob House', phones: ['+44 1632 960401'], emails: [], needs: [] }).expect(201);
    const shared = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '01632960401' });
    expect(shared.body).toMatchObject({ outcome: 'proceed', reasons: ['ambiguous-identity'] });
    const unknown = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: '01632960999' });
    expect(unknown.body.reasons).toEqual(['unidentified']);
    const withheld = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: 'anonymous' });
    expect(withheld.body.reasons).toEqual(['unidentified']);
  });
});

describe('operations', () => {
  it('reports queue depths on /metrics: approvals above queued their letters, and no worker runs here', async () => {
    const res = await request(h.app).get('/metrics').expect(200);
    const waiting = /gatekeeper_queue_jobs\{queue="notifications",state="waiting"\} (\d+)/.exec(res.text);
    expect(Number(waiting?.[1])).toBeGreaterThanOrEqual(1);
    expect(res.text).toMatch(/gatekeeper_queue_jobs\{queue="process-message",state="failed"\} 0/);
  });
});

describe('contacts, responses and errors', () => {
  it('records a response and lists contacts newest first (tenancy specialist only)', async () => {
    const res = await request(h.app).post('/v1/customers/C123/responses').set(auth('tess')).send({ reference: 'RESP-1', respondedAt: '2026-11-20T10:00:00Z', summary: 'Answered about the fence', contactIds: ['M1'] });
    expect(res.status).toBe(201);
    expect((await request(h.app).get('/v1/customers/C123/contacts').set(auth('agent'))).status).toBe(403);
    const contacts = await request(h.app).get('/v1/customers/C123/contacts').set(auth('tess')).expect(200);
    expect(Array.isArray(contacts.body)).toBe(true);
  });

  it('answers bad input with a clear error and never a stack trace', async () => {
    const bad = await request(h.app).post('/v1/decisions').set(auth('agent')).send({ channel: 'fax' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid-request');
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/);
    const missing = await request(h.app).get('/v1/customers/NOPE').set(auth('agent'));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('customer-not-found');
    const unauth = await request(h.app).get('/v1/customers/C123');
    expect(unauth.status).toBe(401);
    const badPhone = await request(h.app).put('/v1/customers/C9').set(auth('tess')).send({ name: 'X', phones: ['12'], emails: [], needs: [] });
    expect(badPhone.status).toBe(422);
    expect(badPhone.body.error.code).toBe('invalid-phone');
  });
});
