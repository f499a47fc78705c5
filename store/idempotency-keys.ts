/**
 * Idempotency keys for requests that create something under an id the server chooses (a restriction
 * request): a client that did not get its answer — a timeout, or a 503 because the replicas had not
 * confirmed the write — retries with the same `Idempotency-Key` and gets the first request's result
 * instead of a second copy. The key reserves the id before anything is stored, so a retry after an attempt
 * that stopped half-way stores the same record under the same id.
 */
import { createHash } from 'node:crypto';

import type { RedisConnection } from './connections';
import { guard, parseRecord } from './guard';
import { globalKeys } from './keys';

/** What a key was first used for: the id reserved for the record, and a fingerprint of the request. */
export interface IdempotentRequest {
  id: string;
  /** A hash of the request's body: the same key with another body is a client's mistake, not a retry. */
  fingerprint: string;
}

/** How long a key is remembered: longer than any client retries for, short enough not to pile up. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The hash that fingerprints a request body (any JSON value, serialised as given). */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** Idempotency keys, each scoped to an operation and to the member of staff who sent it. */
export class IdempotencyKeys {
  constructor(
    private readonly redis: RedisConnection,
    private readonly ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
  ) {}

  /**
   * Reserves `key` for `request`, atomically (`SET NX GET`), unless it was reserved before.
   * @returns `undefined` when the key is new (and now holds `request`), else what it was first used for.
   * @throws StoreUnavailableError when Redis cannot be reached.
   */
  async reserve(scope: string, staffId: string, key: string, request: IdempotentRequest): Promise<IdempotentRequest | undefined> {
    const redisKey = globalKeys.idempotency(scope, staffId, key);
    return guard(async () => {
      const earlier = await this.redis.set(redisKey, JSON.stringify(request), 'EX', this.ttlSeconds, 'NX', 'GET');
      return earlier === null ? undefined : parseRecord<IdempotentRequest>(redisKey, earlier);
    });
  }
}
