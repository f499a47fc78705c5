/**
 * Restrictions. The lifecycle (rules/lifecycle.ts) computes each new version; this repository persists
 * it with optimistic concurrency, keeps the status index and the owner index, and refreshes the
 * customer's gate snapshot whenever an `active` restriction appears, changes or goes.
 *
 * Optimistic concurrency: every lifecycle step appends exactly one transition, so the length of
 * `history` is the version. `save(r, n)` writes only if the stored history still has length `n`
 * (save-restriction-2.lua), so two managers approving and lifting at once cannot overwrite each other.
 */
import { RESTRICTION_STATUSES, type Restriction, type RestrictionStatus } from '../rules/types';
import type { RedisConnection } from './connections';
import { ConflictError, InvalidValueError, NotFoundError, StoreUnavailableError } from './errors';
import { guard, parseOptional, parseRecord } from './guard';
import { assertSafeId, customerKeys, globalKeys, isSafeId } from './keys';
import { defineScripts } from './scripts';
import type { SnapshotWriter } from './snapshot-writer';

/** Oldest request first; ties by id, so listings are stable. */
function byRequestedAt(a: Restriction, b: Restriction): number {
  return a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id);
}

/** Reads and writes restrictions. */
export class RestrictionRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly snapshots: SnapshotWriter,
  ) {
    defineScripts(redis);
  }

  /** The restriction, or `undefined` (found through the owner index: restriction id → customer). */
  async get(id: string): Promise<Restriction | undefined> {
    if (!isSafeId(id)) return undefined;
    return guard(async () => {
      const customerId = await this.redis.hget(globalKeys.restrictionOwner, id);
      if (customerId === null) return undefined;
      const key = customerKeys(customerId).restriction(id);
      return parseOptional<Restriction>(key, await this.redis.get(key));
    });
  }

  /** The customer a restriction id is claimed for (the owner index), or `undefined`. */
  async ownerOf(id: string): Promise<string | undefined> {
    if (!isSafeId(id)) return undefined;
    return guard(async () => (await this.redis.hget(globalKeys.restrictionOwner, id)) ?? undefined);
  }

  /**
   * Stores a new restriction.
   * @throws ConflictError `already-exists` when the id is taken (by this or another customer).
   */
  async create(restriction: Restriction): Promise<Restriction> {
    assertSafeId(restriction.id, 'restriction');
    const keys = customerKeys(restriction.customerId);
    return guard(async () => {
      // The owner index is claimed first. A create that crashed after claiming it can be retried: the
      // claim is ours already, and the script below still refuses a second copy.
      const claimed = await this.redis.hsetnx(globalKeys.restrictionOwner, restriction.id, restriction.customerId);
      if (claimed === 0) {
        const owner = await this.redis.hget(globalKeys.restrictionOwner, restriction.id);
        // Taken one command ago and gone now: nothing removes an owner, so the connection moved to another
        // primary in between (a failover). Refused for a retry, never answered as a conflict.
        if (owner === null) throw new StoreUnavailableError(new Error('the restriction owner index changed during the create'));
        if (owner !== restriction.customerId) throw new ConflictError('already-exists', 'A restriction with that id exists');
      }
      await this.redis.sadd(globalKeys.restrictionsByStatus(restriction.status), restriction.id);
      const [outcome] = await this.redis.gkSaveRestriction(
        keys.restriction(restriction.id),
        keys.restrictions,
        -1,
        JSON.stringify(restriction),
        restriction.id,
      );
      if (outcome === 'exists') throw new ConflictError('already-exists', 'A restriction with that id exists');
      if (restriction.status === 'active') await this.snapshots.refresh(restriction.customerId);
      return restriction;
    });
  }

  /**
   * Saves a new version of a restriction, provided nobody saved another since it was read.
   * @param expectedHistoryLength the `history.length` of the version the change was computed from.
   * @throws ConflictError `concurrent-update` when the stored version has moved on (reload and retry).
   * @throws NotFoundError when the restriction does not exist.
   */
  async save(restriction: Restriction, expectedHistoryLength: number): Promise<Restriction> {
    if (!isSafeId(restriction.id)) throw new NotFoundError('restriction', restriction.id);
    return guard(async () => {
      const owner = await this.redis.hget(globalKeys.restrictionOwner, restriction.id);
      if (owner === null) throw new NotFoundError('restriction', restriction.id);
      if (owner !== restriction.customerId) {
        throw new InvalidValueError('invalid-id', 'A restriction cannot move to another customer');
      }
      const keys = customerKeys(owner);
      // Index under the new status before writing, so a crash leaves an extra index entry (filtered out
      // on read), never a restriction missing from its status listing.
      await this.redis.sadd(globalKeys.restrictionsByStatus(restriction.status), restriction.id);
      const [outcome, detail] = await this.redis.gkSaveRestriction(
        keys.restriction(restriction.id),
        keys.restrictions,
        expectedHistoryLength,
        JSON.stringify(restriction),
        restriction.id,
      );
      if (outcome === 'missing') throw new NotFoundError('restriction', restriction.id);
      if (outcome === 'conflict') {
        throw new ConflictError('concurrent-update', 'The restriction was changed by someone else; reload it and try again');
      }
      const previous = detail as RestrictionStatus;
      if (previous !== restriction.status) {
        await this.redis.srem(globalKeys.restrictionsByStatus(previous), restriction.id);
      }
      if (previous === 'active' || restriction.status === 'active') await this.snapshots.refresh(owner);
      return restriction;
    });
  }

  /**
   * Restrictions with the given status (all when omitted), oldest request first. The status index may
   * hold stale entries (a crash between indexing and writing, a save that lost a race); every entry is
   * checked against the record. Stale entries are not removed here: one may belong to a save that is in
   * flight, and removing it would hide that restriction from its new status.
   */
  async listByStatus(status?: RestrictionStatus): Promise<Restriction[]> {
    if (status !== undefined && !RESTRICTION_STATUSES.includes(status)) return [];
    return guard(async () => {
      const ids =
        status === undefined
          ? await this.redis.hkeys(globalKeys.restrictionOwner)
          : await this.redis.smembers(globalKeys.restrictionsByStatus(status));
      if (ids.length === 0) return [];
      const owners = await this.redis.hmget(globalKeys.restrictionOwner, ...ids);
      const found = await Promise.all(
        ids.map(async (id, i) => {
          const owner = owners[i];
          if (owner === null || owner === undefined) return undefined;
          const key = customerKeys(owner).restriction(id);
          return parseOptional<Restriction>(key, await this.redis.get(key));
        }),
      );
      return found
        .filter((r): r is Restriction => r !== undefined && (status === undefined || r.status === status))
        .sort(byRequestedAt);
    });
  }

  /** All restrictions of one customer, oldest request first (one slot: read with one MGET). */
  async listByCustomer(customerId: string): Promise<Restriction[]> {
    const keys = customerKeys(customerId);
    return guard(async () => {
      const ids = await this.redis.smembers(keys.restrictions);
      if (ids.length === 0) return [];
      const jsons = await this.redis.mget(ids.map(keys.restriction));
      return jsons
        .flatMap((json, i) => (json === null ? [] : [parseRecord<Restriction>(keys.restriction(ids[i] ?? ''), json)]))
        .sort(byRequestedAt);
    });
  }
}
