/**
 * The voice webhooks when things go wrong: Redis stopped mid-test, Redis hanging past the lookup budget,
 * a bug in the rules. Every caller still gets 200 TwiML offering the emergency digit and reaching a person.
 */
import type { Redis } from 'ioredis';

import { closeConnection, createStoreConnection, waitUntilReady } from '../../store';
import { DEFAULT_NUMBER, EMERGENCY_NUMBER, VoiceHarness, WORKFLOW_SID, activeRestriction, signedPost, staff, type VoiceApp } from './voice-harness';
import { allNodes, emergencySentence, newCallSid, parseTwiml, verbs, type TwimlNode } from './voice-support';

const RESTRICTED = '+447700900201';

let h: VoiceHarness;
let tq: VoiceApp;

beforeAll(async () => {
  // Append-only so the data survives the restart; DEBUG allowed locally so a test can make Redis hang.
  h = await VoiceHarness.start(['--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'local']);
  await h.store.staff.put(staff('jsmith', 'J Smith', { clientIdentity: 'jsmith-client' }));
  await h.store.customers.put({ id: 'C1', name: 'Customer C1', phones: [RESTRICTED], emails: [], needs: [] });
  await h.store.restrictions.create(
    activeRestriction('R1', 'C1', [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] }]),
  );
  tq = h.app({ route: { kind: 'enqueue', workflowSid: WORKFLOW_SID } });
});

afterAll(async () => {
  await h?.stop();
});

function incoming(app: VoiceApp, callSid = newCallSid()) {
  return signedPost(app.app, '/voice/incoming', { CallSid: callSid, From: RESTRICTED, To: DEFAULT_NUMBER });
}

function parse(res: { status: number; type: string; text: string }): TwimlNode {
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/xml');
  return parseTwiml(res.text);
}

function taskOf(t: TwimlNode): Record<string, unknown> {
  return JSON.parse(allNodes(t).find((n) => n.name === 'Task')?.text ?? '{}') as Record<string, unknown>;
}

/** The answer when the restriction could not be checked: brief emergency offer, then the normal route, flagged. */
function expectUnchecked(t: TwimlNode): void {
  expect(verbs(t)).toEqual(['Gather', 'Enqueue']);
  expect(t.children[0]?.children[0]?.text).toBe(emergencySentence());
  expect(taskOf(t).reasons).toEqual(['restriction-check-unavailable']);
}

it('decides normally while Redis is up (the restricted caller is deflected)', async () => {
  const t = parse(await incoming(tq));
  expect(verbs(t)).toEqual(['Gather', 'Say', 'Hangup']);
});

it('when Redis hangs past the budget: the normal route with the emergency offer, flagged restriction-check-unavailable', async () => {
  const slowApp = h.app({ route: { kind: 'enqueue', workflowSid: WORKFLOW_SID }, budgetMs: 50 });
  const blocker = createStoreConnection({ kind: 'single', url: h.redis.url }) as Redis;
  await waitUntilReady(blocker);
  const sleeping = blocker.call('DEBUG', 'SLEEP', '1');
  await new Promise((r) => setTimeout(r, 50)); // let the server start sleeping
  const sid = newCallSid();
  expectUnchecked(parse(await incoming(slowApp, sid)));
  await sleeping;
  await closeConnection(blocker);
  await slowApp.background.idle();
  expect(slowApp.logger.lines.some((l) => l.meta?.code === 'budget-exceeded' && l.meta?.callSid === sid)).toBe(true);
  // Redis woke up: the evidence was still written, flagged.
  expect(await h.store.contacts.get(undefined, sid)).toMatchObject({ reasons: ['restriction-check-unavailable'] });
});

describe('with Redis stopped mid-test', () => {
  beforeAll(async () => {
    await h.redis.stop();
  });

  it('an incoming call still gets TwiML: the emergency offer, then the normal route, flagged', async () => {
    expectUnchecked(parse(await incoming(tq)));
  });

  it('a named-contact, dial-route deployment answers the same way', async () => {
    const dial = h.app();
    const t = parse(await incoming(dial));
    expect(verbs(t)).toEqual(['Gather', 'Dial']);
    expect(t.children[0]?.attrs.action).toBe('/voice/gather?then=route');
    expect(t.children[1]?.text).toBe(DEFAULT_NUMBER);
    await dial.background.idle();
  });

  it('the emergency digit still reaches EMERGENCY_NUMBER', async () => {
    const t = parse(await signedPost(tq.app, '/voice/gather?then=route', { CallSid: newCallSid(), From: RESTRICTED, Digits: '1' }));
    expect(allNodes(t).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
  });

  it('another key continues to the normal route', async () => {
    const t = parse(await signedPost(tq.app, '/voice/gather?then=route', { CallSid: newCallSid(), From: RESTRICTED, Digits: '3' }));
    expect(verbs(t)).toEqual(['Enqueue']);
  });

  it('the fallback URL answers without Redis', async () => {
    expectUnchecked(parse(await signedPost(tq.app, '/voice/fallback', { CallSid: newCallSid(), From: RESTRICTED })));
  });

  it('a dial step whose plan cannot be read goes to voicemail for the named contact', async () => {
    const t = parse(await signedPost(tq.app, '/voice/status?step=named&staff=jsmith', { CallSid: newCallSid(), DialCallStatus: 'no-answer' }));
    expect(verbs(t)).toEqual(['Gather', 'Say', 'Record', 'Say', 'Hangup']);
  });

  it('failures to record are reported to the background handler, and no log line carries the number', async () => {
    await tq.background.idle();
    expect(tq.failures.length).toBeGreaterThan(0);
    const logged = tq.logger.text();
    expect(tq.logger.lines.some((l) => l.message.includes('restriction lookup failed'))).toBe(true);
    expect(logged).not.toMatch(/7700\s?900\s?201/);
    expect(logged).not.toContain(RESTRICTED);
  });

  afterAll(async () => {
    await h.redis.restart();
    await waitUntilReady(h.lookupConnection);
    await waitUntilReady(h.storeConnection);
  });
});

it('after Redis comes back, calls are checked again', async () => {
  const t = parse(await incoming(tq));
  expect(verbs(t)).toEqual(['Gather', 'Say', 'Hangup']);
  expect(t.children[1]?.text).toContain('Tuesday 25 November between 10am and 12 noon');
});

it('a bug in the decision still answers 200 with the emergency offer and the normal route, recorded as unchecked', async () => {
  const buggy = h.app({
    route: { kind: 'enqueue', workflowSid: WORKFLOW_SID },
    decide: () => {
      throw new TypeError('boom');
    },
  });
  const sid = newCallSid();
  expectUnchecked(parse(await incoming(buggy, sid)));
  await buggy.background.idle();
  expect(buggy.logger.lines.some((l) => l.level === 'error' && l.meta?.callSid === sid)).toBe(true);
  expect(await h.store.contacts.get(undefined, sid)).toMatchObject({ outcome: 'proceed', reasons: ['restriction-check-unavailable'] });
  // The emergency digit does not depend on the rules either.
  const press = parse(await signedPost(buggy.app, '/voice/gather', { CallSid: sid, From: RESTRICTED, Digits: '1' }));
  expect(allNodes(press).find((n) => n.name === 'Dial')?.text).toBe(EMERGENCY_NUMBER);
  await buggy.background.idle();
  expect(buggy.failures).toEqual([]);
});
