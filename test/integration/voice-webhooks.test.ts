/**
 * The voice webhooks end to end: a real redis-server holding real customers, staff and restrictions
 * written by the store; requests signed by the twilio library; TwiML read back with an XML parser.
 */
import { addException } from '../../rules/lifecycle';
import type { Staff } from '../../rules/types';
import type { StoredContact } from '../../store';
import {
  AUTH_TOKEN,
  DEFAULT_NUMBER,
  EMERGENCY_NUMBER,
  PUBLIC_URL,
  VoiceHarness,
  WORKFLOW_SID,
  activeRestriction,
  signedPost,
  staff,
  type VoiceApp,
} from './voice-harness';
import { allNodes, emergencySentence, newCallSid, parseTwiml, sign, verbs, type TwimlNode } from './voice-support';

const PHONES = {
  free: '+447700900100',
  times: '+447700900101',
  written: '+447700900102',
  shared: '+447700900103',
  named: '+447700900104',
  mondays: '+447700900105',
  unknown: '+447700900199',
};

/** Tuesday and Thursday 10:00–12:00, named contact J Smith with deputy A Khan. */
const TIMES_MEASURES = [
  { type: 'call-times' as const, windows: [{ days: ['tue' as const, 'thu' as const], start: '10:00', end: '12:00' }] },
  { type: 'named-contact' as const, staffId: 'jsmith', deputyId: 'akhan' },
];

let h: VoiceHarness;
let dial: VoiceApp;
let tspec: Staff;

