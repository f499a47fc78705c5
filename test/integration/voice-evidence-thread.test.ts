/**
 * Evidence of calls written on a worker thread (channels/voice/evidence-thread.ts), as the gateway runs it:
 * over a real redis-server, with real signed webhooks. The thread is a real `worker_threads` Worker with its
 * own Redis connection; the TypeScript sources are compiled for it as they load (see its bootstrap).
 * What must hold is exactly what holds without it: one contact record, one audit entry and one session per
 * call, a screen-pop per flagged call, follow-up webhooks that find the call however soon they arrive —
 * and no evidence lost when the thread is not there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BackgroundTasks } from '../../channels/voice/background';
import { CallRecorder, DirectCallWriter, EVIDENCE_WINDOW_MS, type DecidedCall } from '../../channels/voice/call-recorder';
import { RedisCallSessions, type CallSession } from '../../channels/voice/call-session';
import { VoiceEvidence } from '../../channels/voice/evidence';
import { createEvidenceThread } from '../../channels/voice/evidence-thread';
import { waitUntilReady, type StoredContact } from '../../store';
import { DEFAULT_NUMBER, MemoryLogger, VoiceHarness, activeRestriction, signedPost, staff, type VoiceApp } from './voice-harness';
import { newCallSid } from './voice-support';

const RESTRICTED = '+447700900401';
const FREE = '+447700900402';
const UNKNOWN = '+447700900499';

let h: VoiceHarness;
let threaded: VoiceApp;

beforeAll(async () => {
  h = await VoiceHarness.start();
  await h.store.staff.put(staff('jsmith', 'J Smith', { clientIdentity: 'jsmith-client' }));
  await h.store.customers.put({ id: 'T1', name: 'Customer T1', phones: [RESTRICTED], emails: [], needs: [] });
  await h.store.customers.put({ id: 'T2', name: 'Customer T2', phones: [FREE], emails: [], needs: [] });
  await h.store.restrictions.create(activeRestriction('RT1', 'T1', [{ type: 'written-only', channels: ['letter', 'email'] }]));
  threaded = h.app({ evidenceThread: true });
});

afterAll(async () => {
  await threaded?.evidenceThread?.close();
  await h?.stop();
});

function incoming(app: VoiceApp, from: string, callSid: string) {
  return signedPost(app.app, '/voice/incoming', { CallSid: callSid, From: from, To: DEFAULT_NUMBER, CallStatus: 'ringing', AccountSid: 'AC0' });
}

async function historyOf(from: string): Promise<StoredContact[]> {
  const customerId = from === RESTRICTED ? 'T1' : from === FREE ? 'T2' : undefined;
  return h.store.contacts.list(customerId, 1000);
}

async function contactOf(from: string, callSid: string): Promise<StoredContact | undefined> {
  return (await historyOf(from)).find((c) => c.id === callSid);
}

/** The names of the clients connected to the harness's redis-server. */
async function clientNames(): Promise<string[]> {
  const list = String(await h.storeConnection.client('LIST'));
  return [...list.matchAll(/ name=(\S*)/g)].map((m) => m[1] ?? '');
}

it('writes a burst of calls once each from its own connection, a retry replaying the first answer', async () => {
  const calls = Array.from({ length: 24 }, (_, i) => ({ callSid: newCallSid(), from: [RESTRICTED, FREE, UNKNOWN][i % 3] as string }));
  const retried = calls[0] as { callSid: string; from: string };
  const eventsBefore = h.events.length;

  const answers = await Promise.all([...calls, retried].map((c) => incoming(threaded, c.from, c.callSid)));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(answers[answers.length - 1]?.text).toBe(answers[0]?.text);
  await threaded.background.idle();
  expect(threaded.failures).toEqual([]);
  expect(threaded.evidenceThread?.inFlight).toBe(0);
  // Written by the thread, not the fallback: no warning, and the thread's connection is there.
  expect(threaded.logger.text()).not.toContain('evidence thread');
  expect((await clientNames()).some((n) => n.includes('voice-test-evidence'))).toBe(true);

  const audit = await h.store.audit.latest(1000);
  for (const call of calls) {
    expect(audit.filter((r) => r.entityId === call.callSid)).toHaveLength(1);
    expect((await historyOf(call.from)).filter((c) => c.id === call.callSid)).toHaveLength(1);
    const session = JSON.parse((await h.lookupConnection.get(`gk:voice-call:${call.callSid}`)) ?? 'null') as CallSession | null;
    expect(session?.twiml).toBe(answers[calls.indexOf(call)]?.text);
  }
  expect((await contactOf(RESTRICTED, retried.callSid))?.outcome).toBe('deflect');

  const flagged = calls.filter((c) => c.from === RESTRICTED).map((c) => c.callSid);
  await h.eventsArrived(eventsBefore + flagged.length);
  expect(
    h.events
      .slice(eventsBefore)
      .map((e) => e.contactId)
      .sort(),
  ).toEqual([...flagged].sort());
});

