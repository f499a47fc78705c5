/**
 * gateway/verified-tokens.ts: the store's answer always wins when it gives one, however late; a remembered
 * verification stands in (marked stale) only when the store fails as unavailable, only while recent, and
 * never for a token the store has refused — including a refusal that overtakes a verification already on
 * its way. (The real outage, with Redis frozen and stopped, is in test/integration/outage-decisions.test.ts.)
 */
import type { ResolvedToken, TokenResolver } from '../../gateway/auth';
import { failStaticResolver } from '../../gateway/verified-tokens';

const alice: ResolvedToken = { staff: { id: 'alice', name: 'Alice', email: 'alice@example.org', roles: ['agent'] }, tokenId: 'T1' };
const bob: ResolvedToken = { staff: { id: 'bob', name: 'Bob', email: 'bob@example.org', roles: ['agent'] }, tokenId: 'T2' };

const unavailable = (): Error => Object.assign(new Error('down'), { code: 'store-unavailable' });

/** The store as the resolver sees it: a map of valid tokens, which can be made to fail, or to answer later. */
class Store {
  valid = new Map<string, ResolvedToken>([
    ['tok-alice', alice],
    ['tok-bob', bob],
  ]);
  mode: 'up' | 'unavailable' | 'broken' = 'up';
  /** When set, each lookup waits for this promise before answering from `valid` as it is then. */
  gate: Promise<void> | undefined;

  readonly resolve: TokenResolver = async (token) => {
    const gate = this.gate;
    if (gate !== undefined) await gate;
    switch (this.mode) {
      case 'up':
        return this.valid.get(token);
      case 'unavailable':
        throw unavailable();
      case 'broken':
        throw new TypeError('a bug');
    }
  };
}

describe('failStaticResolver', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('answers with the store while it is up, and with a recent verification, marked stale, while it is unavailable', async () => {
    const store = new Store();
    const stale: string[] = [];
    const resolve = failStaticResolver(store.resolve, { now, onStale: (r) => stale.push(r.staff.id) });
    expect(await resolve('tok-alice')).toEqual(alice);
    expect(await resolve('tok-nobody')).toBeUndefined();
    expect(stale).toEqual([]);

    store.mode = 'unavailable';
    expect(await resolve('tok-alice')).toEqual({ ...alice, stale: true });
    expect(stale).toEqual(['alice']);
    // Never verified here: the store's own answer, an error.
    await expect(resolve('tok-bob')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('waits for a slow store and takes its answer: a revocation heard late is still heard', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now });
    expect(await resolve('tok-alice')).toEqual(alice);
    let answer: () => void = () => undefined;
    store.gate = new Promise((settle) => (answer = settle));
    const pending = resolve('tok-alice');
    store.valid.delete('tok-alice');
    clock += 5_000;
    answer();
    expect(await pending).toBeUndefined();
    store.gate = undefined;
    store.mode = 'unavailable';
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('does not remember a verification that a refusal overtook (a lookup begun before a revocation)', async () => {
    const answers: Array<(resolved: ResolvedToken | undefined) => void> = [];
    let down = false;
    const lookup: TokenResolver = () => (down ? Promise.reject(unavailable()) : new Promise((settle) => answers.push(settle)));
    const resolve = failStaticResolver(lookup, { now });
    const answerNext = (resolved: ResolvedToken | undefined): void => {
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no lookup waiting');
      answer(resolved);
    };
    const first = resolve('tok-alice');
    answerNext(alice);
    expect(await first).toEqual(alice);
    // One lookup begun before the revocation (it read the token as valid), one after (refused); the second answers first.
    const early = resolve('tok-alice');
    const late = resolve('tok-alice');
    const [earlyAnswer, lateAnswer] = answers.splice(0, 2);
    lateAnswer?.(undefined);
    expect(await late).toBeUndefined();
    earlyAnswer?.(alice);
    expect(await early).toEqual(alice);
    // The refusal stands: in the next outage the token is not let in.
    down = true;
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('lets a verification stand in only until it is maxStaleMs old', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, maxStaleMs: 60_000 });
    expect(await resolve('tok-alice')).toEqual(alice);
    store.mode = 'unavailable';
    clock += 60_000;
    expect(await resolve('tok-alice')).toMatchObject({ stale: true });
    clock += 1;
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });

  it('passes on an error that is not an outage (a bug is not hidden behind an old answer)', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now });
    expect(await resolve('tok-alice')).toEqual(alice);
    store.mode = 'broken';
    await expect(resolve('tok-alice')).rejects.toBeInstanceOf(TypeError);
  });

  it('remembers at most maxEntries tokens, the least recently verified going first', async () => {
    const store = new Store();
    const resolve = failStaticResolver(store.resolve, { now, maxEntries: 1 });
    expect(await resolve('tok-alice')).toEqual(alice);
    expect(await resolve('tok-bob')).toEqual(bob);
    store.mode = 'unavailable';
    expect(await resolve('tok-bob')).toMatchObject({ stale: true });
    await expect(resolve('tok-alice')).rejects.toMatchObject({ code: 'store-unavailable' });
  });
});
