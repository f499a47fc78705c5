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
}

/** The caller as identified, with why a lookup failed (for logs; never the number). */
export interface CallerIdentity {
  /** The caller ID as received (the store records it normalised), or `undefined` when withheld. */
  phone?: string;
  identification: Identification;
  /** Set when the lookup failed or overran: the error's `code` (e.g. `budget-exceeded`, `store-unavailable`). */
  lookupFailure?: string;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}

/**
 * Identifies a caller.
 * @param from Twilio's `From`, as received.
 * @param deadline the share of the caller's wait the lookup may use.
 */
export async function identifyCaller(lookup: CallerLookup, from: string, deadline: Deadline): Promise<CallerIdentity> {
  if (isWithheldCallerId(from)) return { identification: { kind: 'unidentified' } };
  const phone = from.trim();
  // Issued synchronously (no await before it), so a command issued in the same tick — the replay check —
  // shares its round trip on the auto-pipelined lookup connection.
  let pending: Promise<Identification>;
  try {
    pending = lookup.resolve({ phone });
  } catch (error) {
    pending = Promise.reject(error);
  }
  try {
    const identification = await deadline.run('restriction lookup', pending);
    return { phone, identification };
  } catch (error) {
    return { phone, identification: { kind: 'unavailable' }, lookupFailure: codeOf(error) };
  }
}
