/**
 * Keeps every copy of a customer's GateSnapshot in step with the data it is built from: the per-customer
 * `gate` key and one field in the identity hash of each of the customer's phones and emails. Those hashes
 * live in other cluster slots, so the copies cannot be written in one transaction. Instead every write is
 * ordered by a per-customer revision:
 *
 * 1. A refresh reads the customer and their restrictions in one MULTI that also INCRs `gk:{c:<id>}:rev`.
 *    The rev therefore orders refreshes by the moment they read, and every change to a customer,
 *    restriction or named staff member is followed by a refresh that reads it.
 * 2. Each copy is written by a script that refuses to overwrite a copy with a higher rev; removals leave
 *    their rev behind as a tombstone. So when refreshes race, the one that read last wins everywhere, and
 *    a crash half-way leaves copies that the next refresh corrects.
 * 3. The identity keys a snapshot is written to are recorded (`idents`) *before* being written, so a
 *    number later removed from the customer is always found and cleaned up.
 * 4. The customer is added to `gk:staff:<id>:customers` of each staff member named *before* that staff
 *    record is read, so a concurrent staff change either is seen here or will refresh this customer.
 */
import type { Customer, GateSnapshot, Restriction, Staff } from '../rules/types';
import type { RedisConnection } from './connections';
import { buildGateSnapshot, staffIdsNamedIn, toEnforcedRestriction } from './gate-snapshot';
import { execResults, parseOptional, parseRecord } from './guard';
import { customerKeys, globalKeys, identityKey, identityRevKey } from './keys';
import { defineScripts } from './scripts';

/** The identity hash keys a customer's snapshot belongs in. Phones and emails are already normalised. */
export function identityKeysOf(customer: Customer): string[] {
  return [...customer.phones.map((p) => identityKey('phone', p)), ...customer.emails.map((e) => identityKey('email', e))];
}

/** How many customers are refreshed at once by bulk refreshes: bounded so they cannot flood Redis. */
const REFRESH_BATCH = 10;

/** Rewrites GateSnapshots after changes; used by the customer, restriction and staff repositories. */
export class SnapshotWriter {
  constructor(private readonly redis: RedisConnection) {
    defineScripts(redis);
  }

  /**
   * Rebuilds the customer's snapshot from what is stored now and writes it everywhere it belongs,
   * removing it from identities the customer no longer has.
   * @returns the snapshot written, or `undefined` when the customer does not exist (all copies removed).
   */
  async refresh(customerId: string): Promise<GateSnapshot | undefined> {
    const keys = customerKeys(customerId);
    const restrictionIds = await this.redis.smembers(keys.restrictions);
    // One MULTI, one slot: the rev and the data it stands for are read at the same instant.
    const tx = this.redis.multi().incr(keys.rev).get(keys.customer).smembers(keys.idents);
    if (restrictionIds.length > 0) tx.mget(restrictionIds.map(keys.restriction));
    const [rev, customerJson, tracked, restrictionJsons] = execResults(await tx.exec()) as [
      number,
      string | null,
      string[],
      Array<string | null> | undefined,
    ];

    const customer = parseOptional<Customer>(keys.customer, customerJson);
    const restrictions = (restrictionJsons ?? []).flatMap((json, i) =>
      json === null ? [] : [parseRecord<Restriction>(keys.restriction(restrictionIds[i] ?? ''), json)],
    );

    let snapshot: GateSnapshot | undefined;
    if (customer) {
      const staffIds = staffIdsNamedIn(restrictions.filter((r) => r.status === 'active').map(toEnforcedRestriction));
      await Promise.all(staffIds.map((id) => this.redis.sadd(globalKeys.staffCustomers(id), customerId)));
      const staffJsons = await Promise.all(staffIds.map((id) => this.redis.get(globalKeys.staff(id))));
      const staff = new Map<string, Staff>();
      staffJsons.forEach((json, i) => {
        const id = staffIds[i];
        const member = id === undefined ? undefined : parseOptional<Staff>(globalKeys.staff(id), json);
        if (id !== undefined && member) staff.set(id, member);
      });
      snapshot = buildGateSnapshot(customer, restrictions, staff);
    }

    const json = snapshot ? JSON.stringify(snapshot) : '';
    const wanted = customer ? identityKeysOf(customer) : [];
    const stale = tracked.filter((key) => !wanted.includes(key));
    await this.redis.gkPutGate(keys.gate, keys.gateRev, keys.idents, rev, json, ...wanted);
    await Promise.all([
      ...wanted.map((key) => this.redis.gkPutIdentitySnapshot(key, identityRevKey(key), customerId, rev, json)),
      ...stale.map((key) => this.redis.gkPutIdentitySnapshot(key, identityRevKey(key), customerId, rev, '')),
    ]);
    if (stale.length > 0) await this.redis.gkPruneIdentities(keys.rev, keys.idents, rev, ...stale);
    return snapshot;
  }

  /**
   * Rebuilds every customer's snapshot (SSCAN over `gk:customers`, a batch at a time). For repair: after
   * restoring a backup, or on a schedule, to heal a snapshot whose refresh failed after its change was
   * saved (the change itself was reported to the caller as `store-unavailable`, but is stored).
   * @returns how many customers were refreshed.
   */
  async refreshAll(): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, ids] = await this.redis.sscan(globalKeys.customers, cursor, 'COUNT', REFRESH_BATCH);
      cursor = next;
      await Promise.all(ids.map((id) => this.refresh(id)));
      count += ids.length;
    } while (cursor !== '0');
    return count;
  }

  /**
   * Refreshes every customer whose snapshot may name `staffId` (after the staff member's name, phone or
   * client identity changed). The index is a superset: customers who no longer name them are refreshed
   * harmlessly; it is never pruned here because pruning would race with a refresh adding them back.
   */
  async refreshStaff(staffId: string): Promise<void> {
    const customerIds = await this.redis.smembers(globalKeys.staffCustomers(staffId));
    for (let i = 0; i < customerIds.length; i += REFRESH_BATCH) {
      await Promise.all(customerIds.slice(i, i + REFRESH_BATCH).map((id) => this.refresh(id)));
    }
  }
}
