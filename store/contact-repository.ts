/**
 * Recorded contacts: the evidence of what came in and what the gate decided. Recording is idempotent by
 * contact id (a retried webhook, a re-delivered email), and the message text is kept apart from the
 * record with a retention TTL, because it is personal data needed only for repeat detection.
 */
import { Cluster, type Result } from 'ioredis';
import type { Channel } from '../rules/types';
import type { RedisConnection } from './connections';
import { ConflictError, InvalidValueError, NotFoundError } from './errors';
import { execResults, guard, parseOptional, parseRecord } from './guard';
import { normaliseEmail, normalisePhone } from './identity';
import { assertSafeId, contactKeys } from './keys';
import { defineScripts, scriptSource } from './scripts';
import type { ContactPatch, StoredContact } from './types';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** store/scripts/record-contact-4.lua */
    gkRecordContact(
      recordKey: string,
      historyKey: string,
      textKey: string,
      breachKey: string,
      json: string,
      receivedMs: number,
      contactId: string,
      hasText: '0' | '1',
      text: string,
      textTtlSeconds: number,
      breach: '0' | '1',
    ): Result<number, Context>;
    /** store/scripts/record-contacts-many.lua: `numberOfKeys` first (four per contact). */
    gkRecordContactsMany(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Result<number[], Context>;
  }
}

/** The arguments of `gkRecordContact`, in order. */
type RecordContactArgs = [string, string, string, string, string, number, string, '0' | '1', string, number, '0' | '1'];

/** The script that records a contact, and the one that records several (single server or Sentinel). */
const RECORD_CONTACT_SCRIPT = 'record-contact-4.lua';
const RECORD_CONTACTS_MANY_SCRIPT = 'record-contacts-many.lua';

/** Options of {@link ContactRepository}. */
export interface ContactRepositoryOptions {
  /** How long a contact's text is kept for repeat detection, in days. @default 400 */
  textRetentionDays?: number;
  /** Region for reading national phone formats. @default 'GB' */
  region?: string;
}

/** Default retention of contact texts: a year of repeat detection, plus a review cycle's slack. */
export const DEFAULT_TEXT_RETENTION_DAYS = 400;

/** Attempts of an optimistic update before giving up with `concurrent-update`. */
const UPDATE_ATTEMPTS = 5;

/** The most contacts one `list` returns. */
const MAX_LIST = 1000;

function instantMs(iso: string, field: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new InvalidValueError('invalid-date', `${field} is not an ISO instant`);
  return ms;
}

/** Contacts of one customer, or of unidentified senders when `customerId` is `undefined`. */
export class ContactRepository {
  private readonly textTtlSeconds: number;
  private readonly region: string;

  constructor(
    private readonly redis: RedisConnection,
    options: ContactRepositoryOptions = {},
  ) {
    defineScripts(redis);
    redis.defineCommand('gkRecordContact', { numberOfKeys: 4, lua: scriptSource(RECORD_CONTACT_SCRIPT) });
    // Without a fixed key count: the caller passes it first (four per contact).
    redis.defineCommand('gkRecordContactsMany', { lua: scriptSource(RECORD_CONTACTS_MANY_SCRIPT) });
    this.textTtlSeconds = Math.round((options.textRetentionDays ?? DEFAULT_TEXT_RETENTION_DAYS) * 86_400);
    this.region = options.region ?? 'GB';
  }

  /**
   * Records a contact once: a second call with the same id changes nothing and returns `false`.
   * `text`, when given, is stored apart (`contact-text:<id>`, expiring after the retention period) so
   * that a response can later copy it into the responded list; it is never part of the record.
   * `from` is normalised (E.164 for voice and visits, lower-cased for email and letters) when it can be.
   * @returns whether the contact was new.
   */
  async record(customerId: string | undefined, contact: StoredContact & { text?: string }): Promise<boolean> {
    const args = this.recordArgs(customerId, contact);
    return guard(async () => (await this.redis.gkRecordContact(...args)) === 1);
  }

