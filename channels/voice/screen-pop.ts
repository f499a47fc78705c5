/**
 * Screen-pops: when a flagged caller's call is decided, the agent console is told at once, over Redis
 * pub/sub (channel {@link EVENTS_CHANNEL}), so the agent who picks up sees the restriction's terms before
 * saying hello. The event never carries a phone number: agents look the customer up by id.
 */
import type { Channel, Decision, Outcome, ReasonCode } from '../../rules/types';

/** The pub/sub channel the gateway's server-sent events relay to agents. */
export const EVENTS_CHANNEL = 'gk:events';

/** The screen-pop event, as published (JSON); written contact publishes the same shape (channels/email). */
export interface ScreenPopEvent {
  type: 'screen-pop';
  channel: Channel;
  /** Absent for an ambiguous or unchecked caller. */
  customerId?: string;
  restrictionId?: string;
  routeTo?: string;
  exceptionId?: string;
  outcome: Outcome;
  reasons: ReasonCode[];
  agentFlags: string[];
  /** ISO instant of the decision. */
  at: string;
  /** The contact id: the CallSid, or a message's key. */
  contactId: string;
}

/** Publishes to Redis pub/sub; an ioredis connection satisfies it. */
export interface EventPublisher {
  publish(channel: string, message: string): Promise<unknown>;
  /** Optional: a pipeline, to publish several events in one round trip (PUBLISH has no key, so any node will do). */
  pipeline?(): EventPipeline;
}

/** The part of an ioredis pipeline {@link publishScreenPops} uses. */
export interface EventPipeline {
  publish(channel: string, message: string): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * Whether agents need a screen-pop for this decision: the caller has a restriction in force, or who they
 * are (or what applies to them) could not be settled.
 */
export function isFlagged(decision: Decision): boolean {
  return (
    decision.restrictionId !== undefined ||
    decision.reasons.includes('ambiguous-identity') ||
    decision.reasons.includes('restriction-check-unavailable')
  );
}

/** Builds the screen-pop event of a decision (a call's unless `channel` says otherwise). */
export function screenPopEvent(decision: Decision, contactId: string, at: Date, channel: Channel = 'voice'): ScreenPopEvent {
  const event: ScreenPopEvent = {
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
  if (decision.exceptionId !== undefined) event.exceptionId = decision.exceptionId;
  return event;
}

/** Publishes a screen-pop on {@link EVENTS_CHANNEL}. */
export async function publishScreenPop(publisher: EventPublisher, event: ScreenPopEvent): Promise<void> {
  await publisher.publish(EVENTS_CHANNEL, JSON.stringify(event));
}

/**
 * Publishes several screen-pops (`undefined` entries publish nothing), in one round trip when the publisher
 * offers a pipeline.
 * @returns one promise per entry, in order (`undefined` where nothing was published).
 */
export function publishScreenPops(publisher: EventPublisher, events: ReadonlyArray<ScreenPopEvent | undefined>): Array<Promise<void> | undefined> {
  const count = events.filter((e) => e !== undefined).length;
  if (count < 2 || publisher.pipeline === undefined) return events.map((e) => (e === undefined ? undefined : publishScreenPop(publisher, e)));
  const pipeline = publisher.pipeline();
  let next = 0;
  const slots = events.map((e) => {
    if (e === undefined) return undefined;
    pipeline.publish(EVENTS_CHANNEL, JSON.stringify(e));
    return next++;
  });
  const replies = pipeline.exec();
  return slots.map((slot) =>
    slot === undefined
      ? undefined
      : replies.then((all) => {
          const error = all?.[slot]?.[0];
          if (error) throw error;
        }),
  );
}