it('records a status callback and an emergency key that arrive straight after the answer', async () => {
  const completed = newCallSid();
  const emergency = newCallSid();
  // No waiting in between: the follow-ups may reach the gateway before the thread has written the decision.
  await incoming(threaded, FREE, completed);
  await signedPost(threaded.app, '/voice/status', { CallSid: completed, From: FREE, CallStatus: 'completed', CallDuration: '42' });
  await incoming(threaded, RESTRICTED, emergency);
  const press = await signedPost(threaded.app, '/voice/gather', { CallSid: emergency, From: RESTRICTED, To: DEFAULT_NUMBER, Digits: '1' });
  expect(press.text).toContain('<Dial');
  await threaded.background.idle();
  expect(threaded.failures).toEqual([]);

  const done = await contactOf(FREE, completed);
  expect(done).toMatchObject({ outcome: 'proceed', status: 'completed' });
  expect(done?.details).toMatchObject({ durationSeconds: 42 });
  expect(await contactOf(RESTRICTED, emergency)).toMatchObject({ outcome: 'emergency', status: 'emergency-line' });
  const actions = (await h.store.audit.latest(1000)).filter((r) => r.entityId === emergency).map((r) => r.action);
  expect(actions.sort()).toEqual(['call.deflected', 'call.emergency']);
});

it('writes on the main thread once the evidence thread is closed, and says so once', async () => {
  const app = h.app({ evidenceThread: true });
  const before = newCallSid();
  await incoming(app, FREE, before);
  await app.background.idle();
  await app.evidenceThread?.close();

  const after = [newCallSid(), newCallSid()];
  for (const sid of after) expect((await incoming(app, UNKNOWN, sid)).status).toBe(200);
  await app.background.idle();
  expect(app.failures).toEqual([]);
  expect(await contactOf(FREE, before)).toBeDefined();
  for (const sid of after) expect(await contactOf(UNKNOWN, sid)).toMatchObject({ outcome: 'proceed', from: UNKNOWN });
  expect(app.logger.lines.filter((l) => l.message.includes('evidence thread is not available'))).toHaveLength(1);
});

it('loses no evidence when the thread dies in the middle of a batch, and waits before starting another', async () => {
  // A thread that claims every call of the batch it is given (as the real one does first), then dies
  // before writing anything else or answering.
  const dir = mkdtempSync(join(tmpdir(), 'gk-evidence-'));
  const entry = join(dir, 'dies-after-claiming.js');
  const starts = join(dir, 'starts.log');
  writeFileSync(
    entry,
    [
      "const { parentPort, workerData } = require('node:worker_threads');",
      `require('node:fs').appendFileSync(${JSON.stringify(starts)}, 'started\\n');`,
      `const Redis = require(${JSON.stringify(require.resolve('ioredis'))}).Redis;`,
      'const redis = new Redis(workerData.target.url);',
      'parentPort.on("message", async (m) => {',
      '  if (m.type !== "write") return;',
      '  for (const c of m.calls) await redis.set(`gk:voice-call:${c.record.callSid}`, JSON.stringify(c.session), "EX", 3600, "NX");',
      '  process.exit(7);',
      '});',
    ].join('\n'),
  );
  const logger = new MemoryLogger();
  const failures: unknown[] = [];
  const calls = new RedisCallSessions(h.lookupConnection);
  const batches: string[] = [];
  const exits: number[] = [];
  const dying = createEvidenceThread({
    target: { kind: 'single', url: h.redis.url },
    calls,
    store: h.store,
    events: h.storeConnection,
    logger,
    entry,
    onBatch: (writer, written) => batches.push(`${writer}:${written ? 'written' : 'failed'}`),
    onThreadExit: (code) => exits.push(code),
  });
  const background = new BackgroundTasks((_task, error) => failures.push(error));
  const recorder = new CallRecorder(dying, background, EVIDENCE_WINDOW_MS);
  const at = new Date('2025-11-24T15:00:00Z');
  const sids = Array.from({ length: 9 }, () => newCallSid());
  const session = (sid: string): CallSession => ({ v: 1, twiml: `<Response><Say>${sid}</Say></Response>`, steps: {}, decidedAt: at.toISOString(), outcome: 'proceed', reasons: ['no-restriction'] });
  const record = (sid: string) => ({ callSid: sid, from: UNKNOWN, at, decision: { outcome: 'proceed' as const, reasons: ['no-restriction' as const], agentFlags: [] } });

  // Two batches, each given to a thread that dies after claiming.
  await Promise.all(sids.slice(0, 3).map((sid) => recorder.record(session(sid), record(sid))));
  await Promise.all(sids.slice(3, 6).map((sid) => recorder.record(session(sid), record(sid))));
  // After the restart delay (1 s) the next batch starts a thread again (which dies again: the delay doubles).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await Promise.all(sids.slice(6).map((sid) => recorder.record(session(sid), record(sid))));
  await background.idle();
  await dying.close();
  const started = readFileSync(starts, 'utf8').trim().split('\n');
  rmSync(dir, { recursive: true, force: true });

  // The first batch met the thread (which died); the second came within the restart delay (no new thread);
  // the third came after it and met a new one.
  expect(started).toEqual(['started', 'started']);
  expect(exits).toEqual([7, 7]);
  expect(batches).toEqual(['fallback:written', 'fallback:written', 'fallback:written']);
  const stops = logger.lines.filter((l) => l.message.includes('evidence thread stopped')).map((l) => l.meta);
  expect(stops).toEqual([
    { exitCode: 7, restartInMs: 1000 },
    { exitCode: 7, restartInMs: 2000 },
  ]);

  expect(failures).toEqual([]);
  for (const sid of sids) expect(await contactOf(UNKNOWN, sid)).toMatchObject({ id: sid, outcome: 'proceed', from: UNKNOWN });
  const audited = (await h.store.audit.latest(1000)).filter((r) => sids.includes(r.entityId));
  expect(audited).toHaveLength(sids.length);
  expect(logger.lines.filter((l) => l.message.includes('evidence thread is not available'))).toHaveLength(1);
});

