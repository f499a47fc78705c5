/**
 * The voice channel's adapter, free of HTTP: Twilio's webhook parameters in, TwiML out. It translates
 * (parameters → contact, decision → TwiML) and hands the deciding to `rules/decide`.
 *
 * Following a call:
 * 1. `incoming`: in one Redis round trip, within the lookup budget, look for an earlier answer to this
 *    CallSid (a retry replays it) and resolve `From`; decide; render; answer. After the answer: claim the
 *    CallSid (`SET NX`) and, if this delivery won the claim, write the evidence — batched with the other
 *    calls decided in the same turn of the event loop (call-recorder.ts).
 * 2. `gather`: the emergency digit → the emergency line, with no Redis on the way; any other key → the rest
 *    of the call (normal route, or the deflection again).
 * 3. `status`: a `<Dial>`/`<Enqueue>`/`<Record>` finished (→ the next step of the call's plan) or the call's own
 *    status callback (→ the contact's final status and duration).
 *
 * Nothing here throws to its caller for a Redis failure or a bug in the rules: the caller always gets TwiML
 * that offers the emergency digit and reaches a person.
 */
import { decide as decideContact } from '../../rules/decide';
import type { Contact, Decision, DecisionSettings, Identification } from '../../rules/types';
import type { ContactPatch } from '../../store/types';
import type { BackgroundTasks } from './background';
import { Deadline, withinBudget } from './budget';
import { callContext } from './call-context';
import { CallRecorder, DirectCallWriter, type DecidedCallWriter } from './call-recorder';
import type { CallSession, CallSessionStore } from './call-session';
import { evidenceOf, type CallDecisionRecord, type VoiceEvidence } from './evidence';
import { identifyCaller, type CallerIdentity, type CallerLookup } from './identify';
import { parseGather, parseGatherQuery, parseIncoming, parseStatus, parseStatusQuery, type GatherQuery, type StatusParams, type StatusQuery } from './params';
import {
  renderDecision,
  renderEmergency,
  renderEmpty,
  renderHangup,
  renderMessageRecorded,
  renderNoAnswer,
  renderReplay,
  renderRouteOnly,
  renderSafeRoute,
  renderVoicemail,
  uncheckedDecision,
  type VoiceRenderSettings,
} from './twiml';

/** The decision function (injectable so a test can prove that a bug in it still leaves the caller answered). */
export type DecideFn = (contact: Contact, identification: Identification, now: Date, settings: DecisionSettings) => Decision;

/** The logging the flow does; winston's logger satisfies it. Never passed a phone number. */
export interface VoiceLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** Voice settings from configuration. */
export interface VoiceFlowSettings extends VoiceRenderSettings {
  /** `VOICE_LOOKUP_BUDGET_MS`: the longest a caller waits on Redis before being put through unchecked. */
  lookupBudgetMs: number;
}

/** What the flow works with. */
export interface VoiceFlowDeps {
  settings: VoiceFlowSettings;
  decisionSettings: DecisionSettings;
  lookup: CallerLookup;
  sessions: CallSessionStore;
  evidence: VoiceEvidence;
  background: BackgroundTasks;
  now: () => Date;
  logger: VoiceLogger;
  /** Default: `rules/decide`. */
  decide?: DecideFn;
  /** Told of every decision, with the seconds it took (metrics). */
  onDecision?: (decision: Decision, seconds?: number) => void;
  /**
   * Told of every call the rules routed to a member of staff who cannot be dialled (no phone, no client
   * identity), which went to the normal route instead (metrics): by a named-contact measure or a one-off exception.
   */
  onUndialledStaff?: (routing: UndialledRouting) => void;
  /**
   * Where decided calls are claimed and recorded. Default: on this thread, through `sessions` and
   * `evidence`; the gateway passes an `EvidenceThread` so that the writing runs beside the answering.
   */
  writer?: DecidedCallWriter;
  /** How long a batch of decided calls stays open for more (call-recorder.ts). Default 0: one event-loop turn. */
  evidenceWindowMs?: number;
}

/** What routed a call to a member of staff who could not be dialled. */
export type UndialledRouting = 'named-contact' | 'exception';

/** The answer to a status request: TwiML, or (for a malformed status callback, which needs none) a refusal. */
export type StatusAnswer = { kind: 'twiml'; twiml: string } | { kind: 'invalid'; message: string };

/** Dial results that mean the dialled person picked up. */
const ANSWERED = new Set(['answered', 'completed']);

/** A background read of the call's session is allowed longer than a live lookup: nobody is waiting on it. */
const BACKGROUND_BUDGET_MS = 2000;

/**
 * Calls whose evidence is queued or being written (plus other background work) above which a call waits
 * (within its budget) for its own evidence before being answered. Under sustained overload this turns
 * fire-and-forget into backpressure, so the backlog — and memory — cannot grow without bound; in normal
 * running it is never reached.
 */
