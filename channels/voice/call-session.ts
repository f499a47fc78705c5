/**
 * One record per call, keyed by Twilio's CallSid: the TwiML the call was answered with, the follow-up
 * steps of its plan, and what was decided. It makes the webhooks idempotent and lets the follow-up
 * webhooks (`/voice/gather`, `/voice/status`) work without a second restriction lookup.
 *
 * Idempotency: Twilio retries a webhook that timed out or failed, and a retry must hear the same thing
 * and write no second record.
 * - Replay: `/voice/incoming` reads the call's session in the same command as the caller lookup
 *   (`GateRepository.resolvePhoneAnd`; on a cluster, in the same round trip); if it exists, its TwiML is
 *   the answer, verbatim. A call answered by this instance moments ago is replayed from memory.
 * - Claim: after answering, the call is claimed with one `SET key value NX GET EX ttl` (Redis ≥ 7.0; a
 *   batch of calls with one script doing the same per call, set-nx-get-many.lua):
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
import { Cluster, type Result } from 'ioredis';

import type { Outcome, ReasonCode } from '../../rules/types';
import type { RedisConnection } from '../../store/connections';
import { guard, parseOptional } from '../../store/guard';
import { scriptSource } from '../../store/scripts';
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
  /** Optional: {@link claim} for several calls at once; one promise per call, in order. */
  claimAll?(calls: ReadonlyArray<{ callSid: string; session: CallSession }>): Array<Promise<ClaimResult>>;
  /** The call's session, or `undefined` when it has none (expired, never claimed). */
  get(callSid: string): Promise<CallSession | undefined>;
  /**
   * Optional, with {@link fromStored}: the Redis key a call's session is stored under, so that the caller
   * lookup can read it in the same command (`GateRepository.resolvePhoneAnd`) instead of a second one.
   */
  keyOf?(callSid: string): string;
  /** The session as stored under {@link keyOf}'s key (`null`: none). */
  fromStored?(key: string, stored: string | null): CallSession | undefined;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** store/scripts/set-nx-get-many.lua: `numberOfKeys` first, then the keys, the TTL and one value per key. */
    gkSetNxGetMany(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Result<Array<string | null>, Context>;
  }
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
  ) {
    // For claimAll; defining it again on a shared connection (a second instance) is harmless.
    redis.defineCommand('gkSetNxGetMany', { lua: scriptSource('set-nx-get-many.lua') });
  }

  /** @throws StoreUnavailableError when Redis cannot be reached. */
  async claim(callSid: string, session: CallSession): Promise<ClaimResult> {
    const key = callSessionKey(callSid);
    const previous = await guard(() => this.redis.set(key, JSON.stringify(session), 'EX', this.ttlSeconds, 'NX', 'GET'));
    const existing = parseOptional<CallSession>(key, previous);
    return existing === undefined ? { fresh: true } : { fresh: false, existing };
  }

  /**
   * Claims several calls with one command on a single server or Sentinel (set-nx-get-many.lua: each
   * exactly as {@link claim}); on a cluster, where the calls' keys lie in different slots, one by one.
   * A Redis failure fails every claim of the batch.
   */
  claimAll(calls: ReadonlyArray<{ callSid: string; session: CallSession }>): Array<Promise<ClaimResult>> {
    if (this.redis instanceof Cluster || calls.length < 2) return calls.map((c) => this.claim(c.callSid, c.session));
    const keys = calls.map((c) => callSessionKey(c.callSid));
    const values = calls.map((c) => JSON.stringify(c.session));
    const replies = guard(() => this.redis.gkSetNxGetMany(keys.length, ...keys, this.ttlSeconds, ...values));
    return keys.map(async (key, i): Promise<ClaimResult> => {
      const existing = parseOptional<CallSession>(key, (await replies)[i] ?? null);
      return existing === undefined ? { fresh: true } : { fresh: false, existing };
    });
  }

  /** @throws StoreUnavailableError when Redis cannot be reached. */
  async get(callSid: string): Promise<CallSession | undefined> {
    const key = callSessionKey(callSid);
    return this.fromStored(key, await guard(() => this.redis.get(key)));
  }

  keyOf(callSid: string): string {
    return callSessionKey(callSid);
  }

  /** @throws CorruptRecordError when the stored value is not a session's JSON. */
  fromStored(key: string, stored: string | null): CallSession | undefined {
    return parseOptional<CallSession>(key, stored);
  }
}
