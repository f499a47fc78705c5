/**
 * Staff tokens this gateway has verified lately, so that an agent already signed in can still ask
 * `POST /v1/decisions` while Redis cannot answer ("fail static"). The contract says an emergency beats
 * everything, also when Redis is unreachable: an agent asking "what happens to this caller?" in an outage
 * must get `emergency` (or `restriction-check-unavailable`), not a 503 because their token could not be
 * looked up.
 *
 * The store is always asked, and its answer is used whenever it gives one, however late. A remembered
 * verification stands in only when the store fails with `store-unavailable` (Redis down, or not answering
 * within the store connection's own command timeout) — never merely because it is slow: a Redis that
 * stalls and then answers "revoked" must be heard. And only for a token verified within
 * {@link VerifiedTokenOptions.maxStaleMs}. An answer that came this way is marked `stale`, and the gateway
 * accepts stale answers on `/v1/decisions` only (gateway/auth.ts `allowStale`): everywhere else an outage is
 * still a 503. So the one thing an outage changes is that a token revoked elsewhere, and not used here
 * since, can still ask this gateway for decisions — which then cannot read Redis either.
 *
 * A refusal wins over a verification that was already on its way when the refusal came (a lookup started
 * before a revocation and finished after it): such a verification is not remembered. Tokens are remembered
 * by their SHA-256, never in clear.
 */
import { createHash } from 'node:crypto';

import type { ResolvedToken, TokenResolver } from './auth';

/** Options of {@link failStaticResolver}. */
export interface VerifiedTokenOptions {
  /** How long a verification may stand in for the store. Default 12 hours (a working day and then some). */
  maxStaleMs?: number;
  /** How many tokens are remembered (the least recently verified go first). Default 10,000. */
  maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /** Told each time a remembered verification is used instead of the store's (metrics, logs). */
  onStale?: (resolved: ResolvedToken) => void;
}

/** A remembered verification. */
interface Verified {
  resolved: ResolvedToken;
  at: number;
}

/** Whether an error is the store's "cannot answer now" (by code, as the gateway's error mapping reads it). */
function isUnavailable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'store-unavailable';
}

/**
 * Wraps a token resolver with the fail-static memory described in the module comment.
 * @param resolve the store's lookup (rejects with `store-unavailable` when Redis cannot answer).
 * @returns a resolver whose answers from memory carry `stale: true`.
 */
export function failStaticResolver(resolve: TokenResolver, options: VerifiedTokenOptions = {}): TokenResolver {
  const maxStaleMs = options.maxStaleMs ?? 12 * 60 * 60 * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, Verified>();
  // Lookup order, so that a refusal can outrank verifications started before it. Both maps hold only keys
  // with lookups in flight, so neither grows with the tokens tried.
  let sequence = 0;
  const inFlight = new Map<string, number>();
  const refusedAt = new Map<string, number>();

  const remember = (key: string, resolved: ResolvedToken): void => {
    // Re-inserted, so the map's order is least recently verified first.
    verified.delete(key);
    verified.set(key, { resolved, at: now() });
    if (verified.size > maxEntries) {
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
  };

  const settled = (key: string): void => {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) {
      inFlight.set(key, left);
      return;
    }
    inFlight.delete(key);
    refusedAt.delete(key);
  };

  return async (token) => {
    const key = createHash('sha256').update(token, 'utf8').digest('base64');
    const started = ++sequence;
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    try {
      const resolved = await resolve(token);
      if (resolved === undefined) {
        verified.delete(key);
        refusedAt.set(key, ++sequence);
      } else if ((refusedAt.get(key) ?? 0) < started) {
        remember(key, resolved);
      }
      return resolved;
    } catch (error) {
      const known = verified.get(key);
      if (!isUnavailable(error) || known === undefined || now() - known.at > maxStaleMs) throw error;
      options.onStale?.(known.resolved);
      return { ...known.resolved, stale: true };
    } finally {
      settled(key);
    }
  };
}
