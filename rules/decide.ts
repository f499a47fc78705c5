/**
 * The decision (DESIGN.md §3): given one inbound contact, what the gate knows of its sender, the time and
 * the organisation's settings, what happens to it. Pure: no I/O, time is a parameter.
 *
 * Reading order follows the policy:
 *  1. An emergency beats everything, always (policy §5: "make provision for the reporting of emergencies").
 *  2. Without exactly one identified customer and an enforceable restriction, the contact proceeds.
 *  3. Calls and visits may be deflected — politely, with the next permitted time or the written route.
 *  4. Written contact is never deflected: the restriction shapes routing, timing and the acknowledgement.
 */
import { restrictionFlags } from './agent-flags';
import { nextWindow, windowStatus } from './call-windows';
import {
  appointmentMessage,
  nextCallMessage,
  writtenContactMessage,
  writtenOnlyMessage,
} from './customer-message';
import { detectEmergency } from './emergency';
import { isEnforceable } from './lifecycle';
import { leavesNoUsableChannel } from './validation';
import { findRepeat } from './repeat-detection';
import { nextResponseAt } from './response-frequency';
import { isoInstant } from './time-format';
import type {
  Contact,
  Decision,
  DecisionSettings,
  EnforcedRestriction,
  GateSnapshot,
  Identification,
  Measure,
  ReasonCode,
  RespondedContact,
  RestrictionException,
} from './types';
import { countWords } from './word-count';

/** Whether the contact is an emergency: flagged by the caller (keypad) or a person, or found in its text. */
export function isEmergencyContact(contact: Contact, settings: Pick<DecisionSettings, 'emergencyPhrases'>): boolean {
  if (contact.emergency === true) return true;
  const text = [contact.subject, contact.text].filter((s): s is string => typeof s === 'string' && s !== '').join('\n');
  return text !== '' && detectEmergency(text, settings.emergencyPhrases).emergency;
}

function measuresOf<T extends Measure['type']>(rs: EnforcedRestriction[], type: T): Array<{ r: EnforcedRestriction; m: Extract<Measure, { type: T }> }> {
  const found: Array<{ r: EnforcedRestriction; m: Extract<Measure, { type: T }> }> = [];
  for (const r of rs) for (const m of r.measures) if (m.type === type) found.push({ r, m: m as Extract<Measure, { type: T }> });
  return found;
}

function liveException(rs: EnforcedRestriction[], channel: Contact['channel'], now: Date): { r: EnforcedRestriction; e: RestrictionException } | undefined {
  const t = now.getTime();
  for (const r of rs) {
    for (const e of r.exceptions) {
      if (e.channel === channel && new Date(e.from).getTime() <= t && t < new Date(e.until).getTime()) return { r, e };
    }
  }
  return undefined;
}

/** The text whose words count: the body only (a subject line is not "the letter"). */
function bodyWords(contact: Contact): number | undefined {
  if (contact.words !== undefined) return contact.words;
  if (typeof contact.text !== 'string' || contact.text.trim() === '') return undefined;
  return countWords(contact.text);
}

function unrestricted(reason: ReasonCode, customerId: string | undefined, flags: string[], emergency: boolean): Decision {
  if (emergency) {
    const reasons: ReasonCode[] = reason === 'restriction-check-unavailable' ? ['emergency', reason] : ['emergency'];
    return { outcome: 'emergency', ...(customerId ? { customerId } : {}), reasons, agentFlags: flags, breach: false };
  }
  return { outcome: 'proceed', ...(customerId ? { customerId } : {}), reasons: [reason], agentFlags: flags, breach: false };
}

/**
 * Decides what happens to one contact.
 * @param contact what arrived, translated by its channel.
 * @param identification who it is from and what applies to them (one store round trip).
 * @param now the instant to judge at (a parameter, so "what would happen at" queries and tests are exact).
 * @param settings organisation-wide settings from config/.
 */
export function decide(contact: Contact, identification: Identification, now: Date, settings: DecisionSettings): Decision {
  const emergency = isEmergencyContact(contact, settings);

  switch (identification.kind) {
    case 'unavailable':
      return unrestricted('restriction-check-unavailable', contact.customerId, ['Restriction check unavailable — follow the normal process and check the record'], emergency);
    case 'unidentified':
      return unrestricted('unidentified', undefined, [], emergency);
    case 'ambiguous':
      return unrestricted(
        'ambiguous-identity',
        undefined,
        [`Shared ${contact.channel === 'voice' ? 'number' : 'address'}: ${identification.customerIds.length} customers — confirm who is calling before applying any restriction`],
        emergency,
      );
    case 'resolved':
      return decideForCustomer(contact, identification.snapshot, identification.responded ?? [], now, settings, emergency);
  }
}

