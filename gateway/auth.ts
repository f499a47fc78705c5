/**
 * Bearer-token authentication and role checks for the staff API.
 *
 * Tokens are resolved by the caller's `resolveToken` (the store keeps only their hashes). The bootstrap
 * `GATEKEEPER_ADMIN_TOKEN` lets the first administrator create staff and tokens; it is compared in constant
 * time. Repeated bad tokens from one address are refused for a while, so tokens cannot be guessed at speed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role, Staff } from '../rules/types';
import { Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized } from './errors';

/** What a valid token resolves to. */
export interface ResolvedToken {
  staff: Staff;
  tokenId: string;
  /**
   * Answered from this gateway's memory of an earlier verification because Redis could not answer
   * (gateway/verified-tokens.ts); accepted only where {@link BearerAuthOptions.allowStale} says so.
   */
  stale?: boolean;
}

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /**
   * Accept a token verified earlier when Redis cannot answer (`ResolvedToken.stale`). Only for routes that
   * must work in an outage and change nothing (`POST /v1/decisions`); elsewhere such a request is 503.
   */
  allowStale?: boolean;
}

/** Looks a presented token up; `undefined` when it is unknown, revoked or expired. */
export type TokenResolver = (token: string) => Promise<ResolvedToken | undefined>;

/** The synthetic member of staff the bootstrap admin token authenticates as. */
export const BOOTSTRAP_ADMIN: Readonly<Staff> = Object.freeze({
  id: 'bootstrap-admin',
  name: 'Bootstrap administrator',
  // RFC 2606 reserves .invalid: nothing sent here can be delivered.
  email: 'bootstrap-admin@gatekeeper.invalid',
  roles: ['admin'] as Role[],
});
export const BOOTSTRAP_TOKEN_ID = 'bootstrap';

/** Options of the authentication-failure limit. */
export interface FailureLimitOptions {
  /** Failures allowed per address per window before further attempts get 429. Default `20`. */
  maxFailures?: number;
  /** Window length in milliseconds. Default `60000`. */
  windowMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Counts authentication failures per client address in fixed windows. In memory and per instance: with N
 * gateway instances an attacker gets N× the budget, which still turns guessing a 256-bit token from hopeless
 * into hopeless; a shared limit would put Redis on the authentication path for no real gain.
 */
export class FailureLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(options: FailureLimitOptions = {}) {
    this.maxFailures = options.maxFailures ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until `key` may try again, or 0 when it is not blocked. */
  blockedFor(key: string): number {
    const entry = this.windows.get(key);
    const now = this.now();
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.maxFailures ? (entry.resetAt - now) / 1000 : 0;
  }

  /** Records one failure for `key`. */
  fail(key: string): void {
    const now = this.now();
    const entry = this.windows.get(key);
    if (!entry || entry.resetAt <= now) {
      this.prune(now);
      this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
    } else {
      entry.count += 1;
    }
  }

  /** Drops expired windows, lazily (no timer to keep the process alive), once the map grows. */
  private prune(now: number): void {
    if (this.windows.size < 1000) return;
    for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of two secrets (their SHA-256 digests have equal length whatever the inputs). */
export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header; `undefined` when there is no such header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * Middleware that authenticates the request's bearer token and sets `res.locals.staff` and `res.locals.tokenId`.
 * Missing or non-bearer header → 401 `unauthenticated`; unknown token → 401 `invalid-token`; too many bad
 * tokens from the address → 429 `too-many-failures` for further bad tokens (a valid token always gets in).
 * An error from `resolveToken` (store unavailable) goes to the error handler (503), and so does a token
 * vouched for only by an earlier verification (`stale`) unless `options.allowStale`.
 * @param resolveToken looks a staff token up.
 * @param adminToken the bootstrap `GATEKEEPER_ADMIN_TOKEN`, when configured.
 */
export function bearerAuth(
  resolveToken: TokenResolver,
  adminToken?: string,
  limits: FailureLimitOptions | FailureLimiter = {},
  options: BearerAuthOptions = {},
): RequestHandler {
  const limiter = limits instanceof FailureLimiter ? limits : new FailureLimiter(limits);
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) throw new Unauthorized('unauthenticated', 'A bearer token is required');

    const address = req.ip ?? 'unknown';
    if (adminToken !== undefined && adminToken !== '' && secretsEqual(token, adminToken)) {
      res.locals.staff = BOOTSTRAP_ADMIN;
      res.locals.tokenId = BOOTSTRAP_TOKEN_ID;
      next();
      return;
    }
    const resolved = await resolveToken(token);
    if (!resolved) {
      // Bad tokens from one address are answered 429 once they pile up — but a valid token always gets in.
      // Behind a load balancer (no TRUST_PROXY) the whole contact centre shares one address, and one stale
      // console tab must not lock every agent out of emergency decisions. Tokens are 256-bit random, so the
      // limit slows a script hammering the store, not a guess that could ever succeed.
      const wait = limiter.blockedFor(address);
      if (wait > 0) throw new TooManyRequests('too-many-failures', 'Too many failed authentication attempts; try again later', wait);
      limiter.fail(address);
      throw new Unauthorized('invalid-token', 'The bearer token is not valid');
    }
    if (resolved.stale === true && options.allowStale !== true) {
      throw new ServiceUnavailable('store-unavailable', 'The restriction store is unavailable; try again shortly', 5);
    }
    res.locals.staff = resolved.staff;
    res.locals.tokenId = resolved.tokenId;
    next();
  };
}

/**
 * The authenticated member of staff.
 * @throws Unauthorized when no authentication middleware ran before (a wiring mistake, refused safely).
 */
export function currentStaff(res: Response): Staff {
  const staff = res.locals.staff as Staff | undefined;
  if (!staff) throw new Unauthorized('unauthenticated', 'A bearer token is required');
  return staff;
}

/**
 * Middleware that lets the request through only if the authenticated staff member has one of `roles`
 * (403 `forbidden-role` otherwise). No role implies another: `admin` manages staff and tokens and
 * deliberately cannot approve restrictions (separation of duties).
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const staff = currentStaff(res);
    if (!staff.roles.some((role) => roles.includes(role))) {
      throw new Forbidden('forbidden-role', `This needs one of the roles: ${roles.join(', ')}`);
    }
    next();
  };
}
