/**
 * Evidence of every call (DESIGN.md §4, policy: records of contact and breaches): the decision on the
 * customer's contact history and in the audit stream, keyed by CallSid; the call's outcome (answered by
 * whom, how long) when Twilio reports it; a screen-pop for flagged callers. Runs after the caller has
 * been answered, so none of it can delay TwiML.
 *
 * Every write is idempotent by CallSid (contacts by id, audit by an `appendOnce` key), so a retried
 * webhook, or two gateway instances racing on one call, leave one record.
 */
import type { Decision } from '../../rules/types';
import type { AuditEntry, ContactPatch, StoredContact } from '../../store/types';
import { isFlagged, publishScreenPop, publishScreenPops, screenPopEvent, type EventPublisher } from './screen-pop';

/** The contact history (store/ `ContactRepository` satisfies it). */
export interface ContactRecorder {
  /** Records a contact once per id; resolves `true` when it was new. */
  record(customerId: string | undefined, contact: StoredContact): Promise<boolean>;
  /** Optional: {@link record} for several contacts in one round trip; one promise per contact, in order. */
  recordAll?(contacts: ReadonlyArray<{ customerId: string | undefined; contact: StoredContact }>): Array<Promise<boolean>>;
  /** One recorded contact, or `undefined`. */
  get(customerId: string | undefined, contactId: string): Promise<StoredContact | undefined>;
  /** Changes a recorded contact (a shallow patch: a `details` given replaces the stored one). */
  update(customerId: string | undefined, contactId: string, patch: ContactPatch): Promise<unknown>;
}

/** The audit stream (store/ `AuditLog` satisfies it). */
export interface AuditRecorder {
  /** Appends `entry` unless an entry with the same `key` was appended before. */
  appendOnce(key: string, entry: AuditEntry): Promise<unknown>;
  /** Optional: {@link appendOnce} for several entries in one round trip (all or nothing). */
  appendOnceMany?(entries: ReadonlyArray<{ key: string; entry: AuditEntry }>): Promise<unknown>;
}

/** Everything evidence is written to. */
export interface EvidenceSinks {
  contacts: ContactRecorder;
  audit: AuditRecorder;
  events: EventPublisher;
}

/** Twilio is the actor of everything a webhook records. */
const ACTOR = 'twilio';

/**
 * The part of a decision that evidence is written from (contact record, audit entry, screen-pop): without
 * the customer message and the written-contact details, which a call's evidence never uses.
 */
export function evidenceOf(decision: Decision): Decision {
  const kept: Decision = { outcome: decision.outcome, reasons: decision.reasons, agentFlags: decision.agentFlags };
  if (decision.customerId !== undefined) kept.customerId = decision.customerId;
  if (decision.restrictionId !== undefined) kept.restrictionId = decision.restrictionId;
  if (decision.routeTo !== undefined) kept.routeTo = decision.routeTo;
  if (decision.exceptionId !== undefined) kept.exceptionId = decision.exceptionId;
  if (decision.nextAllowedAt !== undefined) kept.nextAllowedAt = decision.nextAllowedAt;
  if (decision.breach !== undefined) kept.breach = decision.breach;
  return kept;
}

/** The decision fields worth keeping in an audit entry (never a number, never the customer message). */
function decisionDetails(decision: Decision): Record<string, unknown> {
  // The evidence fields less the agents' flags: the audit keeps what was decided, not how it was shown.
  const details: Record<string, unknown> = { ...evidenceOf(decision) };
  delete details.agentFlags;
  return details;
}

/** The contact record of a decided call. */
function decisionContact(input: CallDecisionRecord): StoredContact {
  const { callSid, decision, at } = input;
  const contact: StoredContact = {
    id: callSid,
    channel: 'voice',
    receivedAt: at.toISOString(),
    outcome: decision.outcome,
    reasons: decision.reasons,
    breach: decision.breach ?? false,
    status: 'decided',
  };
  if (input.from !== undefined) contact.from = input.from;
  if (decision.restrictionId !== undefined) contact.restrictionId = decision.restrictionId;
  if (decision.routeTo !== undefined) contact.routeTo = decision.routeTo;
  if (decision.exceptionId !== undefined) contact.details = { exceptionId: decision.exceptionId };
  return contact;
}

/** The audit entry of a decided call. */
function decisionAudit(input: CallDecisionRecord): AuditEntry {
  const { callSid, decision, at } = input;
  return {
    actor: ACTOR,
    action: decision.outcome === 'deflect' ? 'call.deflected' : 'call.decided',
    entity: 'contact',
    entityId: callSid,
    at: at.toISOString(),
    details: { channel: 'voice', ...decisionDetails(decision) },
  };
}

/** What {@link VoiceEvidence.recordDecision} records. */
export interface CallDecisionRecord {
  callSid: string;
  /** The caller's number as received, when not withheld (the contact history stores it normalised to E.164). */
  from?: string;
  at: Date;
  decision: Decision;
}

/** Writes the evidence of calls. */
export class VoiceEvidence {
  constructor(private readonly sinks: EvidenceSinks) {}

  /** The decision on a new call: contact record, audit entry, and a screen-pop when the caller is flagged. */
  async recordDecision(input: CallDecisionRecord): Promise<void> {
    const { callSid, decision, at } = input;
    // Independent writes: one failing (logged by the caller) must not stop the others.
    const writes: Array<Promise<unknown>> = [
      this.sinks.contacts.record(decision.customerId, decisionContact(input)),
      this.sinks.audit.appendOnce(`voice:${callSid}:decision`, decisionAudit(input)),
    ];
    if (isFlagged(decision)) writes.push(publishScreenPop(this.sinks.events, screenPopEvent(decision, callSid, at)));
    await settleAll(writes);
  }

