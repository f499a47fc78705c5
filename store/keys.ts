/**
 * The Redis key layout: every key the store touches is built here, nowhere else.
 *
 * Everything lives under `gk:`. We never use ioredis `keyPrefix` (it does not apply to keys inside Lua
 * scripts or to SCAN results, a classic source of bugs); the prefix is spelled out below instead.
 *
 * Redis Cluster: a multi-key command, MULTI or script may only touch keys of one hash slot. Keys that are
 * written together share a hash tag (the part in `{…}`):
 *
 * | key | type | what |
 * |---|---|---|
 * | `gk:{c:<id>}:customer` | string | Customer JSON (phones E.164, emails lower-cased) |
 * | `gk:{c:<id>}:rev` | string | counter, bumped by every snapshot refresh (orders concurrent refreshes) |
 * | `gk:{c:<id>}:gate` | string | GateSnapshot JSON, for lookups by customer id |
 * | `gk:{c:<id>}:gate-rev` | string | rev of the snapshot in `:gate` |
 * | `gk:{c:<id>}:idents` | set | identity keys that may hold this customer's snapshot |
 * | `gk:{c:<id>}:restrictions` | set | ids of the customer's restrictions |
 * | `gk:{c:<id>}:restriction:<rid>` | string | Restriction JSON |
 * | `gk:{c:<id>}:contacts` | zset | contact ids scored by receivedAt (ms) |
 * | `gk:{c:<id>}:contact:<cid>` | string | StoredContact JSON (never the text) |
 * | `gk:{c:<id>}:contact-text:<cid>` | string | the contact's text, with a TTL (retention) |
 * | `gk:{c:<id>}:breaches:<rid>` | zset | ids of contacts that breached restriction `rid`, by time |
 * | `gk:{c:<id>}:responses` | hash | reference → response JSON |
 * | `gk:{c:<id>}:responded` | hash | contact id → RespondedContact JSON (text copied at response time) |
 * | `gk:{unmatched}:…` | | the same contact keys for senders we could not identify |
 * | `gk:ident:{phone:<e164>}` | hash | customer id → GateSnapshot JSON (one HGETALL resolves a caller) |
 * | `gk:ident:{email:<addr>}` | hash | the same, by email address |
 * | `gk:ident:{…}:rev` | hash | customer id → rev of that snapshot; kept after a removal as a tombstone |
 * | `gk:customers` | set | all customer ids |
 * | `gk:customer-names` | hash | customer id → lower-cased name (substring search scans it) |
 * | `gk:restriction-owner` | hash | restriction id → customer id |
 * | `gk:restrictions:status:<status>` | set | restriction ids; a superset, verified on read |
 * | `gk:staff` | set | all staff ids |
 * | `gk:staff:<id>` | string | Staff JSON |
 * | `gk:staff:<id>:customers` | set | customers whose snapshot names this staff member (a superset) |
 * | `gk:staff:<id>:tokens` | set | token ids issued to this staff member |
 * | `gk:token:<sha256hex>` | hash | `{ staffId, tokenId, createdAt }`; the raw token is never stored |
 * | `gk:token-id:<tokenId>` | string | sha256hex, so a token can be revoked by id |
 * | `gk:{audit}:stream` | stream | the audit log |
 * | `gk:{audit}:once:<key>` | string | idempotency guard of `appendOnce`, with a TTL |
 *
 *
 * Keys owned by other modules, each documented where it is built (listed here so this table is the map):
 *
 * | key | owner |
 * |---|---|
 * | `gk:raw:{<messageKey>}:body`, `:meta` | store/raw-messages.ts — raw inbound mail, TTL = retention |
 * | `gk:{c:<id>}:mail-held:<windowMs>`, `:mail-ack`, `:mail-ack-covered` | store/raw-messages.ts — digests and the acknowledgement gate |
 * | `gk:voice-call:<CallSid>` | channels/voice/call-session.ts — one record per call (TwiML for retries, claim), TTL 24 h |
 * | `gk:{c:<cid>}:letters:<rid>`, `:letter-pdf:<id>`, `:letter-parts:<id>` | workers/letter-store.ts — letters sent on a restriction |
 * | `gk:lifecycle:notice:<noticeId>` | workers/letter-store.ts — staff notices sent (reminders, escalations) |
 * | `gk:reports:<YYYY-MM>:audits` | gateway/report-store.ts — ts-managers' audit outcomes of sampled cases |
 * | `{gk}:<queue>:…` | BullMQ (workers/queue-prefix.ts): the hash-tagged prefix keeps each queue in one slot |
 * | `gk:events` | pub/sub channel of screen-pops (not a key) |
 *
 * The audit stream and its guards share the `{audit}` tag so that "append once" is one atomic script on
 * a cluster. Unmatched contacts share `{unmatched}` so that recording one stays atomic.
 */

