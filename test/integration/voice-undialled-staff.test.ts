/**
 * A call the rules route to someone the gate cannot dial — a named contact, or whoever arranged a one-off
 * exception, with neither a phone number nor a Twilio Client identity — is still answered, with the default
 * route, and it does not go unnoticed: a warning is logged (ids only, never the caller's number) and
 * `gatekeeper_voice_named_contact_unreachable_total` counts it. On a TaskRouter route the named contact is a
 * worker found by TaskRouter, not dialled, so nothing is reported there.
 * A real redis-server, the real store and webhooks, requests signed by the twilio library.
 */
import { registry } from '../../gateway/metrics';
import { DEFAULT_NUMBER, VoiceHarness, WORKFLOW_SID, activeRestriction, signedPost, staff, type VoiceApp } from './voice-harness';
import { allNodes, newCallSid, parseTwiml, verbs, type TwimlNode } from './voice-support';

const PHONES = {
  ghostly: '+447700900401', // named contact with no phone or client identity, and no deputy
  deputised: '+447700900404', // named contact with neither, whose deputy has a phone
  excepted: '+447700900402', // an exception arranged by someone with neither
  reachable: '+447700900403', // named contact with a client identity
};

let h: VoiceHarness;
let dial: VoiceApp;

beforeAll(async () => {
  h = await VoiceHarness.start();
  const s = h.store;
  await s.staff.put(staff('ghost', 'G Host'));
  await s.staff.put(staff('tess', 'T Ess'));
  await s.staff.put(staff('akhan', 'A Khan', { phone: '+447700900902' }));
  await s.staff.put(staff('jsmith', 'J Smith', { clientIdentity: 'jsmith-client' }));
  const customer = (id: string, phone: string) => ({ id, name: `Customer ${id}`, phones: [phone], emails: [], needs: [] });
  await s.customers.put(customer('C1', PHONES.ghostly));
  await s.customers.put(customer('C2', PHONES.excepted));
  await s.customers.put(customer('C3', PHONES.reachable));
  await s.customers.put(customer('C4', PHONES.deputised));
  await s.restrictions.create(activeRestriction('R1', 'C1', [{ type: 'named-contact', staffId: 'ghost' }]));
  await s.restrictions.create(activeRestriction('R4', 'C4', [{ type: 'named-contact', staffId: 'ghost', deputyId: 'akhan' }]));
  await s.restrictions.create(
    activeRestriction('R2', 'C2', [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] }], {
      exceptions: [{ id: 'X1', channel: 'voice', from: '2025-11-24T14:00:00Z', until: '2025-11-24T17:00:00Z', note: 'Call back', staffId: 'tess', createdAt: '2025-11-24T13:00:00Z' }],
    }),
  );
  await s.restrictions.create(activeRestriction('R3', 'C3', [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }]));
  dial = h.app();
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  h.clock = new Date('2025-11-24T15:00:00Z'); // Monday 3pm: R2's window is shut, its exception open
});

async function call(app: VoiceApp, from: string, callSid = newCallSid()): Promise<TwimlNode> {
  const res = await signedPost(app.app, '/voice/incoming', { CallSid: callSid, From: from, To: DEFAULT_NUMBER, CallStatus: 'ringing', AccountSid: 'AC0' });
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/xml');
  return parseTwiml(res.text);
}

