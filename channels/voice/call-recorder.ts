/**
 * After the answer: claim each decided call (its session, for replays and the follow-up webhooks) and, if
 * this delivery won the claim, write its evidence — in batches. Every call decided in one turn of the event
 * loop is claimed and recorded together, at the start of the next: the claims share one write on the
 * auto-pipelined lookup connection, and the evidence of all of them takes one round trip per kind of record
 * (contacts, audit entries, screen-pops) instead of three per call. Under load a batch holds a dozen calls
 * or more, and the Redis commands, system calls and promises they share are a large part of what a webhook
 * costs beyond the decision itself. (A longer window would make bigger batches, but a retried webhook or an
 * early status callback must find the call claimed and recorded as promptly as before.)
 *
 * Nothing about a single call changes: it is claimed, then recorded only when fresh (or when the claim
 * could not be made: the writes are idempotent by CallSid on their own). Each batch is one background task
 * (so a shutdown, or a test, waits for it with `BackgroundTasks.idle()`), and a batch in which some
 * evidence could not be written reports the first failure to the background failure handler.
 */
import type { BackgroundTasks } from './background';
import type { CallSession, CallSessionStore, ClaimResult } from './call-session';
import type { CallDecisionRecord, VoiceEvidence } from './evidence';

/** What the recorder logs; never passed a phone number. */
export interface RecorderLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

/** The background task name under which batches run (and their failures are reported). */
export const RECORD_TASK = 'record-call-decision';

/** One decided call, waiting for its batch. */
interface PendingCall {
  session: CallSession;
  record: CallDecisionRecord;
  /** Resolves the promise {@link CallRecorder.record} returned. */
  done: () => void;
}

/** Claims and records decided calls in batches (see the module comment). */
export class CallRecorder {
  /** The batch calls decided in this turn of the event loop join. */
  private open: PendingCall[] | undefined;
  private pending = 0;

  constructor(
    private readonly sessions: CallSessionStore,
    private readonly evidence: VoiceEvidence,
    private readonly background: BackgroundTasks,
    private readonly logger: RecorderLogger,
  ) {}

  /** Calls queued or being recorded: how far evidence is behind the answers. */
  get backlog(): number {
    return this.pending;
  }

  /**
   * Queues a decided call for the next batch.
   * @returns a promise that resolves (never rejects: failures go to the background failure handler) once
   *   the call has been claimed and its evidence written or given up on.
   */
  record(session: CallSession, record: CallDecisionRecord): Promise<void> {
    let batch = this.open;
    if (batch === undefined) {
      const opened: PendingCall[] = [];
      batch = opened;
      this.open = opened;
      void this.background.run(RECORD_TASK, async () => {
        // The next turn of the event loop: every call decided in this one has joined by then. No later:
        // a retry, or the status callback of a call answered at once, must find the call recorded.
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.open = undefined;
        await this.write(opened);
      });
    }
    this.pending += 1;
    const queue = batch;
    return new Promise<void>((resolve) => {
      queue.push({
        session,
        record,
        done: () => {
          this.pending -= 1;
          resolve();
        },
      });
    });
  }

  /** Claims and records one batch; throws the first failure once every call of the batch is settled. */
  private async write(batch: PendingCall[]): Promise<void> {
    try {
      // Issued in one tick, so the auto-pipelined lookup connection sends them in one write.
      const claims = await Promise.all(batch.map((call) => this.claim(call)));
      // Another delivery of a call claimed it first (a retry that overtook us): that delivery records it.
      const fresh = batch.filter((_, i) => claims[i]?.fresh !== false);
      if (fresh.length === 0) return;
      const writes = this.evidence.recordDecisions(fresh.map((call) => call.record));
      const results = await Promise.allSettled(writes);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      for (const call of batch) call.done();
    }
  }

  /** The call's claim, or `undefined` when it could not be made (the evidence is written all the same). */
  private async claim(call: PendingCall): Promise<ClaimResult | undefined> {
    const callSid = call.record.callSid;
    try {
      return await this.sessions.claim(callSid, call.session);
    } catch (error) {
      this.logger.warn('voice: could not store the call; a retry would be decided afresh', { callSid, code: codeOf(error) });
      return undefined;
    }
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}
