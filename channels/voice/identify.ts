/**
 * Who is calling: the caller ID resolved through the store's identity index in one round trip, within the
 * lookup budget. Withheld caller IDs never reach Redis (they match nobody, DESIGN.md §2); a lookup that
 * fails or overruns gives `unavailable`, which the rules turn into the normal route flagged
 * `restriction-check-unavailable`.
 *
 * The number is not normalised here: the store normalises it to E.164 (store/identity.ts) both to look it
 * up and to record it, and parsing it a third time here would be the single most expensive step of the
 * hot path after the Redis round trips.
 */
import type { Identification } from '../../rules/types';
import { isWithheldCallerId } from '../../store/identity';
import type { Deadline } from './budget';

/**
 * Resolves a phone number, as received, to the gate's view of its owner (store/ `GateRepository` satisfies
 * it: it normalises the number, and an unreadable one resolves to `unidentified` without asking Redis).
 */
export interface CallerLookup {
  resolve(identity: { phone: string }): Promise<Identification>;
  /** Optional: {@link resolve}, reading one more key in the same command (store/ `GateRepository`). */
  resolvePhoneAnd?(phone: string, otherKey: string): Promise<{ identification: Identification; other: string | null }>;
}

/** The caller as identified, with why a lookup failed (for logs; never the number). */
export interface CallerIdentity {
  /** The caller ID as received (the store records it normalised), or `undefined` when withheld. */
  phone?: string;
  identification: Identification;
  /** Set when the lookup failed or overran: the error's `code` (e.g. `budget-exceeded`, `store-unavailable`). */
  lookupFailure?: string;
  /**
   * With {@link identifyCaller}'s `otherKey`, when that key was read with the lookup: its value (`null` when
   * absent). `undefined` when it was not read (withheld number, no combined lookup, failure).
   */
  other?: string | null;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}

/**
 * Identifies a caller.
 * @param from Twilio's `From`, as received.
 * @param deadline the share of the caller's wait the lookup may use.
 * @param otherKey a key to read in the same command, where the lookup can (the call's session).
 */
export async function identifyCaller(lookup: CallerLookup, from: string, deadline: Deadline, otherKey?: string): Promise<CallerIdentity> {
  if (isWithheldCallerId(from)) return { identification: { kind: 'unidentified' } };
  const phone = from.trim();
  // Issued synchronously (no await before it), so a command issued in the same tick — the replay check,
  // when it is not part of the lookup — shares its round trip on the auto-pipelined lookup connection.
  let pending: Promise<{ identification: Identification; other?: string | null }>;
  try {
    pending =
      otherKey !== undefined && lookup.resolvePhoneAnd !== undefined
        ? lookup.resolvePhoneAnd(phone, otherKey)
        : lookup.resolve({ phone }).then((identification) => ({ identification }));
  } catch (error) {
    pending = Promise.reject(error);
  }
  try {
    const { identification, other } = await deadline.run('restriction lookup', pending);
    return { phone, identification, ...(other !== undefined ? { other } : {}) };
  } catch (error) {
    return { phone, identification: { kind: 'unavailable' }, lookupFailure: codeOf(error) };
  }
}