import { InvalidValueError } from './errors';

const PREFIX = 'gk:';

/**
 * Ids become part of key names. A brace would move the hash tag (and so the slot), whitespace and
 * control characters make keys unreadable in tooling; anything else is allowed.
 */
const SAFE_ID = /^[^\s{}\p{Cc}]{1,200}$/u;

/** Whether `id` can be embedded in a key name without changing its hash tag. */
export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}

/**
 * Throws `invalid-id` unless `id` can be embedded in a key name without changing its hash tag.
 * @param kind what the id names, for the message.
 */
export function assertSafeId(id: string, kind: string): void {
  if (!isSafeId(id)) {
    throw new InvalidValueError('invalid-id', `The ${kind} id must be 1–200 characters without spaces or braces`);
  }
}

/** Keys of one customer; all share the hash tag `{c:<id>}`. */
export function customerKeys(customerId: string) {
  assertSafeId(customerId, 'customer');
  const base = `${PREFIX}{c:${customerId}}:`;
  return {
    customer: `${base}customer`,
    rev: `${base}rev`,
    gate: `${base}gate`,
    gateRev: `${base}gate-rev`,
    idents: `${base}idents`,
    restrictions: `${base}restrictions`,
    restriction: (restrictionId: string): string => `${base}restriction:${restrictionId}`,
    responses: `${base}responses`,
    responded: `${base}responded`,
    ...contactKeysUnder(base),
  };
}

/** The keys {@link customerKeys} returns. */
export type CustomerKeys = ReturnType<typeof customerKeys>;

function contactKeysUnder(base: string) {
  return {
    contacts: `${base}contacts`,
    contact: (contactId: string): string => `${base}contact:${contactId}`,
    contactText: (contactId: string): string => `${base}contact-text:${contactId}`,
    breaches: (restrictionId: string): string => `${base}breaches:${restrictionId}`,
  };
}

/** Contact keys for one customer, or for unidentified senders (`customerId` undefined, tag `{unmatched}`). */
export function contactKeys(customerId: string | undefined): ReturnType<typeof contactKeysUnder> {
  return customerId === undefined ? contactKeysUnder(`${PREFIX}{unmatched}:`) : customerKeys(customerId);
}

/** The kinds of identity the index holds. */
export type IdentityKind = 'phone' | 'email';

/**
 * The identity-index hash for a normalised phone (E.164) or email (lower-cased). The whole identity is
 * the hash tag, so the hash and its `:rev` companion always share a slot.
 */
export function identityKey(kind: IdentityKind, normalised: string): string {
  return `${PREFIX}ident:{${kind}:${normalised}}`;
}

/** The companion of an identity hash that records, per customer, the rev of the snapshot written there. */
export function identityRevKey(identKey: string): string {
  return `${identKey}:rev`;
}

/** Global keys (no hash tag: each is a single key, used on its own). */
export const globalKeys = {
  customers: `${PREFIX}customers`,
  customerNames: `${PREFIX}customer-names`,
  restrictionOwner: `${PREFIX}restriction-owner`,
  restrictionsByStatus: (status: string): string => `${PREFIX}restrictions:status:${status}`,
  staffIds: `${PREFIX}staff`,
  staff: (staffId: string): string => {
    assertSafeId(staffId, 'staff');
    return `${PREFIX}staff:${staffId}`;
  },
  staffCustomers: (staffId: string): string => `${PREFIX}staff:${staffId}:customers`,
  staffTokens: (staffId: string): string => `${PREFIX}staff:${staffId}:tokens`,
  token: (sha256hex: string): string => `${PREFIX}token:${sha256hex}`,
  tokenId: (tokenId: string): string => `${PREFIX}token-id:${tokenId}`,
  auditStream: `${PREFIX}{audit}:stream`,
  auditOnce: (key: string): string => `${PREFIX}{audit}:once:${key}`,
} as const;