  /**
   * {@link record} for several contacts, sent together: one command for the lot on a single server or
   * Sentinel (record-contacts-many.lua records each exactly as record-contact-4.lua does). On a cluster,
   * where one command cannot span the customers' slots, each is sent on its own. For callers that record many contacts at once (the voice webhooks
   * record every call decided in one turn of the event loop together).
   * @returns one promise per contact, in order, settling as {@link record}'s would — except that a Redis
   *   failure fails the whole batch (one command); an invalid contact fails alone, before anything is sent.
   */
  recordAll(contacts: ReadonlyArray<{ customerId: string | undefined; contact: StoredContact & { text?: string } }>): Array<Promise<boolean>> {
    if (this.redis instanceof Cluster || contacts.length < 2) return contacts.map(({ customerId, contact }) => this.record(customerId, contact));
    const keys: Array<string | number> = [];
    const args: Array<string | number> = [];
    let sent = 0;
    const positions: Array<number | Error> = contacts.map(({ customerId, contact }) => {
      try {
        const [k1, k2, k3, k4, ...rest] = this.recordArgs(customerId, contact);
        keys.push(k1, k2, k3, k4);
        args.push(...rest);
        return sent++;
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    const replies: Promise<number[]> = sent === 0 ? Promise.resolve([]) : guard(() => this.redis.gkRecordContactsMany(keys.length, ...keys, ...args));
    return positions.map(async (position) => {
      if (position instanceof Error) throw position;
      return (await replies)[position] === 1;
    });
  }

  /** The keys and arguments of record-contact-4.lua for one contact (validating it first). */
  private recordArgs(customerId: string | undefined, contact: StoredContact & { text?: string }): RecordContactArgs {
    assertSafeId(contact.id, 'contact');
    const keys = contactKeys(customerId);
    const receivedMs = instantMs(contact.receivedAt, 'receivedAt');
    const { text, ...rest } = contact;
    const stored: StoredContact = rest.from === undefined ? rest : { ...rest, from: this.normaliseFrom(rest.channel, rest.from) };
    const breachOf = stored.breach && stored.restrictionId !== undefined ? stored.restrictionId : undefined;
    // One slot, one script; each step is a no-op the second time (NX), so a retry is harmless.
    return [
      keys.contact(contact.id),
      keys.contacts,
      keys.contactText(contact.id),
      breachOf === undefined ? keys.contacts : keys.breaches(breachOf),
      JSON.stringify(stored),
      receivedMs,
      contact.id,
      text === undefined ? '0' : '1',
      text ?? '',
      this.textTtlSeconds,
      breachOf === undefined ? '0' : '1',
    ];
  }

  /** One recorded contact (without its text), or `undefined`. */
  async get(customerId: string | undefined, id: string): Promise<StoredContact | undefined> {
    const key = contactKeys(customerId).contact(id);
    return guard(async () => parseOptional<StoredContact>(key, await this.redis.get(key)));
  }

  /**
   * Changes a recorded contact (e.g. a call's final status, or a breach found later), keeping the breach
   * index in step. Optimistic: re-read and retried if the record changes meanwhile.
   * @returns the contact as stored now.
   * @throws NotFoundError when there is no such contact.
   */
  async update(customerId: string | undefined, id: string, patch: ContactPatch): Promise<StoredContact> {
    const keys = contactKeys(customerId);
    const key = keys.contact(id);
    return guard(async () => {
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        const before = await this.redis.get(key);
        if (before === null) throw new NotFoundError('contact', id);
        const current = parseRecord<StoredContact>(key, before);
        const next: StoredContact = { ...current, ...patch, id: current.id, receivedAt: current.receivedAt, channel: current.channel };
        // Details arrive in pieces (who answered, then the duration): merged inside the compare-and-set, so
        // two pieces landing at once both stay.
        if (patch.details !== undefined) next.details = { ...current.details, ...patch.details };
        if (patch.from !== undefined) next.from = this.normaliseFrom(next.channel, patch.from);
        if ((await this.redis.gkCompareAndSet(key, before, JSON.stringify(next))) === 1) {
          await this.reindexBreach(keys, current, next);
          return next;
        }
      }
      throw new ConflictError('concurrent-update', 'The contact kept changing; try again');
    });
  }

  /** The customer's contacts, newest first (records only, never texts). */
  async list(customerId: string | undefined, limit = 50): Promise<StoredContact[]> {
    const keys = contactKeys(customerId);
    const count = Math.min(Math.max(1, Math.floor(limit)), MAX_LIST);
    return guard(async () => {
      const ids = await this.redis.zrevrange(keys.contacts, 0, count - 1);
      if (ids.length === 0) return [];
      const jsons = await this.redis.mget(ids.map(keys.contact));
      return jsons.flatMap((json, i) => (json === null ? [] : [parseRecord<StoredContact>(keys.contact(ids[i] ?? ''), json)]));
    });
  }

  /**
   * Which of `ids` are in the customer's contact history, in one round trip (a pipeline of EXISTS on the
   * records, which are written with their place in the history by one script; every key is in the
   * customer's slot, so this works on a cluster too). EXISTS rather than ZMSCORE, which needs Redis 6.2.
   * @returns the ids that are recorded (a subset of `ids`).
   */
  async known(customerId: string | undefined, ids: readonly string[]): Promise<Set<string>> {
    const keys = contactKeys(customerId);
    const unique = [...new Set(ids)];
    for (const id of unique) assertSafeId(id, 'contact');
    if (unique.length === 0) return new Set();
    return guard(async () => {
      const pipeline = this.redis.pipeline();
      for (const id of unique) pipeline.exists(keys.contact(id));
      const replies = execResults(await pipeline.exec());
      return new Set(unique.filter((_, i) => replies[i] === 1));
    });
  }

  /** How many recorded contacts breached `restrictionId` at or after `sinceIso`. */
  async breachCount(customerId: string, restrictionId: string, sinceIso: string): Promise<number> {
    const keys = contactKeys(customerId);
    const since = instantMs(sinceIso, 'since');
    return guard(async () => this.redis.zcount(keys.breaches(restrictionId), since, '+inf'));
  }

  private async reindexBreach(keys: ReturnType<typeof contactKeys>, before: StoredContact, after: StoredContact): Promise<void> {
    const was = before.breach && before.restrictionId !== undefined ? before.restrictionId : undefined;
    const is = after.breach && after.restrictionId !== undefined ? after.restrictionId : undefined;
    if (was === is) return;
    if (was !== undefined) await this.redis.zrem(keys.breaches(was), after.id);
    if (is !== undefined) await this.redis.zadd(keys.breaches(is), 'NX', Date.parse(after.receivedAt), after.id);
  }

  private normaliseFrom(channel: Channel, from: string): string {
    const normalised = channel === 'voice' || channel === 'visit' ? normalisePhone(from, this.region) : normaliseEmail(from);
    return normalised ?? from;
  }
}