export const EVIDENCE_BACKLOG_LIMIT = 256;

/** The voice channel's webhooks as plain async functions. */
export class VoiceCallFlow {
  private readonly decide: DecideFn;
  private readonly recorder: CallRecorder;
  /** Rendered once: the answer of last resort must not depend on anything that can fail per request. */
  readonly safeTwiml: string;

  constructor(private readonly deps: VoiceFlowDeps) {
    this.decide = deps.decide ?? decideContact;
    this.recorder = new CallRecorder(
      deps.writer ?? new DirectCallWriter(deps.sessions, deps.evidence, deps.logger),
      deps.background,
      deps.evidenceWindowMs,
    );
    this.safeTwiml = renderSafeRoute(deps.settings);
  }

  /** `POST /voice/incoming`. */
  async incoming(body: unknown): Promise<string> {
    let params;
    try {
      params = parseIncoming(body);
    } catch (error) {
      this.deps.logger.warn('voice: unusable incoming-call parameters; answering with the safe route', { code: codeOf(error) });
      return this.safeTwiml;
    }
    const { CallSid: callSid } = params;
    const started = performance.now();
    const at = this.deps.now();
    const deadline = new Deadline(this.deps.settings.lookupBudgetMs);

    // One round trip (DESIGN.md §1): the replay check reads the call's session in the caller lookup's own
    // command where the store can; otherwise both are issued in the same tick, and the auto-pipelined
    // lookup connection sends them in one write.
    const sessions = this.deps.sessions;
    const answered = this.recorder.answered(callSid);
    if (answered !== undefined) return answered.twiml;
    const sessionKey = sessions.fromStored !== undefined ? sessions.keyOf?.(callSid) : undefined;
    const callerLookup = identifyCaller(this.deps.lookup, params.From, deadline, sessionKey);
    let caller: CallerIdentity;
    let previous: CallSession | undefined;
    if (sessionKey !== undefined && this.deps.lookup.resolvePhoneAnd !== undefined) {
      caller = await callerLookup;
      previous = caller.other !== undefined ? this.storedSession(sessionKey, caller.other) : await this.previousAnswer(callSid, deadline);
    } else {
      previous = await this.previousAnswer(callSid, deadline);
      caller = await callerLookup;
    }
    if (previous !== undefined) return previous.twiml;
    if (caller.lookupFailure !== undefined) {
      this.deps.logger.warn('voice: restriction lookup failed; call proceeds unchecked', { callSid, code: caller.lookupFailure });
    }

    let decision: Decision;
    try {
      const contact: Contact = { channel: 'voice', ...(caller.phone !== undefined ? { from: caller.phone } : {}) };
      decision = this.decide(contact, caller.identification, at, this.deps.decisionSettings);
    } catch (error) {
      // A bug in the rules must not leave a caller unanswered: proceed unchecked, flagged, and say so loudly.
      this.deps.logger.error('voice: decision failed; call proceeds unchecked', { callSid, error });
      decision = uncheckedDecision();
    }
    this.deps.onDecision?.(decision, (performance.now() - started) / 1000);

    const context = callContext(decision, caller.identification);
    const plan = renderDecision(decision, context, this.deps.settings);
    if (plan.undialledStaffId !== undefined) this.reportUndialled(callSid, decision, plan.undialledStaffId, plan.undialledFallback ?? 'default-route');
    // Assigned field by field rather than spread: this runs for every call.
    const session: CallSession = { v: 1, twiml: plan.twiml, steps: plan.steps, decidedAt: at.toISOString(), outcome: decision.outcome, reasons: decision.reasons };
    if (decision.customerId !== undefined) session.customerId = decision.customerId;
    if (decision.restrictionId !== undefined) session.restrictionId = decision.restrictionId;
    if (decision.routeTo !== undefined) session.routeTo = decision.routeTo;
    if (context.deputy !== undefined) session.deputyId = context.deputy.id;
    if (decision.breach !== undefined) session.breach = decision.breach;

    // Claimed and recorded with the other calls decided in this batch (call-recorder.ts). Only what the
    // evidence is written from goes with it (it may be copied to the evidence thread).
    const record: CallDecisionRecord = { callSid, at, decision: evidenceOf(decision) };
    if (caller.phone !== undefined) record.from = caller.phone;
    const recorded = this.recorder.record(session, record);
    if (this.recorder.backlog + this.deps.background.size > EVIDENCE_BACKLOG_LIMIT) {
      // Overloaded: let the backlog drain a little before taking on more, but never hold a caller past the budget.
      await withinBudget('evidence backlog', this.deps.settings.lookupBudgetMs, recorded).catch(() => undefined);
    }
    return plan.twiml;
  }