beforeAll(async () => {
  h = await VoiceHarness.start();
  const s = h.store;
  await s.staff.put(staff('jsmith', 'J Smith', { clientIdentity: 'jsmith-client', phone: '+447700900901' }));
  await s.staff.put(staff('akhan', 'A Khan', { phone: '+447700900902' }));
  tspec = await s.staff.put(staff('tspec', 'T Spec', { clientIdentity: 'tspec-client' }));

  const customer = (id: string, phones: string[]) => ({ id, name: `Customer ${id}`, phones, emails: [], needs: [] });
  await s.customers.put(customer('C1', [PHONES.free]));
  await s.customers.put(customer('C2', ['07700 900101'])); // stored in national form: the caller presents E.164
  await s.customers.put(customer('C3', [PHONES.written]));
  await s.customers.put(customer('C4', [PHONES.shared]));
  await s.customers.put(customer('C5', [PHONES.shared]));
  await s.customers.put(customer('C6', [PHONES.named]));
  await s.customers.put(customer('C7', [PHONES.mondays]));

  await s.restrictions.create(activeRestriction('R2', 'C2', TIMES_MEASURES));
  await s.restrictions.create(activeRestriction('R3', 'C3', [{ type: 'written-only', channels: ['letter', 'email'] }]));
  await s.restrictions.create(activeRestriction('R6', 'C6', [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }]));
  await s.restrictions.create(
    activeRestriction('R7', 'C7', [{ type: 'call-times', windows: [{ days: ['mon'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' }]),
  );
  dial = h.app();
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  h.clock = new Date('2025-11-24T15:00:00Z'); // Monday 24 November 2025, 3pm GMT
});

function incoming(app: VoiceApp, from: string, callSid = newCallSid()) {
  return signedPost(app.app, '/voice/incoming', { CallSid: callSid, From: from, To: DEFAULT_NUMBER, CallStatus: 'ringing', AccountSid: 'AC0' });
}

async function twimlOf(res: { status: number; type: string; text: string }): Promise<TwimlNode> {
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/xml');
  return parseTwiml(res.text);
}

async function contactOf(customerId: string | undefined, callSid: string): Promise<StoredContact | undefined> {
  return h.store.contacts.get(customerId, callSid);
}

async function auditFor(callSid: string) {
  return (await h.store.audit.latest(1000)).filter((r) => r.entityId === callSid);
}

function expectNoReject(t: TwimlNode): void {
  expect(allNodes(t).map((n) => n.name)).not.toContain('Reject');
}

describe('signatures', () => {
  const params = { CallSid: 'CA00000000000000000000000000000001', From: PHONES.free, To: DEFAULT_NUMBER };

  it('refuses a request without X-Twilio-Signature with 400 and no TwiML', async () => {
    const res = await (await import('supertest')).default(dial.app).post('/voice/incoming').type('form').send(params);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'missing-signature', message: expect.any(String) } });
    expect(res.text).not.toContain('<Response');
  });

  it('refuses a tampered parameter with 403 and no TwiML', async () => {
    const res = await signedPost(dial.app, '/voice/incoming', params, { sentParams: { ...params, From: PHONES.unknown } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('invalid-signature');
    expect(res.text).not.toContain('<Response');
  });

  it('refuses a signature made for another URL (path, host or scheme)', async () => {
    for (const url of [`${PUBLIC_URL}/voice/status`, 'https://evil.example.org/voice/incoming', 'http://gk.example.org/voice/incoming']) {
      const res = await signedPost(dial.app, '/voice/incoming', params, { signature: sign(AUTH_TOKEN, url, params) });
      expect(res.status).toBe(403);
    }
  });

  it('signs the query string: accepted with it, refused when the signature left it out', async () => {
    const gather = { ...params, Digits: '2' };
    const ok = await signedPost(dial.app, '/voice/gather?then=route', gather);
    expect(ok.status).toBe(200);
    const bare = await signedPost(dial.app, '/voice/gather?then=route', gather, { signature: sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/gather`, gather) });
    expect(bare.status).toBe(403);
  });

  it('validates behind a TLS-terminating proxy: Twilio signed https://public, the app is reached over http on an internal host', async () => {
    const res = await signedPost(dial.app, '/voice/incoming', { ...params, CallSid: newCallSid() }, {
      headers: { Host: 'gatekeeper.internal:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'gk.example.org' },
    });
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml');
  });

  it('validates under a PUBLIC_URL path prefix that the proxy strips', async () => {
    const prefixed = h.app({ publicUrl: 'https://example.org/gatekeeper' });
    const p = { ...params, CallSid: newCallSid() };
    const res = await signedPost(prefixed.app, '/voice/incoming', p, { publicUrl: 'https://example.org/gatekeeper' });
    expect(res.status).toBe(200);
    const wrong = await signedPost(prefixed.app, '/voice/incoming', p);
    expect(wrong.status).toBe(403);
    await prefixed.background.idle();
  });
});

describe('callers without a restriction', () => {
  it('an unrestricted customer takes the default route; the call is recorded, with no screen-pop', async () => {
    const sid = newCallSid();
    const before = h.events.length;
    const t = await twimlOf(await incoming(dial, PHONES.free, sid));
    expect(verbs(t)).toEqual(['Dial']);
    expect(t.children[0]?.text).toBe(DEFAULT_NUMBER);
    await dial.background.idle();
    expect(await contactOf('C1', sid)).toMatchObject({ id: sid, channel: 'voice', from: PHONES.free, outcome: 'proceed', reasons: ['no-restriction'] });
    expect(await auditFor(sid)).toHaveLength(1);
    await h.eventsArrived(before + 1);
    expect(h.events.filter((e) => e.contactId === sid)).toHaveLength(0);
  });

  it('an unknown number and withheld caller IDs take the default route, recorded as unidentified', async () => {
    for (const from of [PHONES.unknown, 'anonymous', '+266696687', '']) {
      const sid = newCallSid();
      const t = await twimlOf(await incoming(dial, from, sid));
      expect(verbs(t)).toEqual(['Dial']);
      await dial.background.idle();
      const contact = await contactOf(undefined, sid);
      expect(contact).toMatchObject({ outcome: 'proceed', reasons: ['unidentified'] });
      if (from !== PHONES.unknown) expect(contact?.from).toBeUndefined();
    }
  });

  it('a number shared by two customers takes the default route, flagged for agents by a screen-pop', async () => {
    const sid = newCallSid();
    const tq = h.app({ route: { kind: 'enqueue', workflowSid: WORKFLOW_SID } });
    const t = await twimlOf(await incoming(tq, PHONES.shared, sid));
    expect(verbs(t)).toEqual(['Enqueue']);
    const task = JSON.parse(allNodes(t).find((n) => n.name === 'Task')?.text ?? '{}') as Record<string, unknown>;
    expect(task.reasons).toEqual(['ambiguous-identity']);
    expect(String((task.agentFlags as string[])[0])).toMatch(/2 customers/);
    await tq.background.idle();
    await h.eventsArrived(h.events.length + 1);
    const pop = h.events.find((e) => e.contactId === sid);
    expect(pop).toMatchObject({ type: 'screen-pop', channel: 'voice', outcome: 'proceed', reasons: ['ambiguous-identity'] });
    expect(JSON.stringify(pop)).not.toContain('7700900103');
    expect(await contactOf(undefined, sid)).toMatchObject({ reasons: ['ambiguous-identity'] });
  });
});

describe('a restricted caller outside their window', () => {
  it('is answered, never rejected: the emergency offer first, then the next day and time, then goodbye', async () => {
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.times, sid));
    expectNoReject(t);
    expect(verbs(t)).toEqual(['Gather', 'Say', 'Hangup']);
    const gather = t.children[0] as TwimlNode;
    expect(gather.attrs).toMatchObject({ numDigits: '1', action: '/voice/gather' });
    expect(gather.children[0]?.name).toBe('Say');
    expect(gather.children[0]?.text).toBe(emergencySentence());
    expect(t.children[1]?.text).toContain('Tuesday 25 November between 10am and 12 noon');
  });

  it('is recorded as a breach of the restriction, audited, and popped to agents', async () => {
    const sid = newCallSid();
    await incoming(dial, PHONES.times, sid);
    await dial.background.idle();
    expect(await contactOf('C2', sid)).toMatchObject({
      outcome: 'deflect',
      reasons: ['outside-call-times'],
      restrictionId: 'R2',
      breach: true,
      from: PHONES.times,
    });
    expect(await h.store.contacts.breachCount('C2', 'R2', '2025-11-01T00:00:00Z')).toBeGreaterThanOrEqual(1);
    const audit = await auditFor(sid);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'twilio', action: 'call.deflected', entity: 'contact' });
    expect(audit[0]?.details).toMatchObject({ restrictionId: 'R2', breach: true, nextAllowedAt: '2025-11-25T10:00:00Z' });
    expect(JSON.stringify(audit)).not.toContain('77009001');
    await h.eventsArrived(1);
    for (let i = 0; i < 100 && !h.events.some((e) => e.contactId === sid); i++) await new Promise((r) => setTimeout(r, 10));
    const pop = h.events.find((e) => e.contactId === sid);
    expect(pop).toMatchObject({ customerId: 'C2', restrictionId: 'R2', outcome: 'deflect', reasons: ['outside-call-times'] });
    expect((pop?.agentFlags as string[]).join(' ')).toMatch(/Calls Tue & Thu 10:00–12:00 only/);
  });

  it('who presses the emergency digit reaches EMERGENCY_NUMBER; the call becomes an emergency, no longer a breach, audited once', async () => {
    const sid = newCallSid();
    const breaches = (): Promise<number> => h.store.contacts.breachCount('C2', 'R2', '2000-01-01T00:00:00Z');
    // Earlier tests' calls are still being recorded in the background: count from when they are written.
    await dial.background.idle();
    const before = await breaches();
    await incoming(dial, PHONES.times, sid);
    await dial.background.idle();
    expect(await breaches()).toBe(before + 1);
    const press = { CallSid: sid, From: PHONES.times, To: DEFAULT_NUMBER, Digits: '1' };
    const first = await signedPost(dial.app, '/voice/gather', press);
    const retry = await signedPost(dial.app, '/voice/gather', press);
    expect(retry.text).toBe(first.text);
    const t = await twimlOf(first);
    expect(allNodes(t).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
    await dial.background.idle();
    expect(await contactOf('C2', sid)).toMatchObject({ outcome: 'emergency', restrictionId: 'R2', reasons: ['emergency'], breach: false });
    expect(await breaches()).toBe(before);
    const audit = await auditFor(sid);
    expect(audit.filter((r) => r.action === 'call.emergency')).toHaveLength(1);
  });

  it('who presses another key hears the same answer again, offer first, with no second record', async () => {
    const sid = newCallSid();
    const original = (await incoming(dial, PHONES.times, sid)).text;
    const other = await twimlOf(await signedPost(dial.app, '/voice/gather', { CallSid: sid, From: PHONES.times, Digits: '5' }));
    expect(verbs(other)).toEqual(['Say', 'Redirect']);
    expect(other.children[1]?.text).toBe('/voice/incoming');
    // Twilio follows the redirect with the call's parameters.
    const again = await incoming(dial, PHONES.times, sid);
    expect(again.text).toBe(original);
    await dial.background.idle();
    expect((await auditFor(sid)).filter((r) => r.action === 'call.deflected')).toHaveLength(1);
  });

  it('a written-only customer is told how to write to us', async () => {
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.written, sid));
    expect(verbs(t)).toEqual(['Gather', 'Say', 'Hangup']);
    expect(t.children[0]?.children[0]?.text).toBe(emergencySentence());
    expect(t.children[1]?.text).toMatch(/in writing: email us at housing@example\.org, or write to us at Customer Relations/);
    await dial.background.idle();
    expect(await contactOf('C3', sid)).toMatchObject({ outcome: 'deflect', reasons: ['written-only'], breach: true });
  });

  it('hears the configured emergency digit', async () => {
    const nine = h.app({ emergencyDigit: '9' });
    const t = await twimlOf(await incoming(nine, PHONES.times));
    expect(t.children[0]?.children[0]?.text).toBe(emergencySentence('9'));
    const press = await twimlOf(await signedPost(nine.app, '/voice/gather', { CallSid: newCallSid(), From: PHONES.times, Digits: '9' }));
    expect(allNodes(press).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
    await nine.background.idle();
  });
});

describe('next permitted time, in plain English', () => {
  it('across the autumn clock change: Saturday BST → Tuesday 10am GMT', async () => {
    h.clock = new Date('2025-10-25T14:00:00Z'); // Saturday 25 October 2025, 3pm BST; clocks go back on the 26th
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.times, sid));
    expect(t.children[1]?.text).toContain('Tuesday 28 October between 10am and 12 noon');
    await dial.background.idle();
    expect((await auditFor(sid))[0]?.details).toMatchObject({ nextAllowedAt: '2025-10-28T10:00:00Z' });
  });

  it('across the spring clock change: Saturday GMT → Tuesday 10am BST', async () => {
    h.clock = new Date('2026-03-28T12:00:00Z'); // Saturday 28 March 2026; clocks go forward on the 29th
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.times, sid));
    expect(t.children[1]?.text).toContain('Tuesday 31 March between 10am and 12 noon');
    await dial.background.idle();
    expect((await auditFor(sid))[0]?.details).toMatchObject({ nextAllowedAt: '2026-03-31T09:00:00Z' });
  });

  it('on a bank holiday inside the window: closed, and the next Monday is named', async () => {
    h.clock = new Date('2025-08-25T09:30:00Z'); // Monday 25 August 2025 (summer bank holiday), 10:30 BST
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.mondays, sid));
    expectNoReject(t);
    expect(verbs(t)).toEqual(['Gather', 'Say', 'Hangup']);
    expect(t.children[1]?.text).toContain('Monday 1 September between 10am and 12 noon');
    await dial.background.idle();
    expect(await contactOf('C7', sid)).toMatchObject({ outcome: 'deflect', reasons: ['bank-holiday'], breach: true });
  });

  it('the same Monday window is open on an ordinary Monday', async () => {
    h.clock = new Date('2025-09-01T09:30:00Z');
    const t = await twimlOf(await incoming(dial, PHONES.mondays));
    expect(verbs(t)).toEqual(['Dial']);
    expect(t.children[0]?.text).toBe(DEFAULT_NUMBER);
  });
});

describe('a restricted caller inside their window', () => {
  beforeEach(() => {
    h.clock = new Date('2025-11-25T10:30:00Z'); // Tuesday 25 November 2025, 10:30 GMT
  });

  it('is put through to the named contact, then the deputy, then voicemail; each step is recorded', async () => {
    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.times, sid));
    expect(verbs(t)).toEqual(['Dial']);
    expect(allNodes(t).find((n) => n.name === 'Client')?.text).toBe('jsmith-client');
    const namedAction = t.children[0]?.attrs.action ?? '';
    expect(namedAction).toBe('/voice/status?step=named&staff=jsmith');

    const leg = { CallSid: sid, From: PHONES.times, CallStatus: 'in-progress' };
    const deputy = await twimlOf(await signedPost(dial.app, namedAction, { ...leg, DialCallStatus: 'no-answer' }));
    expect(allNodes(deputy).find((n) => n.name === 'Number')?.text).toBe('+447700900902');
    const deputyAction = deputy.children[0]?.attrs.action ?? '';

    const voicemail = await twimlOf(await signedPost(dial.app, deputyAction, { ...leg, DialCallStatus: 'busy' }));
    expect(verbs(voicemail)).toEqual(['Gather', 'Say', 'Record', 'Say', 'Hangup']);
    expect(voicemail.children[1]?.text).toContain('J Smith');

    // The emergency offer comes first: the digit reaches the emergency line; another key, the voicemail alone.
    const offerAction = voicemail.children[0]?.attrs.action ?? '';
    // (The digit on another call, so that this call's record stays a voicemail for what follows.)
    const emergency = await twimlOf(await signedPost(dial.app, offerAction, { CallSid: newCallSid(), From: '+447700900999', CallStatus: 'in-progress', Digits: '1' }));
    expect(allNodes(emergency).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
    const onward = await twimlOf(await signedPost(dial.app, offerAction, { ...leg, Digits: '5' }));
    expect(verbs(onward)).toEqual(['Say', 'Record', 'Say', 'Hangup']);
    expect(onward.children[1]?.attrs.action).toBe('/voice/status?step=voicemail&staff=jsmith');

    const recorded = await twimlOf(
      await signedPost(dial.app, voicemail.children[2]?.attrs.action ?? '', { ...leg, RecordingSid: 'RE123', RecordingDuration: '17' }),
    );
    expect(verbs(recorded)).toEqual(['Say', 'Hangup']);

    await signedPost(dial.app, '/voice/status', { CallSid: sid, From: PHONES.times, CallStatus: 'completed', CallDuration: '65' });
    await dial.background.idle();
    const contact = await contactOf('C2', sid);
    expect(contact).toMatchObject({ outcome: 'proceed', reasons: ['named-contact'], routeTo: 'jsmith', breach: false, status: 'completed' });
    expect(contact?.details).toMatchObject({ voicemailFor: 'jsmith', recordingSid: 'RE123', durationSeconds: 65 });
    const actions = (await auditFor(sid)).map((r) => r.action).sort();
    expect(actions).toEqual(['call.decided', 'call.dial-deputy', 'call.dial-named', 'call.status-completed', 'call.voicemail'].sort());
  });

  it('records who answered and how long the call took', async () => {
    const sid = newCallSid();
    await incoming(dial, PHONES.named, sid);
    const done = await twimlOf(
      await signedPost(dial.app, '/voice/status?step=named&staff=jsmith', { CallSid: sid, DialCallStatus: 'completed', DialCallDuration: '40' }),
    );
    expect(verbs(done)).toEqual(['Hangup']);
    await dial.background.idle();
    const status = await signedPost(dial.app, '/voice/status', { CallSid: sid, CallStatus: 'completed', CallDuration: '48' });
    expect(status.status).toBe(200);
    await dial.background.idle();
    expect((await contactOf('C6', sid))?.details).toMatchObject({ answeredBy: 'jsmith', talkSeconds: 40, durationSeconds: 48 });
  });

  it('with TaskRouter, is enqueued with the flags, restriction, review date and the named worker', async () => {
    const tq = h.app({ route: { kind: 'enqueue', workflowSid: WORKFLOW_SID } });
    const sid = newCallSid();
    const t = await twimlOf(await incoming(tq, PHONES.times, sid));
    expect(verbs(t)).toEqual(['Enqueue']);
    expect(t.children[0]?.attrs.workflowSid).toBe(WORKFLOW_SID);
    const task = JSON.parse(allNodes(t).find((n) => n.name === 'Task')?.text ?? '{}') as Record<string, unknown>;
    expect(task).toMatchObject({
      customerId: 'C2',
      restrictionId: 'R2',
      reviewAt: '2026-06-30T00:00:00.000Z',
      routeTo: 'jsmith',
      knownWorker: 'jsmith-client',
      namedContact: { id: 'jsmith', name: 'J Smith' },
      deputy: { id: 'akhan', name: 'A Khan' },
    });
    expect(task.agentFlags).toEqual(expect.arrayContaining(['Named contact: J Smith', 'Deputy for J Smith: A Khan']));
    expect(JSON.stringify(task)).not.toContain('77009001');
    await tq.background.idle();
  });

  it('with a redirect route and no named contact, is redirected', async () => {
    const redirect = h.app({ route: { kind: 'redirect', url: 'https://ivr.example.org/twiml' } });
    const t = await twimlOf(await incoming(redirect, PHONES.free));
    expect(verbs(t)).toEqual(['Redirect']);
    expect(t.children[0]?.text).toBe('https://ivr.example.org/twiml');
    await redirect.background.idle();
  });
});

describe('retried webhooks', () => {
  it('the same CallSid gets the same TwiML and one record, even after the window has opened', async () => {
    const sid = newCallSid();
    const first = await incoming(dial, PHONES.times, sid);
    h.clock = new Date('2025-11-25T10:30:00Z'); // inside the window now: a fresh decision would differ
    const retries = await Promise.all([1, 2, 3].map(() => incoming(dial, PHONES.times, sid)));
    for (const r of retries) expect(r.text).toBe(first.text);
    await dial.background.idle();
    expect(await auditFor(sid)).toHaveLength(1);
    expect(await h.store.contacts.list('C2', 1000)).toEqual(expect.arrayContaining([expect.objectContaining({ id: sid })]));
    expect((await h.store.contacts.list('C2', 1000)).filter((c) => c.id === sid)).toHaveLength(1);
  });

  it('concurrent first deliveries of one CallSid agree on one answer', async () => {
    const sid = newCallSid();
    const answers = await Promise.all([1, 2, 3, 4].map(() => incoming(dial, PHONES.free, sid)));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    await dial.background.idle();
    expect(await auditFor(sid)).toHaveLength(1);
  });
});

describe('one-off exceptions', () => {
  it('lets a restricted caller through to the specialist who arranged it until it expires, shown to agents', async () => {
    h.clock = new Date('2025-11-24T15:00:00Z'); // outside the window
    const before = await twimlOf(await incoming(dial, PHONES.times));
    expect(verbs(before)).toEqual(['Gather', 'Say', 'Hangup']);

    const r2 = await h.store.restrictions.get('R2');
    if (!r2) throw new Error('R2 missing');
    const withException = addException(
      r2,
      { channel: 'voice', from: '2025-11-24T14:00:00Z', until: '2025-11-24T17:00:00Z', note: 'Call back arranged about the repair' },
      { actor: tspec, now: h.clock, id: 'X1' },
    );
    await h.store.restrictions.save(withException, r2.history.length);

    const sid = newCallSid();
    const t = await twimlOf(await incoming(dial, PHONES.times, sid));
    expect(verbs(t)).toEqual(['Dial']);
    expect(allNodes(t).find((n) => n.name === 'Client')?.text).toBe('tspec-client');
    await dial.background.idle();
    expect(await contactOf('C2', sid)).toMatchObject({ outcome: 'proceed', routeTo: 'tspec', breach: false, details: { exceptionId: 'X1' } });
    expect((await auditFor(sid))[0]?.details).toMatchObject({ exceptionId: 'X1', routeTo: 'tspec' });
    for (let i = 0; i < 100 && !h.events.some((e) => e.contactId === sid); i++) await new Promise((r) => setTimeout(r, 10));
    const pop = h.events.find((e) => e.contactId === sid);
    expect(pop).toMatchObject({ exceptionId: 'X1', routeTo: 'tspec' });
    expect((pop?.agentFlags as string[]).join(' ')).toMatch(/One-off exception: voice to T Spec until/);

    h.clock = new Date('2025-11-24T17:00:00Z'); // `until` is exclusive
    const after = await twimlOf(await incoming(dial, PHONES.times));
    expect(verbs(after)).toEqual(['Gather', 'Say', 'Hangup']);
  });
});

describe('Twilio fallback URL and unusable requests', () => {
  it('/voice/fallback answers statically: the emergency offer, then the default route', async () => {
    const t = await twimlOf(await signedPost(dial.app, '/voice/fallback', { CallSid: newCallSid(), From: PHONES.times, ErrorCode: '11200' }));
    expect(verbs(t)).toEqual(['Gather', 'Dial']);
    expect(t.children[0]?.children[0]?.text).toBe(emergencySentence());
    expect(t.children[1]?.text).toBe(DEFAULT_NUMBER);
  });

  it('a signed request with unusable parameters still gets the safe TwiML, never an error', async () => {
    const t = await twimlOf(await signedPost(dial.app, '/voice/incoming', { From: PHONES.times }));
    expect(verbs(t)).toEqual(['Gather', 'Dial']);
    const press = await twimlOf(await signedPost(dial.app, '/voice/gather', { Digits: '1', CallSid: 'bad sid!' }));
    expect(allNodes(press).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
  });

  it('a status callback without a CallSid is refused with 400 invalid-params', async () => {
    const res = await signedPost(dial.app, '/voice/status', { CallStatus: 'completed' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-params');
  });

  it('background recording never failed in this suite', async () => {
    await dial.background.idle();
    expect(dial.failures).toEqual([]);
  });
});