describe('a batch written again after its writer stopped part-way (DirectCallWriter, resumed)', () => {
  function decided(callSid: string, at: Date): DecidedCall {
    const session: CallSession = { v: 1, twiml: '<Response><Dial>+441632960000</Dial></Response>', steps: {}, decidedAt: at.toISOString(), outcome: 'proceed', reasons: ['no-restriction'] };
    return { session, record: { callSid, from: UNKNOWN, at, decision: { outcome: 'proceed', reasons: ['no-restriction'], agentFlags: [] } } };
  }

  function writer(logger = new MemoryLogger()): DirectCallWriter {
    return new DirectCallWriter(
      new RedisCallSessions(h.lookupConnection),
      new VoiceEvidence({ contacts: h.store.contacts, audit: h.store.audit, events: h.storeConnection }),
      logger,
    );
  }

  it('takes a claim holding its own answer as its own when resuming, and as another delivery’s otherwise', async () => {
    const at = new Date('2025-11-24T15:00:00Z');
    const [mine, theirs] = [decided(newCallSid(), at), decided(newCallSid(), at)];
    // The stopped attempt claimed both calls and wrote nothing else.
    await new RedisCallSessions(h.lookupConnection).claim(mine.record.callSid, mine.session);
    await new RedisCallSessions(h.lookupConnection).claim(theirs.record.callSid, theirs.session);

    await writer().write([mine], { resumed: true });
    await writer().write([theirs]);
    expect(await contactOf(UNKNOWN, mine.record.callSid)).toMatchObject({ status: 'decided' });
    expect(await contactOf(UNKNOWN, theirs.record.callSid)).toBeUndefined();

    // Resuming a call someone else answered differently records nothing either.
    const other = decided(newCallSid(), at);
    await new RedisCallSessions(h.lookupConnection).claim(other.record.callSid, { ...other.session, twiml: '<Response><Hangup/></Response>' });
    await writer().write([other], { resumed: true });
    expect(await contactOf(UNKNOWN, other.record.callSid)).toBeUndefined();
  });
});

it('answers every call while the thread cannot reach Redis, and reports the evidence it could not write', async () => {
  // Last: it stops the harness's redis-server (and starts it again for the clean-up).
  const app = h.app({ evidenceThread: true });
  await incoming(app, FREE, newCallSid());
  await app.background.idle();
  await h.redis.stop();
  const answers = await Promise.all([newCallSid(), newCallSid()].map((sid) => incoming(app, FREE, sid)));
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('press 1');
  }
  await app.background.idle();
  expect(app.failures.length).toBeGreaterThan(0);
  expect(app.failures.every((f) => f.task === 'record-call-decision')).toBe(true);
  // A Redis failure is reported, not handed to the fallback: the fallback could not write either.
  expect(app.logger.text()).not.toContain('evidence thread is not available');
  await app.evidenceThread?.close();
  await h.redis.restart();
  // Wait for the harness's connections to be back, so that the clean-up closes them with QUIT. Closed while
  // still reconnecting, each would leave ioredis' 2 s timer for destroying its already-closed socket
  // (AbstractConnector.disconnect), which holds Jest's process open after the run.
  await Promise.all([h.storeConnection, h.lookupConnection, h.subscriber].map((connection) => waitUntilReady(connection)));
}, 30_000);
