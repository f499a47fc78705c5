/**
 * Restrictions over a real redis-server: creation, optimistic concurrency on save, and the status and
 * customer listings.
 */
import type { Restriction, RestrictionStatus, Transition } from '../../rules/types';
import { ConflictError } from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { aCustomer, anActiveRestriction, aRequestedRestriction, openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url });
  await open.store.customers.put(aCustomer({ id: 'C1', phones: ['07700 900111'] }));
  await open.store.customers.put(aCustomer({ id: 'C2' }));
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

/** What a lifecycle step does: a new status and one more transition. */
function step(r: Restriction, to: RestrictionStatus, by: string, action: string = to): Restriction {
  const t: Transition = { action, from: r.status, to, by, at: `2026-04-0${r.history.length}T09:00:00.000Z` };
  return { ...r, status: to, history: [...r.history, t] };
}

describe('creating', () => {
  it('stores a restriction and finds it by id alone', async () => {
    const r = aRequestedRestriction({ id: 'R-NEW', customerId: 'C1' });
    await open.store.restrictions.create(r);
    expect(await open.store.restrictions.get('R-NEW')).toEqual(r);
    expect(await open.store.restrictions.get('R-NONE')).toBeUndefined();
  });

  it('refuses a second restriction with the same id, for any customer', async () => {
    await open.store.restrictions.create(aRequestedRestriction({ id: 'R-DUP', customerId: 'C1' }));
    await expect(open.store.restrictions.create(aRequestedRestriction({ id: 'R-DUP', customerId: 'C1' }))).rejects.toMatchObject({ code: 'already-exists' });
    await expect(open.store.restrictions.create(aRequestedRestriction({ id: 'R-DUP', customerId: 'C2' }))).rejects.toMatchObject({ code: 'already-exists' });
  });
});

describe('optimistic concurrency', () => {
  it('saves a change computed from the current version', async () => {
    const r = aRequestedRestriction({ id: 'R-CAS', customerId: 'C1' });
    await open.store.restrictions.create(r);
    const decided = step(r, 'pending-approval', 'ts1', 'decide');
    await open.store.restrictions.save(decided, r.history.length);
    expect(await open.store.restrictions.get('R-CAS')).toEqual(decided);
  });

  it('refuses the second of two changes computed from the same version', async () => {
    const r = aRequestedRestriction({ id: 'R-RACE', customerId: 'C1' });
    await open.store.restrictions.create(r);
    const decided = step(r, 'pending-approval', 'ts1', 'decide');
    const rejected = step(r, 'rejected', 'ts2', 'reject');

    await open.store.restrictions.save(decided, r.history.length);
    const lost = open.store.restrictions.save(rejected, r.history.length);
    await expect(lost).rejects.toBeInstanceOf(ConflictError);
    await expect(lost).rejects.toMatchObject({ code: 'concurrent-update' });
    expect((await open.store.restrictions.get('R-RACE'))?.status).toBe('pending-approval');
  });

  it('lets exactly one of many simultaneous saves win', async () => {
    const r = aRequestedRestriction({ id: 'R-STAMPEDE', customerId: 'C1' });
    await open.store.restrictions.create(r);
    const attempts = Array.from({ length: 8 }, (_, i) => step(r, 'pending-approval', `ts${i}`, 'decide'));
    const results = await Promise.allSettled(attempts.map((a) => open.store.restrictions.save(a, r.history.length)));
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((x) => x.status === 'rejected' && (x.reason as { code?: string }).code === 'concurrent-update')).toHaveLength(7);
  });

  it('reports a save of something that does not exist as not-found', async () => {
    await expect(open.store.restrictions.save(aRequestedRestriction({ id: 'R-GHOST', customerId: 'C1' }), 1)).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('listings', () => {
  beforeAll(async () => {
    await open.store.customers.put(aCustomer({ id: 'C-LIST' }));
    await open.store.restrictions.create(aRequestedRestriction({ id: 'L-1', customerId: 'C-LIST', requestedAt: '2026-05-01T09:00:00.000Z' }));
    await open.store.restrictions.create(anActiveRestriction({ id: 'L-2', customerId: 'C-LIST', requestedAt: '2026-05-02T09:00:00.000Z' }));
    await open.store.restrictions.create(aRequestedRestriction({ id: 'L-3', customerId: 'C-LIST', requestedAt: '2026-05-03T09:00:00.000Z' }));
  });

  it('lists by status, oldest request first', async () => {
    const requested = (await open.store.restrictions.listByStatus('requested')).map((r) => r.id);
    expect(requested).toEqual(expect.arrayContaining(['L-1', 'L-3']));
    expect(requested).not.toContain('L-2');
    expect(requested.indexOf('L-1')).toBeLessThan(requested.indexOf('L-3'));
    expect((await open.store.restrictions.listByStatus('active')).map((r) => r.id)).toContain('L-2');
  });

  it('moves a restriction between status listings when it changes', async () => {
    const l3 = await open.store.restrictions.get('L-3');
    if (!l3) throw new Error('L-3 missing');
    await open.store.restrictions.save(step(l3, 'rejected', 'ts1', 'reject'), l3.history.length);
    expect((await open.store.restrictions.listByStatus('requested')).map((r) => r.id)).not.toContain('L-3');
    expect((await open.store.restrictions.listByStatus('rejected')).map((r) => r.id)).toEqual(['L-3']);
  });

  it('never lists a restriction under a status it does not have, even after a lost race', async () => {
    const l1 = await open.store.restrictions.get('L-1');
    if (!l1) throw new Error('L-1 missing');
    // A save that loses indexes under "lifted" first; the listing must still not show it there.
    await expect(open.store.restrictions.save(step(l1, 'lifted', 'ts1', 'lift'), 99)).rejects.toMatchObject({ code: 'concurrent-update' });
    expect((await open.store.restrictions.listByStatus('lifted')).map((r) => r.id)).not.toContain('L-1');
  });

  it('lists everything when no status is given', async () => {
    const all = (await open.store.restrictions.listByStatus()).map((r) => r.id);
    expect(all).toEqual(expect.arrayContaining(['L-1', 'L-2', 'L-3', 'R-NEW']));
  });

  it('lists one customer\'s restrictions', async () => {
    expect((await open.store.restrictions.listByCustomer('C-LIST')).map((r) => r.id)).toEqual(['L-1', 'L-2', 'L-3']);
    expect(await open.store.restrictions.listByCustomer('C2')).toEqual([]);
  });
});
