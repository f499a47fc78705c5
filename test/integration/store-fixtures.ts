/**
 * Builders and wiring shared by the store-*.test.ts suites: realistic records, and a store over real
 * connections to a suite's own redis-server.
 */
import type { Customer, Restriction, Staff } from '../../rules/types';
import {
  closeConnection,
  createLookupConnection,
  createStore,
  createStoreConnection,
  waitUntilReady,
  type RedisConnection,
  type RedisTarget,
  type Store,
  type StoreOptions,
} from '../../store';

/** A store with its two connections; `close()` ends both. */
export interface OpenStore {
  store: Store;
  connection: RedisConnection;
  lookup: RedisConnection;
  close(): Promise<void>;
}

/** Opens a store (normal + lookup connection) on `target` and waits until both are ready. */
export async function openStore(target: RedisTarget, options: StoreOptions = {}): Promise<OpenStore> {
  const connection = createStoreConnection(target, { name: 'test' });
  const lookup = createLookupConnection(target, { name: 'test' });
  await Promise.all([waitUntilReady(connection), waitUntilReady(lookup)]);
  return {
    store: createStore(connection, { ...options, lookup }),
    connection,
    lookup,
    close: async () => {
      await Promise.all([closeConnection(connection), closeConnection(lookup)]);
    },
  };
}

/** A customer; phones in the national format people type. */
export function aCustomer(overrides: Partial<Customer> & { id: string }): Customer {
  return { name: `Customer ${overrides.id}`, phones: [], emails: [], needs: [], ...overrides };
}

/** A member of staff. */
export function aStaffMember(overrides: Partial<Staff> & { id: string }): Staff {
  return {
    name: `Staff ${overrides.id}`,
    email: `${overrides.id}@landlord.example`,
    roles: ['tenancy-specialist'],
    ...overrides,
  };
}

/** Words that must never reach a gate snapshot (they are in the summary and evidence below). */
export const CONFIDENTIAL = {
  summary: 'CONFIDENTIAL-SUMMARY shouted at staff on 14 calls',
  evidenceReference: 'CONFIDENTIAL-EVIDENCE-REF-889',
  evidenceNote: 'CONFIDENTIAL-EVIDENCE-NOTE call recordings',
};

/**
 * An `active` restriction with a call-times window and a named contact, and a history of three
 * transitions (request, decide, approve), as the lifecycle would leave it.
 */
export function anActiveRestriction(overrides: Partial<Restriction> & { id: string; customerId: string }): Restriction {
  return {
    status: 'active',
    category: 'excessive-contact',
    summary: CONFIDENTIAL.summary,
    evidence: [{ type: 'call-log', reference: CONFIDENTIAL.evidenceReference, note: CONFIDENTIAL.evidenceNote }],
    authorisedBy: 'manager1',
    warnings: [{ type: 'formal', date: '2026-01-05' }],
    requestedBy: 'staff1',
    requestedAt: '2026-01-10T09:00:00.000Z',
    decidedBy: 'ts1',
    decidedAt: '2026-01-12T09:00:00.000Z',
    approvedBy: 'tsm1',
    approvedAt: '2026-01-13T09:00:00.000Z',
    measures: [
      { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' },
      { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' },
    ],
    startsAt: '2026-01-13T09:00:00.000Z',
    reviewAt: '2026-07-13T09:00:00.000Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [],
    appealed: false,
    reviews: [],
    history: [
      { action: 'request', from: null, to: 'requested', by: 'staff1', at: '2026-01-10T09:00:00.000Z' },
      { action: 'decide', from: 'requested', to: 'pending-approval', by: 'ts1', at: '2026-01-12T09:00:00.000Z' },
      { action: 'approve', from: 'pending-approval', to: 'active', by: 'tsm1', at: '2026-01-13T09:00:00.000Z' },
    ],
    ...overrides,
  };
}

/** A restriction just requested (one transition, no measures yet). */
export function aRequestedRestriction(overrides: Partial<Restriction> & { id: string; customerId: string }): Restriction {
  const base = anActiveRestriction(overrides);
  return {
    ...base,
    status: 'requested',
    measures: [],
    history: base.history.slice(0, 1),
    ...overrides,
  };
}

/** Every key in the database (SCAN, never KEYS) with its values flattened to strings, for leak checks. */
export async function dumpAll(connection: RedisConnection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await connection.type(key);
      let value: unknown;
      if (type === 'string') value = await connection.get(key);
      else if (type === 'hash') value = await connection.hgetall(key);
      else if (type === 'set') value = await connection.smembers(key);
      else if (type === 'zset') value = await connection.zrange(key, 0, '-1');
      else if (type === 'stream') value = await connection.xrange(key, '-', '+');
      else if (type === 'list') value = await connection.lrange(key, 0, -1);
      out.set(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return out;
}
