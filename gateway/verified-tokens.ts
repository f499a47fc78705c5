/**
 * Staff tokens this gateway has verified lately, so that staff already signed in keep a working console
 * and `POST /v1/decisions` while Redis cannot answer ("fail static"). The contract says an emergency beats
 * everything, also when Redis is unreachable: an agent asking "what happens to this caller?" in an outage
 * must get `emergency` (or `restriction-check-unavailable`), not a 503 because their token could not be
 * looked up.
 *
 * The store is always asked first, and its answer wins whenever it comes in time: a token revoked or
 * expired is forgotten at its next use. A remembered verification stands in only when the store fails as
 * unavailable, or has not answered within a short wait, and only for a token verified within the last
 * {@link VerifiedTokenOptions.maxStaleMs}. So the one thing an outage changes is that a token revoked
 * elsewhere, and not used here since, keeps working here until Redis is back — when nothing that needs
 * Redis works anyway. A token never verified by this gateway gets the store's answer (a 503 in an outage).
 * Tokens are remembered by their SHA-256, never in clear.
 */
import { createHash } from 'node:crypto';

import type { ResolvedToken, TokenResolver } from './auth';

/** Options of {@link failStaticResolver}. */
export interface VerifiedTokenOptions {
  /** How long a verification may stand in for the store. Default 12 hours (a working day and then some). */
  maxStaleMs?: number;
  /** How long to wait for the store before a remembered verification is used. Default 1000 ms. */
  waitMs?: number;
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
 * @param resolve the store's lookup (throws `store-unavailable` when Redis cannot answer).
 */
export function failStaticResolver(resolve: TokenResolver, options: VerifiedTokenOptions = {}): TokenResolver {
  const maxStaleMs = options.maxStaleMs ?? 12 * 60 * 60 * 1000;
  const waitMs = options.waitMs ?? 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, Verified>();

  const remember = (key: string, resolved: ResolvedToken): void => {
    // Re-inserted, so the map's order is least recently verified first.
    verified.delete(key);
    verified.set(key, { resolved, at: now() });
    if (verified.size > maxEntries) {
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
  };

  return async (token) => {
    const key = createHash('sha256').update(token, 'utf8').digest('base64');
    const fresh = resolve(token).then((resolved) => {
      if (resolved === undefined) verified.delete(key);
      else remember(key, resolved);
      return resolved;
    });
    const known = verified.get(key);
    if (known === undefined || now() - known.at > maxStaleMs) return fresh;

    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((settle) => {
      timer = setTimeout(() => settle('late'), waitMs);
    });
    try {
      const outcome = await Promise.race([fresh, late]);
      if (outcome !== 'late') return outcome;
      // Still waiting: it updates the memory when it answers, and must not end as an unhandled rejection.
      fresh.catch(() => undefined);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
    } finally {
      clearTimeout(timer);
    }
    options.onStale?.(known.resolved);
    return known.resolved;
  };
}