  /**
   * {@link recordDecision} for several calls, written together: the contact records in one round trip,
   * the audit entries in another, the screen-pops in a third, where the sinks can batch (store/'s
   * repositories and an ioredis connection can); one by one where they cannot.
   * @returns one promise per call, in order: it rejects with the first of that call's writes to fail, once
   *   all of them have settled, exactly as {@link recordDecision} would.
   */
  recordDecisions(inputs: readonly CallDecisionRecord[]): Array<Promise<void>> {
    if (inputs.length === 1) return inputs.map((input) => this.recordDecision(input));
    const { contacts, audit, events } = this.sinks;

    const contactItems = inputs.map((input) => ({ customerId: input.decision.customerId, contact: decisionContact(input) }));
    const contactWrites: Array<Promise<unknown>> =
      contacts.recordAll !== undefined ? contacts.recordAll(contactItems) : contactItems.map((c) => contacts.record(c.customerId, c.contact));

    const auditItems = inputs.map((input) => ({ key: `voice:${input.callSid}:decision`, entry: decisionAudit(input) }));
    let auditWrites: Array<Promise<unknown>>;
    if (audit.appendOnceMany !== undefined) {
      const batch = audit.appendOnceMany(auditItems);
      auditWrites = auditItems.map(() => batch);
    } else {
      auditWrites = auditItems.map((a) => audit.appendOnce(a.key, a.entry));
    }

    const flagged = inputs.map((input) => (isFlagged(input.decision) ? screenPopEvent(input.decision, input.callSid, input.at) : undefined));
    const popWrites = publishScreenPops(events, flagged);

    return inputs.map((_, i) => settleAll([contactWrites[i], auditWrites[i], popWrites[i]].filter((w): w is Promise<unknown> => w !== undefined)));
  }

  /**
   * The caller pressed the emergency digit. The contact (already recorded as deflected or unchecked, or
   * not at all when Redis was down) becomes an emergency, and no longer counts as a breach; the audit
   * says so; agents are told.
   * @param decision the emergency decision from `rules/decide`.
   */
  async recordEmergency(input: CallDecisionRecord): Promise<void> {
    const { callSid, decision, at } = input;
    const contact: StoredContact = {
      id: callSid,
      channel: 'voice',
      receivedAt: at.toISOString(),
      outcome: 'emergency',
      reasons: decision.reasons,
      breach: false,
      status: 'emergency-line',
    };
    if (input.from !== undefined) contact.from = input.from;
    if (decision.restrictionId !== undefined) contact.restrictionId = decision.restrictionId;

    const writes: Array<Promise<unknown>> = [
      (async () => {
        const created = await this.sinks.contacts.record(decision.customerId, contact);
        if (!created) {
          // No longer a breach: asking for the emergency line is always allowed, and counting it against the
          // customer would make them think twice next time (policy: emergencies are never restricted).
          await this.sinks.contacts.update(decision.customerId, callSid, {
            outcome: 'emergency',
            reasons: decision.reasons,
            status: 'emergency-line',
            breach: false,
          });
        }
      })(),
      this.sinks.audit.appendOnce(`voice:${callSid}:emergency`, {
        actor: ACTOR,
        action: 'call.emergency',
        entity: 'contact',
        entityId: callSid,
        at: at.toISOString(),
        details: { channel: 'voice', ...decisionDetails(decision) },
      }),
      publishScreenPop(this.sinks.events, screenPopEvent(decision, callSid, at)),
    ];
    await settleAll(writes);
  }

  /**
   * A step of the call finished: a `<Dial>` (answered or not, by whom), the queue, a voicemail, or the
   * call itself (final status and duration).
   * @param customerId whose contact history holds the call (from the call's session); `undefined` when the
   *   caller was not identified — or the session is gone, in which case only the audit entry is written.
   * @param known whether `customerId` is known (a missing session leaves the contact alone).
   */
  async recordProgress(input: {
    callSid: string;
    customerId: string | undefined;
    known: boolean;
    at: Date;
    /** Names the step in the idempotency key and the audit action, e.g. `dial-named`, `status-completed`. */
    step: string;
    patch: ContactPatch;
    details: Record<string, string | number | boolean>;
  }): Promise<void> {
    const writes: Array<Promise<unknown>> = [
      this.sinks.audit.appendOnce(`voice:${input.callSid}:${input.step}`, {
        actor: ACTOR,
        action: `call.${input.step}`,
        entity: 'contact',
        entityId: input.callSid,
        at: input.at.toISOString(),
        details: { channel: 'voice', ...(input.customerId !== undefined ? { customerId: input.customerId } : {}), ...input.details },
      }),
    ];
    if (input.known) writes.push(this.patchContact(input.customerId, input.callSid, input.patch));
    await settleAll(writes);
  }

  /** Applies a progress patch; the store merges its `details` into those already recorded, atomically. */
  private async patchContact(customerId: string | undefined, callSid: string, patch: ContactPatch): Promise<void> {
    try {
      await this.sinks.contacts.update(customerId, callSid, patch);
    } catch (error) {
      // A status callback for a call whose record is gone (expired) has nothing to add to.
      if ((error as { code?: unknown }).code === 'not-found') return;
      throw error;
    }
  }
}

/** Waits for every write; if any failed, throws the first failure (after all have settled). */
async function settleAll(writes: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
