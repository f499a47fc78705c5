/**
 * One record per call, keyed by Twilio's CallSid: the TwiML the call was answered with, the follow-up
 * steps of its plan, and what was decided. It makes the webhooks idempotent and lets the follow-up
 * webhooks (`/voice/gather`, `/voice/status`) work without a second restriction lookup.
 *
 * Idempotency: Twilio retries a webhook that timed out or failed, and a retry must hear the same thing
 * and write no second record.
 * - Replay: `/voice/incoming` first GETs the call's session, in the same round trip as the caller lookup
 *   (both on the auto-pipelined lookup connection); if it exists, its TwiML is the answer, verbatim.
 * - Claim: after answering, the call is claimed with one `SET key value NX GET EX ttl` (Redis ≥ 7.0):
 *   atomically, either the key was free and now holds this answer (`fresh`: this delivery writes the
 *   evidence), or another delivery got there first (nothing is recorded twice). The contact and audit
 *   writes are themselves idempotent by CallSid as a second line of defence.
 * Claiming after the answer keeps the hot path at one round trip. The price: two deliveries of one CallSid
 * that arrive within the same millisecond-long window (before either has claimed) are each decided; their
 * answers are the same unless the decision's inputs changed in between (a window opening that instant),
 * and only the first to claim is recorded. Twilio retries after a timeout of seconds, far outside it.
 *
 * Key: `gk:voice-call:<CallSid>` (string, JSON, TTL {@link CALL_SESSION_TTL_S}). A single key, so it lives
 * on any Redis topology.
 */
import type { Outcome, ReasonCode } from '../../rules/types';
import type { RedisConnection } from '../../store/connections';
import { guard, parseOptional } from '../../store/guard';
import type { CallPlan } from './twiml';

/** How long a call's record is kept: longer than any call (Twilio's limit is 4 h) plus its late callbacks. */
export const CALL_SESSION_TTL_S = 24 * 60 * 60;

/** What is kept about one call. No phone number: the contact record holds the normalised number. */
export interface CallSession {
  v: 1;
  /** The answer to `/voice/incoming`, replayed verbatim to retries. */
  twiml: string;
  steps: CallPlan['steps'];
  /** ISO instant of the decision. */
  decidedAt: string;
  outcome: Outcome;
  reasons: ReasonCode[];
  customerId?: string;
  restrictionId?: string;
  routeTo?: string;
  /** The named contact's deputy, when the plan dials one. */
  deputyId?: string;
  breach?: boolean;
}

/** The outcome of {@link CallSessionStore.claim}. */
export type ClaimResult = { fresh: true } | { fresh: false; existing: CallSession };

/** Where call sessions live. */
export interface CallSessionStore {
  /** Stores `session` unless the call already has one, which is then returned. */
  claim(callSid: string, session: CallSession): Promise<ClaimResult>;
  /** The call's session, or `undefined` when it has none (expired, never claimed). */
  get(callSid: string): Promise<CallSession | undefined>;
}

/** The Redis key of a call's session. */
export function callSessionKey(callSid: string): string {
  return `gk:voice-call:${callSid}`;
}

/**
 * {@link CallSessionStore} over Redis. Use the gate's lookup connection: callers wait on it (fail-fast), and
 * its auto-pipelining sends the replay check in the same write as the caller lookup.
 */
export class RedisCallSessions implements CallSessionStore {
  /** @param ttlSeconds how long a session is kept (default {@link CALL_SESSION_TTL_S}). */
  constructor(
    private readonly redis: RedisConnection,
    private readonly ttlSeconds: number = CALL_SESSION_TTL_S,
  ) {}

  /** @throws StoreUnavailableError when Redis cannot be reached. */
  async claim(callSid: string, session: CallSession): Promise<ClaimResult> {
    const key = callSessionKey(callSid);
    const previous = await guard(() => this.redis.set(key, JSON.stringify(session), 'EX', this.ttlSeconds, 'NX', 'GET'));
    const existing = parseOptional<CallSession>(key, previous);
    return existing === undefined ? { fresh: true } : { fresh: false, existing };
  }

  /** @throws StoreUnavailableError when Redis cannot be reached. */
  async get(callSid: string): Promise<CallSession | undefined> {
    const key = callSessionKey(callSid);
    return parseOptional<CallSession>(key, await guard(() => this.redis.get(key)));
  }
}
