/**
 * The staff API says so when a restriction routes calls to someone the gate cannot dial (no phone, no
 * Twilio Client identity): `decide`, `approve`, `vary` (and a review or appeal that varies) answer with a
 * `named-contact-unreachable` warning, and a one-off voice exception arranged by such a person with an
 * `exception-staff-unreachable` one. Nothing is refused; people who can be dialled raise no warning.
 * Through the HTTP API as `npm start` composes it, over a real redis-server.
 */
import request from 'supertest';

import { startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

interface Warning {
  code: string;
  staffIds: string[];
  message: string;
}

beforeAll(async () => {
  h = await startGateway();
  tokens.sam = await h.staff('sam', ['staff']);
  tokens.mia = await h.staff('mia', ['manager']);
  tokens.tom = await h.staff('tom', ['ts-manager']);
  // Tenancy specialists: one with no way to be dialled, one with a client identity, one with a number.
  tokens.tess = await h.staff('tess', ['tenancy-specialist']);
  tokens.tina = await h.staff('tina', ['tenancy-specialist'], { clientIdentity: 'tina-client' });
  tokens.tara = await h.staff('tara', ['tenancy-specialist'], { phone: '07700 900777' });
  // Possible named contacts and deputies.
  await h.staff('ghost', ['staff']);
  await h.staff('shadow', ['staff']);
  await h.staff('phoned', ['staff'], { phone: '07700 900555' });
  await h.staff('client', ['staff'], { clientIdentity: 'client-identity' });
  await request(h.app)
    .put('/v1/customers/C1')
    .set(auth('tess'))
    .send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['pat@example.org'], needs: [] })
    .expect(201);
});

afterAll(async () => {
  await h.close();
});

const WINDOW = { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] };

function named(staffId: string, deputyId?: string): Record<string, string> {
  return { type: 'named-contact', staffId, ...(deputyId !== undefined ? { deputyId } : {}) };
}

async function requested(): Promise<string> {
  const res = await request(h.app)
    .post('/v1/restrictions')
    .set(auth('sam'))
    .send({
      customerId: 'C1',
      category: 'excessive-contact',
      summary: 'Daily calls',
      evidence: [{ type: 'call-log', reference: 'LOG-1' }],
      authorisedBy: 'mia',
      warnings: [{ type: 'formal', date: '2026-10-05' }],
    })
    .expect(201);
  return (res.body as { id: string }).id;
}

async function decide(id: string, measures: unknown[], who = 'tina'): Promise<request.Response> {
  return request(h.app)
    .post(`/v1/restrictions/${id}/decide`)
    .set(auth(who))
    .send({ measures, reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'ghost' });
}

async function active(measures: unknown[]): Promise<string> {
  const id = await requested();
  expect((await decide(id, measures)).status).toBe(200);
  expect((await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({})).status).toBe(200);
  return id;
}

describe('a named contact or deputy the gate cannot dial', () => {
  it('is named in the answers of decide, approve and vary, which still succeed', async () => {
    const id = await requested();

    const decided = await decide(id, [WINDOW, named('ghost', 'phoned')]);
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('pending-approval');
    expect(decided.body.warnings).toEqual([{ code: 'named-contact-unreachable', staffIds: ['ghost'], message: expect.any(String) }]);
    const message = (decided.body.warnings as Warning[])[0]?.message ?? '';
    expect(message).toContain('ghost (named contact)');
    // The deputy can be dialled: they stand in, then the named contact's voicemail.
    expect(message).toContain('ring the deputy instead');

    const approved = await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('active');
    expect(approved.body.warnings).toEqual([{ code: 'named-contact-unreachable', staffIds: ['ghost'], message }]);

    // Both undiallable: both named, the call still goes to the usual route.
    const both = await request(h.app).post(`/v1/restrictions/${id}/vary`).set(auth('tina')).send({ measures: [WINDOW, named('ghost', 'shadow')], note: 'New deputy' });
    expect(both.status).toBe(200);
    expect(both.body.warnings).toEqual([{ code: 'named-contact-unreachable', staffIds: ['ghost', 'shadow'], message: expect.stringContaining('shadow (deputy)') }]);

    // Only the deputy undiallable: the named contact is dialled, the deputy is skipped for voicemail.
    const deputy = await request(h.app).post(`/v1/restrictions/${id}/vary`).set(auth('tina')).send({ measures: [WINDOW, named('client', 'shadow')], note: 'New contact' });
    expect(deputy.status).toBe(200);
    expect(deputy.body.warnings).toEqual([{ code: 'named-contact-unreachable', staffIds: ['shadow'], message: expect.stringContaining('voicemail') }]);

    const reviewed = await request(h.app)
      .post(`/v1/restrictions/${id}/review`)
      .set(auth('tina'))
      .send({ outcome: 'vary', note: 'Contact changed', nextReviewAt: '2027-03-01T10:00:00Z', measures: [WINDOW, named('ghost')] });
    expect(reviewed.status).toBe(200);
    // No deputy at all: the calls go to the usual route.
    expect(reviewed.body.warnings).toEqual([{ code: 'named-contact-unreachable', staffIds: ['ghost'], message: expect.stringContaining('usual route') }]);

    // Everyone diallable again: no warnings at all.
    const fixed = await request(h.app).post(`/v1/restrictions/${id}/vary`).set(auth('tina')).send({ measures: [WINDOW, named('client', 'phoned')], note: 'Reachable people' });
    expect(fixed.status).toBe(200);
    expect(fixed.body).not.toHaveProperty('warnings');
  });

  it('raises no warning when the named contact and deputy have a client identity or a number', async () => {
    const id = await requested();
    const decided = await decide(id, [WINDOW, named('client', 'phoned')]);
    expect(decided.status).toBe(200);
    expect(decided.body).not.toHaveProperty('warnings');
    const approved = await request(h.app).post(`/v1/restrictions/${id}/approve`).set(auth('tom')).send({});
    expect(approved.status).toBe(200);
    expect(approved.body).not.toHaveProperty('warnings');
    const varied = await request(h.app).post(`/v1/restrictions/${id}/vary`).set(auth('tina')).send({ measures: [WINDOW, named('phoned', 'client')], note: 'Swap' });
    expect(varied.status).toBe(200);
    expect(varied.body).not.toHaveProperty('warnings');
  });

  it('is not looked for in people calls are never put through to (the single point of contact)', async () => {
    // `ghost` is every restriction's single point of contact here; only named-contact measures are dialled.
    const id = await requested();
    const decided = await decide(id, [WINDOW]);
    expect(decided.status).toBe(200);
    expect(decided.body).not.toHaveProperty('warnings');
  });
});

