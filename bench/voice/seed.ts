/**
 * Seeds the benchmark's Redis with 100,000 customers, 1% of them restricted.
 *
 * The 1,000 restricted customers (and their named staff) go through the real store API, so their
 * restrictions, owner index and gate snapshots are exactly what production writes. The 99,000 others are
 * written in pipelined batches using the store's own key layout and snapshot builder (the same bytes the
 * store would write, a hundred times faster than one refresh per customer).
 */
import type { Customer, Measure, Restriction, Staff, Weekday } from '../../rules/types';
import { WEEKDAYS } from '../../rules/types';
import type { RedisConnection } from '../../store/connections';
import { buildGateSnapshot } from '../../store/gate-snapshot';
import { customerKeys, globalKeys, identityKey } from '../../store/keys';
import type { Store } from '../../store';

/** The phone of customer `i` (0-based), E.164 UK mobile numbers. */
export function customerPhone(i: number): string {
  return `+447${400_000_000 + i}`;
}

/** A number nobody holds. */
export function unknownPhone(i: number): string {
  return `+447${500_000_000 + i}`;
}

/** How the population is laid out. */
export interface Population {
  customers: number;
  /** Indexes `0 … restricted-1` are the restricted customers. */
  restricted: number;
}

const STAFF: Staff[] = [
  { id: 'jsmith', name: 'J Smith', email: 'jsmith@example.org', clientIdentity: 'jsmith', roles: ['tenancy-specialist'] },
  { id: 'akhan', name: 'A Khan', email: 'akhan@example.org', phone: '+447700900902', roles: ['tenancy-specialist'] },
];

/** A weekday on which no call window is open today, so call-times callers are deflected during the run. */
function notToday(now: Date): Weekday {
  const today = (now.getUTCDay() + 6) % 7; // Monday = 0
  return WEEKDAYS[(today + 3) % 7] as Weekday;
}

/** Restricted customers cycle through the three things a restriction does to a call. */
function measuresFor(i: number, now: Date): Measure[] {
  switch (i % 3) {
    case 0:
      return [{ type: 'call-times', windows: [{ days: [notToday(now)], start: '10:00', end: '12:00' }] }, { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }];
    case 1:
      return [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }];
    default:
      return [{ type: 'written-only', channels: ['letter', 'email'] }];
  }
}

function customer(i: number): Customer {
  return { id: `B${String(i).padStart(6, '0')}`, name: `Bench Customer ${i}`, phones: [customerPhone(i)], emails: [], needs: [] };
}

function restriction(i: number, now: Date): Restriction {
  const c = customer(i);
  const at = '2025-01-02T09:00:00.000Z';
  return {
    id: `BR${String(i).padStart(6, '0')}`,
    customerId: c.id,
    status: 'active',
    category: 'excessive-contact',
    summary: 'benchmark',
    evidence: [{ type: 'call-log', reference: 'bench' }],
    authorisedBy: 'mgr',
    warnings: [{ type: 'formal', date: '2025-01-01' }],
    requestedBy: 'agent',
    requestedAt: at,
    approvedBy: 'tsm',
    approvedAt: at,
    measures: measuresFor(i, now),
    startsAt: at,
    reviewAt: '2099-01-01T00:00:00.000Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [],
    appealed: false,
    reviews: [],
    history: [{ action: 'approve', from: 'pending-approval', to: 'active', by: 'tsm', at }],
  };
}

/** Runs `task` over `0 … count-1` with `width` in flight. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Seeds the population; returns how long it took in ms. */
export async function seed(store: Store, redis: RedisConnection, population: Population, now: Date): Promise<number> {
  const started = Date.now();
  for (const s of STAFF) await store.staff.put(s);

  await pool(population.restricted, 32, async (i) => {
    await store.customers.put(customer(i));
    await store.restrictions.create(restriction(i, now));
  });

  const staff = new Map<string, Staff>();
  const BATCH = 2000;
  for (let from = population.restricted; from < population.customers; from += BATCH) {
    const pipeline = redis.pipeline();
    for (let i = from; i < Math.min(from + BATCH, population.customers); i++) {
      const c = customer(i);
      const keys = customerKeys(c.id);
      const snapshot = JSON.stringify(buildGateSnapshot(c, [], staff));
      pipeline.set(keys.customer, JSON.stringify(c));
      pipeline.sadd(globalKeys.customers, c.id);
      pipeline.set(keys.gate, snapshot);
      pipeline.hset(identityKey('phone', customerPhone(i)), c.id, snapshot);
    }
    await pipeline.exec();
  }
  return Date.now() - started;
}