function decideForCustomer(
  contact: Contact,
  snapshot: GateSnapshot,
  responded: RespondedContact[],
  now: Date,
  settings: DecisionSettings,
  emergency: boolean,
): Decision {
  const customerId = snapshot.customerId;
  const enforced = snapshot.restrictions.filter((r) => isEnforceable(r, now));
  if (enforced.length === 0) return unrestricted('no-restriction', customerId, [], emergency);

  // Needs recorded after the decision can leave the customer no way in (policy §5: keep at least one open);
  // until the restriction is reviewed, calls and visits are not turned away, and agents are told.
  const noWayIn = leavesNoUsableChannel(enforced, snapshot.needs);
  const agentFlags = restrictionFlags(enforced, snapshot.staff, now, settings.timeZone, noWayIn);
  const first = enforced[0] as EnforcedRestriction;
  const base = { customerId, restrictionId: first.id, agentFlags };

  if (emergency) {
    // Emergencies go through on every channel; the flags still tell the agent who they are speaking to.
    return { outcome: 'emergency', ...base, reasons: ['emergency'], breach: false };
  }

  const named = measuresOf(enforced, 'named-contact')[0];
  const routeTo = named?.m.staffId;

  if (contact.channel === 'voice' || contact.channel === 'visit') {
    const exception = liveException(enforced, contact.channel, now);
    if (exception) {
      return {
        outcome: 'proceed',
        ...base,
        restrictionId: exception.r.id,
        routeTo: exception.e.staffId,
        exceptionId: exception.e.id,
        reasons: ['named-contact'],
        breach: false,
      };
    }

    if (noWayIn) {
      return { outcome: 'proceed', ...base, ...(routeTo ? { routeTo } : {}), reasons: routeTo ? ['named-contact'] : [], breach: false };
    }

    const writtenOnly = measuresOf(enforced, 'written-only')[0];
    if (writtenOnly) {
      const channels = writtenOnly.m.channels.length > 0 ? writtenOnly.m.channels : (['letter', 'email'] as Array<'letter' | 'email'>);
      return {
        outcome: 'deflect',
        ...base,
        restrictionId: writtenOnly.r.id,
        reasons: ['written-only'],
        breach: true,
        customerMessage: writtenOnlyMessage(channels, settings),
      };
    }

    if (contact.channel === 'visit') {
      const appointments = measuresOf(enforced, 'appointments-only')[0];
      if (appointments) {
        const staffName = snapshot.staff[appointments.m.staffId]?.name ?? 'your named contact';
        return {
          outcome: 'deflect',
          ...base,
          restrictionId: appointments.r.id,
          routeTo: appointments.m.staffId,
          reasons: ['appointment-required'],
          breach: true,
          customerMessage: appointmentMessage(staffName, settings),
        };
      }
      return { outcome: 'proceed', ...base, ...(routeTo ? { routeTo } : {}), reasons: routeTo ? ['named-contact'] : [], breach: false };
    }

    for (const { r, m } of measuresOf(enforced, 'call-times')) {
      const status = windowStatus(m, now, settings.timeZone);
      if (!status.open) {
        const next = status.next ?? nextWindow(m, now, settings.timeZone);
        return {
          outcome: 'deflect',
          ...base,
          restrictionId: r.id,
          ...(next ? { nextAllowedAt: isoInstant(next.start) } : {}),
          reasons: [status.reason],
          breach: true,
          customerMessage: nextCallMessage(next, settings),
        };
      }
    }
    return { outcome: 'proceed', ...base, ...(routeTo ? { routeTo } : {}), reasons: routeTo ? ['named-contact'] : [], breach: false };
  }

  // Written contact (email, letter): accepted, recorded, acknowledged — shaped, never deflected.
  const reasons: ReasonCode[] = [];
  const decision: Decision = { outcome: 'proceed', ...base, reasons, breach: false };
  if (routeTo) {
    decision.routeTo = routeTo;
    reasons.push('named-contact');
  }

  let wrongChannel: Array<'letter' | 'email'> | undefined;
  const writtenOnly = measuresOf(enforced, 'written-only')[0];
  if (writtenOnly && writtenOnly.m.channels.length > 0 && !(writtenOnly.m.channels as string[]).includes(contact.channel)) {
    wrongChannel = writtenOnly.m.channels;
    reasons.push('written-only');
    decision.breach = true;
  }

  const frequency = measuresOf(enforced, 'response-frequency')[0];
  let respondAfter: Date | undefined;
  if (frequency) {
    const last = responded.reduce<Date | undefined>((acc, c) => {
      const t = new Date(c.respondedAt);
      return !acc || t > acc ? t : acc;
    }, undefined);
    respondAfter = nextResponseAt(frequency.m, now, settings.timeZone, last);
    decision.respondAfter = isoInstant(respondAfter);
    reasons.push('response-frequency');
  }

  const limit = measuresOf(enforced, 'word-limit')[0];
  if (limit) {
    const words = bodyWords(contact);
    if (words === undefined) {
      agentFlags.push('Word count needed: the text could not be read automatically — count it by hand');
    } else {
      const exceeded = words > limit.m.maxWords;
      decision.wordLimit = { limit: limit.m.maxWords, words, exceeded };
      if (exceeded) reasons.push('word-limit-exceeded');
    }
  }

  if (measuresOf(enforced, 'new-issues-only').length > 0 && contact.text) {
    const match = findRepeat([contact.subject ?? '', contact.text].join('\n'), responded, settings.repeatThreshold);
    if (match) {
      decision.repeatOf = { contactId: match.contact.contactId, respondedAt: match.contact.respondedAt, reference: match.contact.reference };
      reasons.push('repeat-issue');
    }
  }

  decision.customerMessage = writtenContactMessage(
    {
      ...(respondAfter ? { respondAfter } : {}),
      ...(decision.wordLimit?.exceeded ? { wordLimit: decision.wordLimit.limit } : {}),
      ...(decision.repeatOf ? { repeatOf: decision.repeatOf } : {}),
      ...(wrongChannel ? { wrongChannel } : {}),
    },
    settings,
  );
  return decision;
}