  /**
   * A call that should have reached a named member of staff went to the normal route, because their staff
   * record has neither a phone number nor a client identity: nobody would know otherwise (the caseworker
   * believes the customer reaches them). Ids only, never the caller's number.
   */
  private reportUndialled(callSid: string, decision: Decision, staffId: string, sentTo: 'deputy' | 'default-route'): void {
    const routing: UndialledRouting = decision.exceptionId !== undefined ? 'exception' : 'named-contact';
    const meta: Record<string, unknown> = { callSid, customerId: decision.customerId, restrictionId: decision.restrictionId, staffId, routing, sentTo };
    if (decision.exceptionId !== undefined) meta.exceptionId = decision.exceptionId;
    this.deps.logger.warn(`voice: the staff member this call is routed to has no phone or client identity; call sent to the ${sentTo === 'deputy' ? 'deputy' : 'default route'}`, meta);
    this.deps.onUndialledStaff?.(routing);
  }

  /** A session read with the caller lookup; `undefined` when there is none or it cannot be read. */
  private storedSession(key: string, stored: string | null): CallSession | undefined {
    try {
      return this.deps.sessions.fromStored?.(key, stored);
    } catch {
      return undefined;
    }
  }

  /** The answer already given to this CallSid, if any (within the caller's budget; `undefined` on failure). */
  private async previousAnswer(callSid: string, deadline: Deadline): Promise<CallSession | undefined> {
    try {
      return await deadline.run('replay check', this.deps.sessions.get(callSid));
    } catch {
      // The lookup that went out with it fails the same way and is logged; nothing to add here.
      return undefined;
    }
  }

  /** `POST /voice/gather`: the caller pressed a key (or, with `?then=route`, after the brief offer). */
  async gather(body: unknown, query: unknown): Promise<string> {
    const digit = this.deps.settings.emergencyDigit;
    let params;
    try {
      params = parseGather(body);
    } catch (error) {
      this.deps.logger.warn('voice: unusable gather parameters', { code: codeOf(error) });
      // Even a malformed request that carries the emergency digit reaches the emergency line.
      const digits = (body as { Digits?: unknown } | null)?.Digits;
      return digits === digit ? renderEmergency(this.deps.settings) : this.safeTwiml;
    }

    if (params.Digits === digit) {
      const { CallSid: callSid, From: from } = params;
      this.deps.background.run('record-call-emergency', () => this.recordEmergency(callSid, from));
      return renderEmergency(this.deps.settings);
    }

    let next: GatherQuery;
    try {
      next = parseGatherQuery(query);
    } catch {
      next = { then: 'route' };
    }
    // After the brief offer the caller is on their way to the normal route (or a voicemail) anyway; after a
    // deflection, another key replays the call's answer (its session), offer first.
    if (next.then === 'voicemail') return renderVoicemail(this.deps.settings, next.staff !== undefined ? { id: next.staff } : undefined, false);
    return next.then === 'route' ? renderRouteOnly(this.deps.settings) : renderReplay(this.deps.settings);
  }

  /** `POST /voice/status`. */
  async status(body: unknown, queryInput: unknown): Promise<StatusAnswer> {
    let query: StatusQuery;
    let params: StatusParams;
    try {
      query = parseStatusQuery(queryInput);
    } catch (error) {
      return { kind: 'invalid', message: messageOf(error) };
    }
    try {
      params = parseStatus(body);
    } catch (error) {
      if (query.step === undefined) return { kind: 'invalid', message: messageOf(error) };
      // A verb's result that cannot be read: end the call politely rather than leave the caller in silence.
      this.deps.logger.warn('voice: unusable status parameters', { code: codeOf(error), step: query.step });
      return { kind: 'twiml', twiml: renderNoAnswer() };
    }
    return { kind: 'twiml', twiml: await this.step(params, query) };
  }

  /** `POST /voice/fallback`: Twilio's fallback URL, when the primary failed. Needs neither Redis nor a decision. */
  fallback(): string {
    this.deps.logger.warn('voice: Twilio used the fallback URL; answering with the safe route', {});
    return this.safeTwiml;
  }

