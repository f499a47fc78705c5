/**
 * A customer's contact history and recorded responses over HTTP, through the whole gateway as `npm start`
 * composes it: a call's outcome (who answered, for how long) reaches the history that tenancy specialists
 * read, from Twilio's signed webhooks; and recording a response refuses one dated in the future and says
 * which of the contacts it names repeat detection cannot use.
 */
import twilio from 'twilio';

import { startTestApp, TWILIO_AUTH_TOKEN, type TestApp } from '../support/test-app';
import { activeRestriction, staff } from './voice-harness';
import { allNodes, newCallSid, parseTwiml } from './voice-support';

const CALLER = '+447700900411';
const START = new Date('2025-11-25T10:30:00Z');
let clock = START;
let gk: TestApp;
let specialist: string;

beforeAll(async () => {
  gk = await startTestApp({ now: () => clock });
  specialist = await gk.addStaff(staff('jsmith', 'Jo Smith', { clientIdentity: 'jsmith-client' }));
  await gk.addCustomer({ id: 'C1', name: 'Customer C1', phones: [CALLER], emails: ['c1@example.org'], needs: [] });
  await gk.store.restrictions.create(activeRestriction('R1', 'C1', [{ type: 'named-contact', staffId: 'jsmith' }]));
});

beforeEach(() => {
  clock = START;
});

afterAll(async () => {
  await gk?.stop();
});

/** Posts to a voice webhook exactly as Twilio would: form-encoded, signed against PUBLIC_URL + path. */
async function twilioPost(path: string, params: Record<string, string>): Promise<string> {
  const url = `${gk.url}${path}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(res.status).toBe(200);
  return res.text();
}

type Json = Record<string, unknown>;

async function history(): Promise<Json[]> {
  const res = await fetch(`${gk.url}/v1/customers/C1/contacts`, { headers: { Authorization: `Bearer ${specialist}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Json[];
}

