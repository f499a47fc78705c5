/**
 * The hot path: who is this contact from, and what applies to them? One Redis round trip per inbound
 * decision (DESIGN.md §1): a phone or email is one HGETALL of its identity hash, whose fields are the
 * customers holding that identity and whose values are their ready-made GateSnapshots. A customer id is
 * one GET of that customer's snapshot key.
 *
 * Use it with the lookup connection (connections.ts), which fails in well under a second, so a call
 * never waits on a sick Redis: the gate then proceeds flagged `restriction-check-unavailable`.
 */
import { Cluster } from 'ioredis';

import type { GateSnapshot, Identification, RespondedContact } from '../rules/types';
import type { RedisConnection } from './connections';
import { StoreUnavailableError } from './errors';
import { guard, parseRecord } from './guard';
import { normaliseEmail, normalisePhone } from './identity';
import { customerKeys, identityKey, isSafeId } from './keys';
import { parseResponded } from './response-repository';
import { defineScripts } from './scripts';

/** Who a contact claims to be. The first usable one of `customerId`, `phone`, `email` is looked up. */
export interface ContactIdentity {
  /** As received (any format); withheld caller IDs resolve to nobody. */
  phone?: string;
  /** As received (`Name <a@b>` forms are fine). */
  email?: string;
  /** When staff already know the customer (reception, console). */
  customerId?: string;
}

/** Options of {@link GateRepository.resolve}. */
export interface ResolveOptions {
  /**
   * Also load the customer's responded-to contacts when an active restriction of theirs has a
   * `new-issues-only` or `response-frequency` measure (a second round trip, for those customers only; written channels need it,
   * calls do not).
   * @default false
   */
  responded?: boolean;
}

/** Options of {@link GateRepository}. */
export interface GateRepositoryOptions {
  /** Region for reading national phone formats. @default 'GB' */
  region?: string;
}

/** Resolves contacts to customers and their gate snapshots. */
export class GateRepository {
  private readonly region: string;

  constructor(
    private readonly lookup: RedisConnection,
    options: GateRepositoryOptions = {},
  ) {
    this.region = options.region ?? 'GB';
    defineScripts(lookup);
  }

  /**
   * Identifies a contact. No matching customer (or a withheld or unreadable identity, which never reaches
   * Redis) is `unidentified`; one is `resolved`; several (a household sharing a number) is `ambiguous`.
   * @throws StoreUnavailableError when Redis cannot answer in time; see {@link resolveOrUnavailable}.
   */
  async resolve(identity: ContactIdentity, options: ResolveOptions = {}): Promise<Identification> {
    return guard(async () => {
      const found = await this.lookupSnapshots(identity);
      const identification = identify(found);
      if (identification.kind === 'resolved' && options.responded && needsResponded(identification.snapshot)) {
        return { ...identification, responded: await this.responded(identification.snapshot.customerId) };
      }
      return identification;
    });
  }

  /**
   * {@link resolve} for a phone number, reading one more string key in the same command: the voice
   * webhook reads the call's session with it (a retried webhook replays its answer) at no extra cost. On
   * a single server or Sentinel that is one script (lookup-identity-and-get-2.lua); on a cluster, where
   * the two keys lie in different slots, HGETALL and GET in one round trip. A withheld or unreadable
   * number is not looked up (`unidentified`), and only the other key is read.
   * @returns the identification, and the other key's value (`null` when it has none).
   * @throws StoreUnavailableError when Redis cannot answer in time.
   */
  async resolvePhoneAnd(phone: string, otherKey: string): Promise<{ identification: Identification; other: string | null }> {
    return guard(async () => {
      const key = this.identityKeyOf({ phone });
      if (key === undefined) return { identification: { kind: 'unidentified' }, other: await this.lookup.get(otherKey) };
      if (this.lookup instanceof Cluster) {
        const [fields, other] = await Promise.all([this.lookup.hgetall(key), this.lookup.get(otherKey)]);
        return { identification: identify(snapshotsOf(key, Object.values(fields))), other };
      }
      const [flat, other] = await this.lookup.gkLookupIdentityAndGet(key, otherKey);
      // HGETALL's reply inside a script's is the flat field, value, field, value … list.
      return { identification: identify(snapshotsOf(key, flat.filter((_, i) => i % 2 === 1))), other };
    });
  }

  /**
   * Like {@link resolve}, but an unavailable store gives `{ kind: 'unavailable' }` instead of an error,
   * which is exactly what the decision needs (proceed on the normal route, flagged). Other errors
   * (bugs) still throw.
   */
  async resolveOrUnavailable(identity: ContactIdentity, options: ResolveOptions = {}): Promise<Identification> {
    try {
      return await this.resolve(identity, options);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return { kind: 'unavailable' };
      throw error;
    }
  }

  /** The snapshots an identity resolves to: the single round trip. */
  private async lookupSnapshots(identity: ContactIdentity): Promise<GateSnapshot[]> {
    if (identity.customerId !== undefined) {
      if (!isSafeId(identity.customerId)) return [];
      const key = customerKeys(identity.customerId).gate;
      const json = await this.lookup.get(key);
      return json === null ? [] : [parseRecord<GateSnapshot>(key, json)];
    }
    const key = this.identityKeyOf(identity);
    if (key === undefined) return [];
    const fields = await this.lookup.hgetall(key);
    return snapshotsOf(key, Object.values(fields));
  }

  private identityKeyOf(identity: ContactIdentity): string | undefined {
    const phone = identity.phone === undefined ? undefined : normalisePhone(identity.phone, this.region);
    if (phone !== undefined) return identityKey('phone', phone);
    const email = identity.email === undefined ? undefined : normaliseEmail(identity.email);
    if (email !== undefined) return identityKey('email', email);
    return undefined;
  }

  private async responded(customerId: string): Promise<RespondedContact[]> {
    const key = customerKeys(customerId).responded;
    return parseResponded(key, await this.lookup.hvals(key));
  }
}

/** The gate snapshots stored as an identity hash's values. */
function snapshotsOf(key: string, values: readonly string[]): GateSnapshot[] {
  return values.map((json) => parseRecord<GateSnapshot>(key, json));
}

/** Nobody, one customer, or several (a household sharing a number or address). */
function identify(found: readonly GateSnapshot[]): Identification {
  if (found.length === 0) return { kind: 'unidentified' };
  const [only, ...others] = found;
  if (only === undefined || others.length > 0) return { kind: 'ambiguous', customerIds: found.map((s) => s.customerId).sort() };
  return { kind: 'resolved', snapshot: only };
}

/** Whether repeat detection can apply to this customer at all. */
/** Repeat detection compares with answered texts; a response frequency counts from the last response. */
function needsResponded(snapshot: GateSnapshot): boolean {
  return snapshot.restrictions.some(
    (r) => r.status === 'active' && r.measures.some((m) => m.type === 'new-issues-only' || m.type === 'response-frequency'),
  );
}
