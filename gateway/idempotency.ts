/**
 * `Idempotency-Key` for `POST /v1/restrictions`, the one create whose id the server chooses: a client that
 * did not get its answer — a timeout, or a 503 because the replicas had not confirmed the write — sends the
 * request again with the same key and gets the first request's restriction instead of a second one.
 *
 * The key does not reserve anything in Redis. It *is* the id: the restriction's id is derived from the
 * member of staff and the key, so every attempt stores the same record under the same id, and the store's
 * create (retry-safe, refusing a second copy) does the rest. A reservation written apart from the record
 * could survive a failover without it, or be lost while the record survives (the two commands may reach
 * different primaries in a switchover); one id cannot.
 */
import { createHash } from 'node:crypto';

import type { Request } from 'express';

import { BadRequest } from './errors';

/** What clients use as keys (UUIDs, ULIDs, their own references); nothing that could reshape a key name. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's `Idempotency-Key`, if it sent one.
 * @throws BadRequest `invalid-idempotency-key` when it is empty, too long or holds other characters.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequest('invalid-idempotency-key', 'Idempotency-Key must be 1–128 letters, digits or . _ : -');
  }
  return key;
}

/**
 * The id every attempt of a keyed request gets: 26 hex digits (104 bits) of a hash of the member of staff
 * and the key, as long as the ids made without a key (`R` + a ULID), and different for two members of staff
 * using the same key.
 */
export function idFromIdempotencyKey(prefix: string, staffId: string, key: string): string {
  return `${prefix}${createHash('sha256').update(`${staffId}\u0000${key}`).digest('hex').slice(0, 26).toUpperCase()}`;
}
