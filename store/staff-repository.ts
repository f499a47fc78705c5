/**
 * Staff and their API tokens. A token is shown once, when issued; only its SHA-256 is stored, so a copy
 * of the database (or of a backup) does not let anyone act as staff.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role, Staff } from '../rules/types';
import type { RedisConnection } from './connections';
import { InvalidValueError, NotFoundError } from './errors';
import { guard, parseOptional } from './guard';
import { normaliseEmail, normalisePhone } from './identity';
import { assertSafeId, globalKeys, isSafeId } from './keys';
import type { SnapshotWriter } from './snapshot-writer';

/** Every token starts with this, so secret scanners and people can recognise a leaked one. */
export const TOKEN_PREFIX = 'gk_';

/** 32 random bytes in base64url are 43 characters. */
const TOKEN_SHAPE = /^gk_[A-Za-z0-9_-]{43}$/;

/** The stored form of a token: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Options of {@link StaffRepository}. */
export interface StaffRepositoryOptions {
  /** Region for reading national phone formats. @default 'GB' */
  region?: string;
}

/** Reads and writes staff, and issues, resolves and revokes their bearer tokens. */
export class StaffRepository {
  private readonly region: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly snapshots: SnapshotWriter,
    options: StaffRepositoryOptions = {},
  ) {
    this.region = options.region ?? 'GB';
  }

  /** The member of staff, or `undefined`. */
  async get(id: string): Promise<Staff | undefined> {
    return guard(async () => {
      const key = globalKeys.staff(id);
      return parseOptional<Staff>(key, await this.redis.get(key));
    });
  }

  /**
   * Creates or replaces a member of staff (email lower-cased, phone in E.164), then refreshes the gate
   * snapshots of customers whose restrictions name them, so calls route to their current number.
   * @returns the member of staff as stored.
   */
  async put(staff: Staff): Promise<Staff> {
    const stored = this.normalise(staff);
    return guard(async () => {
      await this.redis.set(globalKeys.staff(stored.id), JSON.stringify(stored));
      await this.redis.sadd(globalKeys.staffIds, stored.id);
      await this.snapshots.refreshStaff(stored.id);
      return stored;
    });
  }

  /** All staff, sorted by id. */
  async list(): Promise<Staff[]> {
    return guard(async () => {
      const ids = (await this.redis.smembers(globalKeys.staffIds)).sort();
      // One GET per member rather than MGET: staff keys live in different cluster slots.
      const all = await Promise.all(ids.map((id) => this.get(id)));
      return all.filter((s): s is Staff => s !== undefined);
    });
  }

  /**
   * Issues a bearer token for `staffId`: `gk_` + 32 random bytes (base64url). The token itself is
   * returned once and never stored; `tokenId` names it for revocation and audit.
   * @throws NotFoundError when there is no such member of staff.
   */
  async issueToken(staffId: string): Promise<{ token: string; tokenId: string }> {
    return guard(async () => {
      if ((await this.redis.exists(globalKeys.staff(staffId))) === 0) throw new NotFoundError('staff', staffId);
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const tokenId = randomUUID();
      const hash = hashToken(token);
      // The indexes that let us revoke it are written before the token can be used.
      await Promise.all([
        this.redis.set(globalKeys.tokenId(tokenId), hash),
        this.redis.sadd(globalKeys.staffTokens(staffId), tokenId),
      ]);
      await this.redis.hset(globalKeys.token(hash), { staffId, tokenId, createdAt: new Date().toISOString() });
      return { token, tokenId };
    });
  }

  /**
   * The member of staff a bearer token belongs to, or `undefined` for an unknown, revoked or malformed
   * token (malformed ones never reach Redis), or one whose owner no longer exists.
   */
  async resolveToken(token: string): Promise<{ staff: Staff; tokenId: string } | undefined> {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    return guard(async () => {
      const record = await this.redis.hgetall(globalKeys.token(hashToken(token)));
      const { staffId, tokenId } = record;
      if (staffId === undefined || tokenId === undefined || !isSafeId(staffId)) return undefined;
      const staff = await this.get(staffId);
      return staff ? { staff, tokenId } : undefined;
    });
  }

  /**
   * Revokes a token by its id; it stops working at once.
   * @returns `false` when no such token exists (already revoked, or never issued).
   */
  async revokeToken(tokenId: string): Promise<boolean> {
    return guard(async () => {
      const hash = await this.redis.get(globalKeys.tokenId(tokenId));
      if (hash === null) return false;
      const staffId = await this.redis.hget(globalKeys.token(hash), 'staffId');
      // The token itself goes first: from here on it is unusable, whatever happens to the indexes.
      await this.redis.del(globalKeys.token(hash));
      await Promise.all([
        this.redis.del(globalKeys.tokenId(tokenId)),
        staffId === null ? Promise.resolve(0) : this.redis.srem(globalKeys.staffTokens(staffId), tokenId),
      ]);
      return true;
    });
  }

  /** The ids of the tokens issued to a member of staff and not revoked. */
  async tokenIds(staffId: string): Promise<string[]> {
    assertSafeId(staffId, 'staff');
    return guard(async () => (await this.redis.smembers(globalKeys.staffTokens(staffId))).sort());
  }

  private normalise(staff: Staff): Staff {
    assertSafeId(staff.id, 'staff');
    const email = normaliseEmail(staff.email);
    if (email === undefined) throw new InvalidValueError('invalid-email', 'email is not an email address');
    const stored: Staff = { ...staff, email, roles: [...new Set<Role>(staff.roles)] };
    if (staff.phone !== undefined) {
      const phone = normalisePhone(staff.phone, this.region);
      if (phone === undefined) throw new InvalidValueError('invalid-phone', 'phone is not a usable phone number');
      stored.phone = phone;
    }
    return stored;
  }
}