  private async step(params: StatusParams, query: StatusQuery): Promise<string> {
    const callSid = params.CallSid;
    const settings = this.deps.settings;
    const at = this.deps.now();

    switch (query.step) {
      case undefined: {
        // The call's own status callback.
        const patch: ContactPatch = { status: params.CallStatus ?? 'unknown' };
        const details: Record<string, string | number | boolean> = { callStatus: params.CallStatus ?? 'unknown' };
        if (params.CallDuration !== undefined) details.durationSeconds = params.CallDuration;
        patch.details = details;
        this.recordProgress(callSid, at, `status-${params.CallStatus ?? 'unknown'}`, patch, details);
        return renderEmpty();
      }
      case 'named':
      case 'deputy': {
        const answered = ANSWERED.has(params.DialCallStatus ?? '');
        const session = await this.session(callSid, settings.lookupBudgetMs);
        const who = query.step === 'named' ? (query.staff ?? session?.routeTo) : (session?.deputyId ?? 'deputy');
        const details: Record<string, string | number | boolean> = { dialStatus: params.DialCallStatus ?? 'unknown' };
        if (params.DialCallDuration !== undefined) details.talkSeconds = params.DialCallDuration;
        if (answered && who !== undefined) details.answeredBy = who;
        this.recordProgress(callSid, at, `dial-${query.step}`, answered && who !== undefined ? { details } : {}, details, session);
        if (answered) return renderHangup();
        if (query.step === 'named' && session?.steps.deputy !== undefined) return session.steps.deputy;
        return session?.steps.voicemail ?? renderVoicemail(settings, query.staff !== undefined ? { id: query.staff } : undefined);
      }
      case 'route': {
        const answered = ANSWERED.has(params.DialCallStatus ?? '') || params.QueueResult === 'bridged';
        const details: Record<string, string | number | boolean> = {};
        if (params.DialCallStatus !== undefined) details.dialStatus = params.DialCallStatus;
        if (params.QueueResult !== undefined) details.queueResult = params.QueueResult;
        if (params.QueueTime !== undefined) details.queueSeconds = params.QueueTime;
        if (answered) details.answeredBy = 'contact-centre';
        this.recordProgress(callSid, at, 'route', answered ? { details } : {}, details);
        return answered ? renderHangup() : renderNoAnswer();
      }
      case 'voicemail': {
        const details: Record<string, string | number | boolean> = { voicemailFor: query.staff ?? 'unknown' };
        if (params.RecordingSid !== undefined) details.recordingSid = params.RecordingSid;
        if (params.RecordingDuration !== undefined) details.recordingSeconds = params.RecordingDuration;
        this.recordProgress(callSid, at, 'voicemail', { details }, details);
        return renderMessageRecorded();
      }
    }
  }

  /** Reads the call's session within `budgetMs`; `undefined` when it is missing or cannot be read. */
  private async session(callSid: string, budgetMs: number): Promise<CallSession | undefined> {
    const answered = this.recorder.answered(callSid);
    if (answered !== undefined) return answered;
    try {
      return await withinBudget('call session read', budgetMs, this.deps.sessions.get(callSid));
    } catch (error) {
      this.deps.logger.warn('voice: could not read the call session', { callSid, code: codeOf(error) });
      return undefined;
    }
  }

  private recordProgress(
    callSid: string,
    at: Date,
    step: string,
    patch: ContactPatch,
    details: Record<string, string | number | boolean>,
    known?: CallSession,
  ): void {
    this.deps.background.run(`record-call-${step}`, async () => {
      // After the decision's own evidence, so the contact this patches exists.
      await this.recorder.settled(callSid);
      const session = known ?? (await this.session(callSid, BACKGROUND_BUDGET_MS));
      const hasPatch = Object.keys(patch).length > 0;
      await this.deps.evidence.recordProgress({
        callSid,
        customerId: session?.customerId,
        known: session !== undefined && hasPatch,
        at,
        step,
        patch,
        details,
      });
    });
  }

  /** Evidence of an emergency key press: decided by the rules (with the caller's restrictions for the flags). */
  private async recordEmergency(callSid: string, rawFrom: string): Promise<void> {
    const at = this.deps.now();
    // After the decision's own evidence: the emergency updates the contact the decision created.
    await this.recorder.settled(callSid);
    const session = await this.session(callSid, BACKGROUND_BUDGET_MS);
    const caller = await identifyCaller(this.deps.lookup, rawFrom, new Deadline(BACKGROUND_BUDGET_MS));
    let decision: Decision;
    try {
      const contact: Contact = { channel: 'voice', emergency: true, ...(caller.phone !== undefined ? { from: caller.phone } : {}) };
      decision = this.decide(contact, caller.identification, at, this.deps.decisionSettings);
    } catch (error) {
      this.deps.logger.error('voice: emergency decision failed; recording it plainly', { callSid, error });
      decision = { outcome: 'emergency', reasons: ['emergency'], agentFlags: [], breach: false };
    }
    // The contact lives where the call was first recorded.
    const customerId = session?.customerId ?? decision.customerId;
    const recorded: Decision = { ...decision, outcome: 'emergency' };
    if (customerId !== undefined) recorded.customerId = customerId;
    if (session?.restrictionId !== undefined && recorded.restrictionId === undefined) recorded.restrictionId = session.restrictionId;
    this.deps.onDecision?.(recorded);
    await this.deps.evidence.recordEmergency({ callSid, at, decision: recorded, ...(caller.phone !== undefined ? { from: caller.phone } : {}) });
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Invalid parameters';
}
