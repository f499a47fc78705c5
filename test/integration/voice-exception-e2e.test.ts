/**
 * One-off exceptions end to end, through the whole gateway as `npm start` composes it: a tenancy specialist
 * arranges a call back with `POST /v1/restrictions/:id/exceptions`, and the gate puts the restricted caller
 * through to them — until the exception expires.
 */
import twilio from 'twilio';

import { startTestApp, TWILIO_AUTH_TOKEN, type TestApp } from '../support/test-app';
import { activeRestriction, staff } from './voice-harness';
import { allNodes, emergencySentence, newCallSid, parseTwiml, verbs } from './voice-support';

const CALLER = '+447700900301';
let clock = new Date('2025-11-24T15:00:00Z'); // Monday, outside the Tuesday window
let gk: TestApp;
let specialistToken: string;

beforeAll(async () => {
  gk = await startTestApp({ now: () => clock });
  specialistToken = await gk.addStaff(staff('tspec', 'T Spec', { clientIdentity: 'tspec-client' }));
  await gk.addCustomer({ id: 'C1', name: 'Customer C1', phones: [CALLER], emails: [], needs: [] });
  await gk.store.restrictions.create(
    activeRestriction('R1', 'C1', [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] }], { singlePointOfContact: 'tspec' }),
  );
});

afterAll(async () => {
  await gk?.stop();
});

/** A call, posted to the running gateway exactly as Twilio would (signed against PUBLIC_URL). */
async function call(): Promise<string> {
  const params = { CallSid: newCallSid(), From: CALLER, To: '+441632960000' };
  const url = `${gk.url}/voice/incoming`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
  return res.text();
}

it('honours an exception arranged through the staff API, shows it to agents, and drops it when it expires', async () => {
  const before = parseTwiml(await call());
  expect(verbs(before)).toEqual(['Gather', 'Say', 'Hangup']);
  expect(before.children[0]?.children[0]?.text).toBe(emergencySentence());

  const res = await fetch(`${gk.url}/v1/restrictions/R1/exceptions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${specialistToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel: 'voice', from: '2025-11-24T14:30:00Z', until: '2025-11-24T16:00:00Z', note: 'Call back arranged about the boiler' }),
  });
  expect(res.status).toBe(201);

  const during = parseTwiml(await call());
  expect(verbs(during)).toEqual(['Dial']);
  expect(allNodes(during).find((n) => n.name === 'Client')?.text).toBe('tspec-client');

  const flags = await fetch(`${gk.url}/v1/customers/C1/flags`, { headers: { Authorization: `Bearer ${specialistToken}` } });
  expect(JSON.stringify(await flags.json())).toMatch(/One-off exception: voice to T Spec/);

  // The evidence is written just after the answer: wait for it.
  const exceptionAudit = async () => (await gk.store.audit.latest(100)).filter((r) => r.actor === 'twilio' && r.details?.exceptionId !== undefined);
  for (let i = 0; i < 100 && (await exceptionAudit()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await exceptionAudit()).toEqual([expect.objectContaining({ action: 'call.decided', details: expect.objectContaining({ routeTo: 'tspec', restrictionId: 'R1' }) })]);

  clock = new Date('2025-11-24T16:00:00Z');
  const after = parseTwiml(await call());
  expect(verbs(after)).toEqual(['Gather', 'Say', 'Hangup']);
});
