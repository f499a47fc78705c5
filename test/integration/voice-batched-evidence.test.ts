/**
 * Evidence of calls decided together is written together (channels/voice/call-recorder.ts), over a real
 * redis-server with real signed requests: a burst of calls — restricted, unrestricted and unknown callers,
 * with a retried CallSid among them — leaves exactly one contact record and one audit entry per call,
 * a screen-pop for each flagged one, and a session every later webhook can read.
 */
import type { StoredContact } from '../../store';
import { DEFAULT_NUMBER, VoiceHarness, activeRestriction, signedPost, staff, type VoiceApp } from './voice-harness';
import { newCallSid } from './voice-support';

const RESTRICTED = '+447700900301';
const FREE = '+447700900302';
const UNKNOWN = '+447700900399';

let h: VoiceHarness;
let dial: VoiceApp;

beforeAll(async () => {
  h = await VoiceHarness.start();
  await h.store.staff.put(staff('jsmith', 'J Smith', { clientIdentity: 'jsmith-client' }));
  await h.store.customers.put({ id: 'K1', name: 'Customer K1', phones: [RESTRICTED], emails: [], needs: [] });
  await h.store.customers.put({ id: 'K2', name: 'Customer K2', phones: [FREE], emails: [], needs: [] });
  await h.store.restrictions.create(activeRestriction('RK1', 'K1', [{ type: 'written-only', channels: ['letter', 'email'] }]));
  dial = h.app();
  h.clock = new Date('2025-11-24T15:00:00Z');
});

afterAll(async () => {
  await h?.stop();
});

function incoming(from: string, callSid: string) {
  return signedPost(dial.app, '/voice/incoming', { CallSid: callSid, From: from, To: DEFAULT_NUMBER, CallStatus: 'ringing', AccountSid: 'AC0' });
}

it('records a burst of calls once each, with screen-pops for the flagged callers', async () => {
  const calls = Array.from({ length: 30 }, (_, i) => ({ callSid: newCallSid(), from: [RESTRICTED, FREE, UNKNOWN][i % 3] as string }));
  const retried = calls[0] as { callSid: string; from: string };
  const eventsBefore = h.events.length;

  const answers = await Promise.all([...calls, retried].map((c) => incoming(c.from, c.callSid)));
  for (const a of answers) expect(a.status).toBe(200);
  expect(answers[answers.length - 1]?.text).toBe(answers[0]?.text);
  await dial.background.idle();
  expect(dial.failures).toEqual([]);

  const audit = await h.store.audit.latest(1000);
  const histories: Record<string, StoredContact[]> = {
    [RESTRICTED]: await h.store.contacts.list('K1', 1000),
    [FREE]: await h.store.contacts.list('K2', 1000),
    [UNKNOWN]: await h.store.contacts.list(undefined, 1000),
  };
  for (const call of calls) {
    expect(audit.filter((r) => r.entityId === call.callSid)).toHaveLength(1);
    const recorded = (histories[call.from] ?? []).filter((c) => c.id === call.callSid);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.from).toBe(call.from);
    expect(await h.lookupConnection.exists(`gk:voice-call:${call.callSid}`)).toBe(1);
  }
  expect(histories[RESTRICTED]?.every((c) => c.outcome === 'deflect' && c.breach === true)).toBe(true);

  const flagged = calls.filter((c) => c.from === RESTRICTED).map((c) => c.callSid);
  await h.eventsArrived(eventsBefore + flagged.length);
  const pops = h.events.slice(eventsBefore).map((e) => e.contactId);
  expect(pops.sort()).toEqual([...flagged].sort());
});
