/**
 * Screen-pops for written contact: when an email or letter from a flagged customer is decided, agents'
 * consoles are told at once over Redis pub/sub (`gk:events`, relayed by the gateway's server-sent events),
 * so whoever picks the message up sees the customer's terms first. The event carries ids, never an address.
 */
import type { Decision } from '../../rules/types';
import { EVENTS_CHANNEL, isFlagged, publishScreenPop, screenPopEvent, type EventPublisher, type ScreenPopEvent } from '../voice/screen-pop';

export { EVENTS_CHANNEL, type EventPublisher };

/** The screen-pop of a written contact, as published (JSON): the shape calls use. */
export type WrittenScreenPopEvent = ScreenPopEvent & { channel: 'email' | 'letter' };

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
  return { ...screenPopEvent(decision, contactId, at, channel), channel };
}

/** Publishes a written contact's screen-pop on {@link EVENTS_CHANNEL}. */
export const publishWrittenScreenPop: (publisher: EventPublisher, event: WrittenScreenPopEvent) => Promise<void> = publishScreenPop;