/** The history's entry for `id` once `ready` holds (the evidence is written just after Twilio is answered). */
async function entryOnceReady(id: string, ready: (entry: Json) => boolean): Promise<Json | undefined> {
  let entry: Json | undefined;
  for (let i = 0; i < 200; i++) {
    entry = (await history()).find((c) => c.id === id);
    if (entry !== undefined && ready(entry)) return entry;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return entry;
}

async function respond(body: Json): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${gk.url}/v1/customers/C1/responses`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${specialist}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('GET /v1/customers/:id/contacts', () => {
  it('shows whom a call was put through to, who answered and how long it lasted, from Twilio’s callbacks', async () => {
    const sid = newCallSid();
    const twiml = parseTwiml(await twilioPost('/voice/incoming', { CallSid: sid, From: CALLER, To: '+441632960000' }));
    expect(allNodes(twiml).find((n) => n.name === 'Client')?.text).toBe('jsmith-client');
    const action = twiml.children[0]?.attrs.action ?? '';
    expect(action).toBe('/voice/status?step=named&staff=jsmith');

    // Jo answered and talked for 3 min 12 s; the whole call, with the ringing, lasted 3 min 20 s.
    await twilioPost(action, { CallSid: sid, From: CALLER, CallStatus: 'in-progress', DialCallStatus: 'completed', DialCallDuration: '192' });
    await twilioPost('/voice/status', { CallSid: sid, From: CALLER, CallStatus: 'completed', CallDuration: '200' });

    const entry = await entryOnceReady(sid, (c) => {
      const details = c.details as Json | undefined;
      return details?.answeredBy !== undefined && details.durationSeconds !== undefined;
    });
    // The contract's fields as they were, plus routeTo and the outcome; never the caller's number.
    expect(entry).toEqual({
      id: sid,
      channel: 'voice',
      receivedAt: START.toISOString(),
      outcome: 'proceed',
      reasons: ['named-contact'],
      restrictionId: 'R1',
      breach: false,
      status: 'completed',
      routeTo: 'jsmith',
      details: { dialStatus: 'completed', talkSeconds: 192, answeredBy: 'jsmith', callStatus: 'completed', durationSeconds: 200 },
    });
  });

  it('adds routeTo and details only when there are some, and shows no detail that is not on its list', async () => {
    await gk.store.contacts.record('C1', { id: 'V-BARE', channel: 'visit', receivedAt: '2025-11-20T09:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'] });
    await gk.store.contacts.record('C1', {
      id: 'M-LISTED',
      channel: 'email',
      receivedAt: '2025-11-21T09:00:00.000Z',
      outcome: 'proceed',
      reasons: ['named-contact'],
      routeTo: 'jsmith',
      subject: 'Fence',
      // `note` stands for whatever a channel might put there one day that nobody has vetted for the history.
      details: { malformed: false, attachments: 2, acknowledge: true, note: 'the customer’s own words' },
    });
    const entries = await history();
    expect(entries.find((c) => c.id === 'V-BARE')).toEqual({
      id: 'V-BARE',
      channel: 'visit',
      receivedAt: '2025-11-20T09:00:00.000Z',
      outcome: 'proceed',
      reasons: ['no-restriction'],
    });
    expect(entries.find((c) => c.id === 'M-LISTED')).toEqual({
      id: 'M-LISTED',
      channel: 'email',
      receivedAt: '2025-11-21T09:00:00.000Z',
      outcome: 'proceed',
      reasons: ['named-contact'],
      routeTo: 'jsmith',
      details: { malformed: false, attachments: 2, acknowledge: true },
    });
  });
});

describe('POST /v1/customers/:id/responses', () => {
  beforeAll(async () => {
    await gk.store.contacts.record('C1', {
      id: 'M-TEXT',
      channel: 'email',
      receivedAt: '2025-11-18T09:00:00.000Z',
      outcome: 'proceed',
      reasons: ['named-contact'],
      text: 'The fence at the back of the garden has fallen down again.',
    });
    await gk.store.contacts.record('C1', { id: 'CA-CALL', channel: 'voice', receivedAt: '2025-11-19T09:00:00.000Z', outcome: 'proceed', reasons: ['named-contact'] });
  });

  it('refuses a respondedAt on a day after today in the configured zone (422 invalid-dates), recording nothing', async () => {
    // START is 2025-11-25 in London: tomorrow, as a date or as an instant, has not happened yet.
    const tomorrow = await respond({ reference: 'RESP-FUTURE', respondedAt: '2025-11-26', summary: 'Not yet', contactIds: ['M-TEXT'] });
    expect(tomorrow.status).toBe(422);
    expect(tomorrow.body).toEqual({ error: { code: 'invalid-dates', message: expect.stringContaining('respondedAt') } });
    const tomorrowMorning = await respond({ reference: 'RESP-FUTURE', respondedAt: '2025-11-26T09:00:00Z', summary: 'Not yet', contactIds: ['M-TEXT'] });
    expect(tomorrowMorning.status).toBe(422);
    expect((tomorrowMorning.body.error as Json).code).toBe('invalid-dates');

    expect((await gk.store.responses.list('C1')).map((r) => r.reference)).not.toContain('RESP-FUTURE');
    expect((await gk.store.responses.responded('C1')).map((r) => r.contactId)).not.toContain('M-TEXT');
  });

  it('accepts a respondedAt later today (a reply timed for the afternoon post), and today’s date in the first hour of a summer day', async () => {
    const later = new Date(START.getTime() + 3 * 3600_000).toISOString();
    expect((await respond({ reference: 'RESP-LATER', respondedAt: later, summary: 'Fence', contactIds: ['M-TEXT'] })).status).toBe(201);

    // 00:30 BST on 2 July is 23:30 UTC on 1 July: "2 July" (taken as midnight UTC) is still today in London.
    clock = new Date('2025-07-01T23:30:00Z');
    const today = await respond({ reference: 'RESP-TODAY', respondedAt: '2025-07-02', summary: 'Fence', contactIds: ['M-TEXT'] });
    expect(today.status).toBe(201);
    expect((await gk.store.responses.list('C1')).find((r) => r.reference === 'RESP-TODAY')?.respondedAt).toBe('2025-07-02T00:00:00Z');
  });

  it('answers an email with its text kept: recorded for repeat detection, no warnings', async () => {
    const res = await respond({ reference: 'RESP-EMAIL', respondedAt: '2025-11-25T10:00:00Z', summary: 'Fence repair booked', contactIds: ['M-TEXT'] });
    expect(res).toEqual({ status: 201, body: { customerId: 'C1', reference: 'RESP-EMAIL', contactIds: ['M-TEXT'] } });
    expect(await gk.store.responses.responded('C1')).toContainEqual(expect.objectContaining({ contactId: 'M-TEXT', reference: 'RESP-EMAIL' }));
  });

  it('records a response naming an unknown contact and a call, and warns about each', async () => {
    const res = await respond({
      reference: 'RESP-MIXED',
      respondedAt: '2025-11-25T10:00:00Z',
      summary: 'Answered about the fence, the call and a letter handed in at the office',
      contactIds: ['M-TEXT', 'CA-CALL', 'PAPER-1', 'PAPER-1'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      customerId: 'C1',
      reference: 'RESP-MIXED',
      contactIds: ['M-TEXT', 'CA-CALL', 'PAPER-1', 'PAPER-1'],
      warnings: [
        { code: 'unknown-contacts', contactIds: ['PAPER-1'], message: expect.stringContaining('not in the customer’s contact history') },
        { code: 'no-text', contactIds: ['CA-CALL'], message: expect.stringContaining('repeat detection cannot compare') },
      ],
    });
    // A warning, not a refusal: the response is recorded with every contact it names.
    expect((await gk.store.responses.list('C1')).find((r) => r.reference === 'RESP-MIXED')?.contactIds).toEqual(['M-TEXT', 'CA-CALL', 'PAPER-1']);
  });

  it('calls a contact of another customer unknown', async () => {
    await gk.addCustomer({ id: 'C2', name: 'Customer C2', phones: [], emails: ['c2@example.org'], needs: [] });
    await gk.store.contacts.record('C2', { id: 'M-OTHER', channel: 'email', receivedAt: '2025-11-18T09:00:00.000Z', outcome: 'proceed', reasons: ['no-restriction'], text: 'Hello' });
    const res = await respond({ reference: 'RESP-OTHER', respondedAt: '2025-11-25T10:00:00Z', summary: 'Wrong customer', contactIds: ['M-OTHER'] });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([expect.objectContaining({ code: 'unknown-contacts', contactIds: ['M-OTHER'] })]);
  });
});