describe('a one-off exception arranged by someone the gate cannot dial', () => {
  it('is flagged for a call exception, and not for a written one', async () => {
    const id = await active([WINDOW, named('client')]);
    const call = await request(h.app)
      .post(`/v1/restrictions/${id}/exceptions`)
      .set(auth('tess'))
      .send({ channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'Call back arranged' });
    expect(call.status).toBe(201);
    expect(call.body.status).toBe('active');
    expect(call.body.warnings).toEqual([{ code: 'exception-staff-unreachable', staffIds: ['tess'], message: expect.stringContaining('usual route') }]);
    // The exception is recorded all the same, routed to whoever arranged it.
    expect(call.body.restriction.exceptions).toEqual([expect.objectContaining({ channel: 'voice', staffId: 'tess' })]);

    const written = await request(h.app)
      .post(`/v1/restrictions/${id}/exceptions`)
      .set(auth('tess'))
      .send({ channel: 'email', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'Email arranged' });
    expect(written.status).toBe(201);
    expect(written.body).not.toHaveProperty('warnings');
  });

  it('is not flagged when whoever arranged it has a client identity or a number', async () => {
    const id = await active([WINDOW, named('client')]);
    for (const who of ['tina', 'tara']) {
      const res = await request(h.app)
        .post(`/v1/restrictions/${id}/exceptions`)
        .set(auth(who))
        .send({ channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: `Call back by ${who}` });
      expect(res.status).toBe(201);
      expect(res.body).not.toHaveProperty('warnings');
    }
  });
});

describe('with TaskRouter routing (VOICE_DEFAULT_ROUTE=enqueue:…)', () => {
  let tr: GatewayHarness;
  const trTokens: Record<string, string> = {};

  beforeAll(async () => {
    tr = await startGateway({ VOICE_DEFAULT_ROUTE: 'enqueue:WW0123456789abcdef0123456789abcdef' });
    trTokens.sam = await tr.staff('sam', ['staff']);
    await tr.staff('mia', ['manager']);
    trTokens.tom = await tr.staff('tom', ['ts-manager']);
    trTokens.tess = await tr.staff('tess', ['tenancy-specialist']);
    await tr.staff('ghost', ['staff']);
    await request(tr.app)
      .put('/v1/customers/C1')
      .set({ Authorization: `Bearer ${trTokens.tess}` })
      .send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['pat@example.org'], needs: [] })
      .expect(201);
  });

  afterAll(async () => {
    await tr.close();
  });

  it('warns of nobody: named contacts are found as workers, not dialled', async () => {
    const as = (who: string) => ({ Authorization: `Bearer ${trTokens[who]}` });
    const created = await request(tr.app)
      .post('/v1/restrictions')
      .set(as('sam'))
      .send({ customerId: 'C1', category: 'excessive-contact', summary: 'Daily calls', evidence: [{ type: 'call-log', reference: 'LOG-1' }], authorisedBy: 'mia', warnings: [{ type: 'formal', date: '2026-10-05' }] })
      .expect(201);
    const id = (created.body as { id: string }).id;
    const decided = await request(tr.app)
      .post(`/v1/restrictions/${id}/decide`)
      .set(as('tess'))
      .send({ measures: [WINDOW, named('ghost')], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'ghost' });
    expect(decided.status).toBe(200);
    expect(decided.body).not.toHaveProperty('warnings');
    const approved = await request(tr.app).post(`/v1/restrictions/${id}/approve`).set(as('tom')).send({});
    expect(approved.status).toBe(200);
    expect(approved.body).not.toHaveProperty('warnings');
    const exception = await request(tr.app)
      .post(`/v1/restrictions/${id}/exceptions`)
      .set(as('tess'))
      .send({ channel: 'voice', from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'Call back arranged' });
    expect(exception.status).toBe(201);
    expect(exception.body).not.toHaveProperty('warnings');
  });
});