/** The counter's value for one routing, as `/metrics` reports it (0 before its first increment). */
async function unreachable(routing: 'named-contact' | 'exception'): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`gatekeeper_voice_named_contact_unreachable_total{routing="${routing}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

function expectDefaultRoute(t: TwimlNode): void {
  expect(verbs(t)).toEqual(['Dial']);
  expect(t.children[0]?.text).toBe(DEFAULT_NUMBER);
  expect(allNodes(t).map((n) => n.name)).not.toContain('Client');
}

describe('a named contact who cannot be dialled', () => {
  it('leaves the call answered with the default route, logged by id and counted once per call', async () => {
    const before = await unreachable('named-contact');
    const lines = dial.logger.lines.length;
    const sid = newCallSid();
    expectDefaultRoute(await call(dial, PHONES.ghostly, sid));
    expect(await unreachable('named-contact')).toBe(before + 1);

    const logged = dial.logger.lines.slice(lines);
    expect(logged).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('no phone or client identity'),
        meta: { callSid: sid, customerId: 'C1', restrictionId: 'R1', staffId: 'ghost', routing: 'named-contact', sentTo: 'default-route' },
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain('7700900401');

    // Twilio retries the webhook: the same answer, and the call is not counted twice.
    expectDefaultRoute(await call(dial, PHONES.ghostly, sid));
    expect(await unreachable('named-contact')).toBe(before + 1);
    await dial.background.idle();
  });

  it('is stood in for by a deputy who can be dialled, then their own voicemail; still logged and counted', async () => {
    const before = await unreachable('named-contact');
    const lines = dial.logger.lines.length;
    const sid = newCallSid();
    const t = await call(dial, PHONES.deputised, sid);
    expect(verbs(t)).toEqual(['Dial']);
    expect(allNodes(t).find((n) => n.name === 'Number')?.text).toBe('+447700900902');
    expect(t.children[0]?.attrs.action).toContain('step=deputy');
    expect(await unreachable('named-contact')).toBe(before + 1);
    expect(dial.logger.lines.slice(lines)).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('sent to the deputy'),
        meta: { callSid: sid, customerId: 'C4', restrictionId: 'R4', staffId: 'ghost', routing: 'named-contact', sentTo: 'deputy' },
      },
    ]);
    // The deputy does not answer: the named contact's voicemail, as when both are dialled.
    const res = await signedPost(dial.app, '/voice/status?step=deputy&staff=ghost', { CallSid: sid, DialCallStatus: 'no-answer', AccountSid: 'AC0' });
    expect(res.status).toBe(200);
    const after = parseTwiml(res.text);
    expect(verbs(after)).toEqual(['Gather', 'Say', 'Record', 'Say', 'Hangup']);
    expect(after.children[1]?.text).toContain('G Host');
    await dial.background.idle();
  });

  it('is not reported on a TaskRouter route, where the named contact is a known worker and not dialled', async () => {
    const enqueue = h.app({ route: { kind: 'enqueue', workflowSid: WORKFLOW_SID } });
    const before = await unreachable('named-contact');
    const t = await call(enqueue, PHONES.ghostly);
    expect(verbs(t)).toEqual(['Enqueue']);
    const task = JSON.parse(allNodes(t).find((n) => n.name === 'Task')?.text ?? '{}') as Record<string, unknown>;
    expect(task.knownWorker).toBe('ghost');
    expect(await unreachable('named-contact')).toBe(before);
    expect(enqueue.logger.lines).toEqual([]);
    await enqueue.background.idle();
  });
});

describe('a one-off exception arranged by someone who cannot be dialled', () => {
  it('leaves the call answered with the default route, logged with the exception and counted', async () => {
    const before = await unreachable('exception');
    const lines = dial.logger.lines.length;
    const sid = newCallSid();
    expectDefaultRoute(await call(dial, PHONES.excepted, sid));
    expect(await unreachable('exception')).toBe(before + 1);
    expect(dial.logger.lines.slice(lines)).toEqual([
      {
        level: 'warn',
        message: expect.any(String),
        meta: { callSid: sid, customerId: 'C2', restrictionId: 'R2', staffId: 'tess', routing: 'exception', exceptionId: 'X1', sentTo: 'default-route' },
      },
    ]);
    await dial.background.idle();
  });
});

describe('a named contact who can be dialled', () => {
  it('is dialled, and nothing is logged or counted', async () => {
    const before = [await unreachable('named-contact'), await unreachable('exception')];
    const lines = dial.logger.lines.length;
    const t = await call(dial, PHONES.reachable);
    expect(verbs(t)).toEqual(['Dial']);
    expect(allNodes(t).find((n) => n.name === 'Client')?.text).toBe('jsmith-client');
    expect([await unreachable('named-contact'), await unreachable('exception')]).toEqual(before);
    expect(dial.logger.lines.slice(lines)).toEqual([]);
    await dial.background.idle();
  });
});
