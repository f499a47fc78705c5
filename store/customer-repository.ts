/**
 * Customers: their record, the name index for staff search, and (through the snapshot writer) their
 * entries in the identity index the gate resolves callers with.
 */
import type { Customer } from '../rules/types';
import type { RedisConnection } from './connections';
import { InvalidValueError } from './errors';
import { guard, parseOptional } from './guard';
import { normaliseEmail, normalisePhone } from './identity';
import { assertSafeId, customerKeys, globalKeys, identityKey, isSafeId } from './keys';
import type { SnapshotWriter } from './snapshot-writer';

/** Options of {@link CustomerRepository}. */
export interface CustomerRepositoryOptions {
  /** Region for reading national phone formats. @default 'GB' */
  region?: string;
}

/** How many customers a search returns at most. */
const DEFAULT_SEARCH_LIMIT = 20;

/**
 * Normalises a customer for storage: phones to E.164, emails lower-cased, both de-duplicated.
 * Throws `invalid-phone` / `invalid-email` naming the position, never the value (messages reach logs).
 */
export function normaliseCustomer(customer: Customer, region = 'GB'): Customer {
  assertSafeId(customer.id, 'customer');
  const phones = customer.phones.map((raw, i) => {
    const phone = normalisePhone(raw, region);
    if (phone === undefined) throw new InvalidValueError('invalid-phone', `phones[${i}] is not a usable phone number`);
    return phone;
  });
  const emails = customer.emails.map((raw, i) => {
    const email = normaliseEmail(raw);
    if (email === undefined) throw new InvalidValueError('invalid-email', `emails[${i}] is not an email address`);
    return email;
  });
  return { ...customer, phones: [...new Set(phones)], emails: [...new Set(emails)], needs: [...new Set(customer.needs)] };
}

/** Reads and writes customers. */
export class CustomerRepository {
  private readonly region: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly snapshots: SnapshotWriter,
    options: CustomerRepositoryOptions = {},
  ) {
    this.region = options.region ?? 'GB';
  }

  /** The customer, or `undefined` when there is none with that id. */
  async get(id: string): Promise<Customer | undefined> {
    return guard(async () => {
      const key = customerKeys(id).customer;
      return parseOptional<Customer>(key, await this.redis.get(key));
    });
  }

  /**
   * Creates or replaces a customer (normalised, see {@link normaliseCustomer}), then rewrites their gate
   * snapshot in every identity they have and removes it from identities they no longer have.
   * @returns the customer as stored.
   */
  async put(customer: Customer): Promise<Customer> {
    const stored = normaliseCustomer(customer, this.region);
    return guard(async () => {
      await this.redis.set(customerKeys(stored.id).customer, JSON.stringify(stored));
      await Promise.all([
        this.redis.sadd(globalKeys.customers, stored.id),
        this.redis.hset(globalKeys.customerNames, stored.id, stored.name.toLowerCase()),
      ]);
      await this.snapshots.refresh(stored.id);
      return stored;
    });
  }

  /**
   * Finds customers for the staff console: by phone number in any format, by email address, by exact id,
   * or by a substring of the name (case-insensitive). Results are sorted by name.
   * @param limit at most this many results (default 20).
   */
  async search(query: string, limit = DEFAULT_SEARCH_LIMIT): Promise<Customer[]> {
    const q = query.trim();
    if (q.length === 0) return [];
    return guard(async () => {
      const ids = new Set<string>();
      const identity = this.identityKeyFor(q);
      if (identity !== undefined) for (const id of await this.redis.hkeys(identity)) ids.add(id);
      if (isSafeId(q) && (await this.redis.exists(customerKeys(q).customer)) === 1) ids.add(q);
      if (identity === undefined) for (const id of await this.idsWithNameContaining(q.toLowerCase(), limit)) ids.add(id);

      const customers = await Promise.all([...ids].map((id) => this.get(id)));
      return customers
        .filter((c): c is Customer => c !== undefined)
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
        .slice(0, limit);
    });
  }

  /** The identity hash a query names, if it reads as an email address or a phone number. */
  private identityKeyFor(q: string): string | undefined {
    if (q.includes('@')) {
      const email = normaliseEmail(q);
      return email === undefined ? undefined : identityKey('email', email);
    }
    // At least six digits and nothing but number punctuation: a phone number, not a name or an id.
    if (/^[+\d\s().-]+$/.test(q) && q.replace(/\D/g, '').length >= 6) {
      const phone = normalisePhone(q, this.region);
      return phone === undefined ? undefined : identityKey('phone', phone);
    }
    return undefined;
  }

  /**
   * Scans the name index (HSCAN, so Redis is never blocked by one big reply). Linear in the number of
   * customers, which is fine for a landlord's customer base searched by staff; a search index
   * (RediSearch, or the CRM's own) would replace it at larger scale.
   */
  private async idsWithNameContaining(needle: string, limit: number): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(globalKeys.customerNames, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i];
        const name = flat[i + 1];
        if (id !== undefined && name?.includes(needle)) found.push(id);
      }
    } while (cursor !== '0' && found.length < limit * 5);
    return found;
  }
}
