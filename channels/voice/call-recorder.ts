/**
 * After the answer: claim each decided call (its session, for replays and the follow-up webhooks) and, if
 * this delivery won the claim, write its evidence — in batches. Every call decided in one turn of the event
 * loop is handed over together at the start of the next, to a {@link DecidedCallWriter}:
 * - {@link DirectCallWriter} writes on this thread: the claims share one write on an auto-pipelined
 *   connection, and the evidence of all of them takes one round trip per kind of record (contacts, audit
 *   entries, screen-pops) instead of three per call;
 * - the gateway passes an `EvidenceThread` (evidence-thread.ts), which runs a `DirectCallWriter` on a
 *   worker thread with its own connections, so that none of that work competes with answering calls.
 *
 * Until its batch is written, a call is remembered here ({@link CallRecorder.answered},
 * {@link CallRecorder.settled}): a retried webhook replays the same answer, a follow-up webhook finds the
 * call's plan, and the evidence of what happened next (status, emergency key) is written after the
 * decision's, never before it — however long the batch takes.
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

/**
 * The batch window the gateway uses. A few milliseconds make batches several times larger under load than
 * one turn of the event loop does (each turn answers only the few requests that arrived during the last),
 * so each call's share of a batch's fixed costs — a message to the evidence thread and the thread's wake-up,
 * a script per kind of record, a write to Redis — shrinks, on both threads and in Redis. Nothing waits on
 * it: a retry or follow-up webhook of a call still in its window is served from memory (see above).
 */
export const EVIDENCE_WINDOW_MS = 5;

/** A batch this large is sent without waiting for its window to end. */
export const MAX_BATCH = 64;

/** A call as decided and answered: what to claim and what to record. Plain data (it may cross to a thread). */
export interface DecidedCall {
  session: CallSession;
  record: CallDecisionRecord;
}

/** Claims and records a batch of decided calls. */
export interface DecidedCallWriter {
  /**
   * Claims every call and writes the evidence of those this delivery claimed.
   * @param options.resumed the batch was handed over before and may have been partly written (its writer
   *   stopped before answering): a claim that already holds this very answer is then taken as its own.
   * @throws the first failure, once every call of the batch has been dealt with.
   */
  write(calls: readonly DecidedCall[], options?: { resumed?: boolean }): Promise<void>;
}

/** A decided call waiting for its batch. */
interface PendingCall extends DecidedCall {
  /** Resolves the promise {@link CallRecorder.record} returned. */
  done: () => void;
}

/** A call answered on this instance whose batch is not written yet. */
interface InFlightCall {
  session: CallSession;
  settled: Promise<void>;
}

/** Batches decided calls per turn of the event loop and hands each batch to a writer (see the module comment). */
export class CallRecorder {
  /** The batch calls decided in this turn of the event loop join. */
  private open: PendingCall[] | undefined;
  private pending = 0;
  private readonly inFlight = new Map<string, InFlightCall>();
  /** Sends the open batch before its window ends (set while a batch is open). */
  private flush: (() => void) | undefined;

  /**
   * @param windowMs how long a batch stays open for more calls: 0 (the default) means until the next turn
   *   of the event loop; the gateway uses {@link EVIDENCE_WINDOW_MS}.
   */
  constructor(
    private readonly writer: DecidedCallWriter,
    private readonly background: BackgroundTasks,
    private readonly windowMs = 0,
  ) {}

  /** Calls queued or being recorded: how far evidence is behind the answers. */
  get backlog(): number {
    return this.pending;
  }

  /** The session of a call answered here whose batch is still being written, if any. */
  answered(callSid: string): CallSession | undefined {
    return this.inFlight.get(callSid)?.session;
  }

  /** Settles when the call's batch has been written (`undefined` when none is in flight). */
  settled(callSid: string): Promise<void> | undefined {
    return this.inFlight.get(callSid)?.settled;
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
        // Every call decided within the window joins (a full batch is sent at once, see below).
        let release: () => void = () => undefined;
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          // Sent early (full), its window's timer is cleared: nothing is left pending.
          release = () => {
            clearTimeout(timer);
            resolve();
          };
          this.flush = release;
          if (this.windowMs > 0) timer = setTimeout(release, this.windowMs);
          else setImmediate(release);
        });
        if (this.open === opened) this.open = undefined;
        // A full batch was sent early and the next one may be open already: leave its flush alone.
        if (this.flush === release) this.flush = undefined;
        try {
          // Plain data only: the batch may be posted to a thread, which cannot receive the `done` callbacks.
          await this.writer.write(opened.map(({ session, record }) => ({ session, record })));
        } finally {
          for (const call of opened) call.done();
        }
      });
    }
    this.pending += 1;
    const queue = batch;
    const callSid = record.callSid;
    const settled = new Promise<void>((resolve) => {
      queue.push({
        session,
        record,
        done: () => {
          this.pending -= 1;
          if (this.inFlight.get(callSid)?.settled === settled) this.inFlight.delete(callSid);
          resolve();
        },
      });
    });
    this.inFlight.set(callSid, { session, settled });
    if (queue.length >= MAX_BATCH) {
      // Full: it goes now, and the next call opens a new batch.
      this.open = undefined;
      this.flush?.();
    }
    return settled;
  }
}

/** Writes batches on the calling thread, through the given sessions and evidence sinks. */
export class DirectCallWriter implements DecidedCallWriter {
  constructor(
    private readonly sessions: CallSessionStore,
    private readonly evidence: VoiceEvidence,
    private readonly logger: RecorderLogger,
  ) {}

  async write(batch: readonly DecidedCall[], options: { resumed?: boolean } = {}): Promise<void> {
    const claims = await this.claimAll(batch);
    // Another delivery of a call claimed it first (a retry that overtook us): that delivery records it. When
    // resuming, a claim that already holds this very answer is our own, made by the attempt that stopped.
    const fresh = batch.filter((call, i) => {
      const claim = claims[i];
      return claim === undefined || claim.fresh || (options.resumed === true && isSameAnswer(claim.existing, call.session));
    });
    if (fresh.length === 0) return;
    const results = await Promise.allSettled(this.evidence.recordDecisions(fresh.map((call) => call.record)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Each call's claim (one command for the batch where the store can), as {@link claim} would give it. */
  private async claimAll(batch: readonly DecidedCall[]): Promise<Array<ClaimResult | undefined>> {
    const claimAll = this.sessions.claimAll?.bind(this.sessions);
    // Issued in one tick, so an auto-pipelined connection sends them in one write.
    if (claimAll === undefined || batch.length < 2) return Promise.all(batch.map((call) => this.claim(call)));
    const claims = claimAll(batch.map((call) => ({ callSid: call.record.callSid, session: call.session })));
    return Promise.all(claims.map((claim, i) => claim.catch((error: unknown) => this.claimFailed(batch[i], error))));
  }

  /** The call's claim, or `undefined` when it could not be made (the evidence is written all the same). */
  private async claim(call: DecidedCall): Promise<ClaimResult | undefined> {
    const callSid = call.record.callSid;
    try {
      return await this.sessions.claim(callSid, call.session);
    } catch (error) {
      return this.claimFailed(call, error);
    }
  }

  private claimFailed(call: DecidedCall | undefined, error: unknown): undefined {
    this.logger.warn('voice: could not store the call; a retry would be decided afresh', { callSid: call?.record.callSid, code: codeOf(error) });
    return undefined;
  }
}

function isSameAnswer(a: CallSession, b: CallSession): boolean {
  return a.decidedAt === b.decidedAt && a.twiml === b.twiml;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}
