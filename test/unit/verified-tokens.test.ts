/**
 * gateway/verified-tokens.ts: the store's answer always wins when it comes in time; a remembered
 * verification stands in only for a store that is unavailable or slow, only while recent, and never for
 * a token the store has since refused. (The real outage, with Redis frozen and stopped, is in
 * test/integration/outage-decisions.test.ts.)
 */
import type { ResolvedToken, TokenResolver } from '../../gateway/auth';
import { failStaticResolver } from '../../gateway/verified-tokens';

const alice: ResolvedToken = { staff: { id: 'alice', name: 'Alice', email: 'alice@example.org', roles: ['agent'] }, tokenId: 'T1' };
const bob: ResolvedToken = { staff: { id: 'bob', name: 'Bob', email: 'bob@example.org', roles: ['agent'] }, tokenId: 'T2' };

/** The store as the resolver sees it: a map of valid tokens, which can be made to fail or hang. */
class Store {
  valid = new Map<string, ResolvedToken>([
    ['tok-alice', alice],
    ['tok-bob', bob],
  ]);
  mode: 'up' | 'unavailable' | 'hung' | 'broken' = 'up';

  readonly resolve: TokenResolver = (token) => {
    switch (this.mode) {
      case 'up':
        return Promise.resolve(this.valid.get(token));
      case 'unavailable':
        return Promise.reject(Object.assign(new Error('down'), { code: 'store-unavailable' }));
      case 'hung':
        return new Promise(() => undefined);
      case 'broken':
        return Promise.reject(new TypeError('a bug'));
    }
  };
}

describe('failStaticResolver', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('answers with the store while it is up, and with a recent verification while it is unavailable or hung', async () => {
    const store = new Store();
    const stale: string[] = [];
    const resolve = failStaticResolver(store.resolve, { now, waitMs: 20, onStale: (r) => stale.push(r.staff.id) });
    expect(await resolve('tok-alice')).toEqual(alice);
    expect(await resolve('tok-nobody')).toBeUndefined();
    expect(stale).toEqual([]);

    store.mode = 'unavailable';
    expect(await resolve('tok-alice')).toEqual(alice);
    store.mode = 'hung';
    expect(await resolve('tok-alice')).toEqual(alice);
    expect(stale).toEqual(['alice', 'alice']);
    // Never verified here: the store's own answer, an error.
    store.mode = 'unavailable';
    await expect(resolve('tok-bob')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('forgets a token the store refuses, so an outage after that does not let it in', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, waitMs: 20 });
    expect(await resolve('tok-alice')).toEqual(alice);
    store.valid.delete('tok-alice');
    expect(await resolve('tok-alice')).toBeUndefined();
    store.mode = 'unavailable';
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('lets a verification stand in only until it is maxStaleMs old', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, waitMs: 20, maxStaleMs: 60_000 });
    expect(await resolve('tok-alice')).toEqual(alice);
    store.mode = 'unavailable';
    clock += 60_000;
    expect(await resolve('tok-alice')).toEqual(alice);
    clock += 1;
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('passes on an error that is not an outage (a bug is not hidden behind an old answer)', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, waitMs: 20 });
    expect(await resolve('tok-alice')).toEqual(alice);
    store.mode = 'broken';
    await expect(resolve('tok-alice')).rejects.toBeInstanceOf(TypeError);
  });

  it('remembers at most maxEntries tokens, the least recently verified going first', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, waitMs: 20, maxEntries: 1 });
    expect(await resolve('tok-alice')).toEqual(alice);
    expect(await resolve('tok-bob')).toEqual(bob);
    store.mode = 'unavailable';
    expect(await resolve('tok-bob')).toEqual(bob);
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });
});
