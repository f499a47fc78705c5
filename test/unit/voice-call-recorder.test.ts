/**
 * CallRecorder's batching (channels/voice/call-recorder.ts), with a writer that only notes what it is
 * given: calls join the open batch until its window ends or it holds MAX_BATCH calls; a full batch goes
 * at once; a call is remembered until its batch is written. No Redis here — the writers that reach Redis
 * are covered by the voice integration suites.
 */
import { BackgroundTasks } from '../../channels/voice/background';
import { CallRecorder, MAX_BATCH, type DecidedCall, type DecidedCallWriter } from '../../channels/voice/call-recorder';
import type { CallSession } from '../../channels/voice/call-session';

/** Keeps every batch it is given; each write finishes when the test says so (or at once). */
class NotingWriter implements DecidedCallWriter {
  readonly batches: string[][] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  letGo(): void {
    this.open?.();
  }

  async write(calls: readonly DecidedCall[]): Promise<void> {
    this.batches.push(calls.map((c) => c.record.callSid));
    await this.gate;
  }
}

const at = new Date('2026-11-25T10:00:00Z');

function session(sid: string): CallSession {
  return { v: 1, twiml: `<Response><Say>${sid}</Say></Response>`, steps: {}, decidedAt: at.toISOString(), outcome: 'proceed', reasons: [] };
}

function recordCall(recorder: CallRecorder, sid: string): Promise<void> {
  return recorder.record(session(sid), { callSid: sid, at, decision: { outcome: 'proceed', reasons: [], agentFlags: [] } });
}

const sids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `CA${String(from + i).padStart(32, '0')}`);

it('sends a full batch at once, also one opened before the previous full batch was on its way', async () => {
  const writer = new NotingWriter();
  const background = new BackgroundTasks((_task, error) => {
    throw error;
  });
  // A window no test waits for: only the MAX_BATCH rule can send these batches.
  const recorder = new CallRecorder(writer, background, 60_000);
  const first = sids(0, MAX_BATCH + 1).map((sid) => recordCall(recorder, sid));
  // The first batch is full and on its way; the next one is open with one call.
  await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
  const second = sids(MAX_BATCH + 1, MAX_BATCH - 1).map((sid) => recordCall(recorder, sid));
  await Promise.all([...first, ...second]);

  expect(writer.batches.map((b) => b.length)).toEqual([MAX_BATCH, MAX_BATCH]);
  expect(writer.batches.flat()).toEqual(sids(0, 2 * MAX_BATCH));
  expect(recorder.backlog).toBe(0);
});

it('remembers a call until its batch is written, then forgets it', async () => {
  const writer = new NotingWriter();
  writer.hold();
  const background = new BackgroundTasks(() => undefined);
  const recorder = new CallRecorder(writer, background);
  const [sid] = sids(500, 1) as [string];
  const done = recordCall(recorder, sid);
  expect(recorder.answered(sid)?.twiml).toBe(session(sid).twiml);
  let settled = false;
  void recorder.settled(sid)?.then(() => (settled = true));

  // Written (handed to the writer) on the next turn, but not finished: still remembered.
  await new Promise((resolve) => setImmediate(resolve));
  expect(writer.batches).toEqual([[sid]]);
  expect(recorder.answered(sid)).toBeDefined();
  expect(settled).toBe(false);

  writer.letGo();
  await done;
  expect(settled).toBe(true);
  expect(recorder.answered(sid)).toBeUndefined();
  expect(recorder.settled(sid)).toBeUndefined();
});
