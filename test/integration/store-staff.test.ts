/**
 * Staff and bearer tokens over a real redis-server: a token works until revoked, and only its SHA-256
 * is ever in Redis.
 */
import { createHash } from 'node:crypto';
import { startRedis, type TestRedis } from '../support/redis-server';
import { aStaffMember, dumpAll, openStore, type OpenStore } from './store-fixtures';

let redis: TestRedis;
let open: OpenStore;

beforeAll(async () => {
  redis = await startRedis();
  open = await openStore({ kind: 'single', url: redis.url });
  await open.store.staff.put(aStaffMember({ id: 'admin1', name: 'Ada Admin', roles: ['admin'] }));
  await open.store.staff.put(aStaffMember({ id: 'ts1', name: 'Tess Specialist', email: 'Tess@Landlord.Example', phone: '020 7946 0123' }));
});

afterAll(async () => {
  await open.close();
  await redis.stop();
});

describe('staff records', () => {
  it('stores email lower-cased and phone in E.164, and lists everyone', async () => {
    expect(await open.store.staff.get('ts1')).toEqual({
      id: 'ts1',
      name: 'Tess Specialist',
      email: 'tess@landlord.example',
      phone: '+442079460123',
      roles: ['tenancy-specialist'],
    });
    expect((await open.store.staff.list()).map((s) => s.id)).toEqual(['admin1', 'ts1']);
    expect(await open.store.staff.get('nobody')).toBeUndefined();
  });

  it('refuses an unusable email or phone', async () => {
    await expect(open.store.staff.put(aStaffMember({ id: 'x', email: 'not-an-address' }))).rejects.toMatchObject({ code: 'invalid-email' });
    await expect(open.store.staff.put(aStaffMember({ id: 'x', phone: '99' }))).rejects.toMatchObject({ code: 'invalid-phone' });
  });
});

describe('tokens', () => {
  it('issues a gk_ token that resolves to its owner', async () => {
    const { token, tokenId } = await open.store.staff.issueToken('ts1');
    expect(token).toMatch(/^gk_[A-Za-z0-9_-]{43}$/);
    const resolved = await open.store.staff.resolveToken(token);
    expect(resolved).toEqual({ tokenId, staff: expect.objectContaining({ id: 'ts1' }) });
  });

  it('issues a different token every time', async () => {
    const a = await open.store.staff.issueToken('admin1');
    const b = await open.store.staff.issueToken('admin1');
    expect(a.token).not.toBe(b.token);
    expect(a.tokenId).not.toBe(b.tokenId);
    expect(await open.store.staff.tokenIds('admin1')).toEqual([a.tokenId, b.tokenId].sort());
  });

  it('stores only the SHA-256 of a token, never the token', async () => {
    const { token } = await open.store.staff.issueToken('ts1');
    const secret = token.slice('gk_'.length);
    const everything = await dumpAll(open.connection);
    for (const [key, value] of everything) {
      expect(key).not.toContain(secret);
      expect(value).not.toContain(secret);
    }
    const sha = createHash('sha256').update(token).digest('hex');
    expect(everything.has(`gk:token:${sha}`)).toBe(true);
  });

  it('stops working the moment it is revoked', async () => {
    const { token, tokenId } = await open.store.staff.issueToken('ts1');
    expect(await open.store.staff.revokeToken(tokenId)).toBe(true);
    expect(await open.store.staff.resolveToken(token)).toBeUndefined();
    expect(await open.store.staff.revokeToken(tokenId)).toBe(false);
    expect(await open.store.staff.tokenIds('ts1')).not.toContain(tokenId);
  });

  it('revoking one token leaves the others working', async () => {
    const keep = await open.store.staff.issueToken('admin1');
    const drop = await open.store.staff.issueToken('admin1');
    await open.store.staff.revokeToken(drop.tokenId);
    expect((await open.store.staff.resolveToken(keep.token))?.tokenId).toBe(keep.tokenId);
  });

  it.each(['', 'gk_', 'Bearer gk_abc', 'gk_' + 'A'.repeat(43), 'xx_' + 'A'.repeat(43)])('resolves the unknown or malformed token %p to nobody', async (token) => {
    expect(await open.store.staff.resolveToken(token)).toBeUndefined();
  });

  it('refuses to issue a token for someone who does not exist', async () => {
    await expect(open.store.staff.issueToken('ghost')).rejects.toMatchObject({ code: 'not-found' });
  });
});
