/**
 * Screen-pops for written contact: when an email or letter from a flagged customer is decided, agents'
 * consoles are told at once over Redis pub/sub (`gk:events`, relayed by the gateway's server-sent events),
 * so whoever picks the message up sees the customer's terms first. The event carries ids, never an address.
 */
import type { Decision } from '../../rules/types';
import { EVENTS_CHANNEL, isFlagged, type EventPublisher } from '../voice/screen-pop';

export { EVENTS_CHANNEL, type EventPublisher };

/** The screen-pop of a written contact, as published (JSON). */
export interface WrittenScreenPopEvent {
  type: 'screen-pop';
  channel: 'email' | 'letter';
  customerId?: string;
  restrictionId?: string;
  routeTo?: string;
  outcome: Decision['outcome'];
  reasons: Decision['reasons'];
  agentFlags: string[];
  /** ISO instant the message was received. */
  at: string;
  /** The contact id: the message key. */
  contactId: string;
}

/**
 * Whether agents need a screen-pop: a restriction in force, an unsettled identity, or an emergency from a
 * known customer.
 */
export function needsScreenPop(decision: Decision): boolean {
  return isFlagged(decision) || (decision.outcome === 'emergency' && decision.customerId !== undefined);
}

/**
 * Builds the event of a decision.
 * @param channel `email` or `letter`
 * @param decision the decision
 * @param contactId the message key
 * @param at when the message was received
 */
export function writtenScreenPop(channel: 'email' | 'letter', decision: Decision, contactId: string, at: Date): WrittenScreenPopEvent {
  const event: WrittenScreenPopEvent = {
    type: 'screen-pop',
    channel,
    outcome: decision.outcome,
    reasons: decision.reasons,
    agentFlags: decision.agentFlags,
    at: at.toISOString(),
    contactId,
  };
  if (decision.customerId !== undefined) event.customerId = decision.customerId;
  if (decision.restrictionId !== undefined) event.restrictionId = decision.restrictionId;
  if (decision.routeTo !== undefined) event.routeTo = decision.routeTo;
  return event;
}

/** Publishes a written contact's screen-pop on {@link EVENTS_CHANNEL}. */
export async function publishWrittenScreenPop(publisher: EventPublisher, event: WrittenScreenPopEvent): Promise<void> {
  await publisher.publish(EVENTS_CHANNEL, JSON.stringify(event));
}
