/**
 * What the lifecycle workers have sent: each restriction's letters to the customer (the record that a
 * notification, variation, review outcome, appeal outcome or lifting was sent, when and how, with the PDF for
 * a retention period), and the notices to staff (reminders, escalations, breach notices, monthly reports)
 * that must go once only.
 *
 * | key | type | what |
 * |---|---|---|
 * | `gk:{c:<cid>}:letters:<rid>` | list | {@link StoredLetter} JSON, oldest first; kept for good (it is evidence) |
 * | `gk:{c:<cid>}:letter-pdf:<letterId>` | string | the PDF as sent, raw bytes, expiring after the retention period |
 * | `gk:{c:<cid>}:letter-parts:<letterId>` | hash | part (`email`, `print`) → Message-ID, while a letter is being sent (30 days) |
 * | `gk:lifecycle:notice:<noticeId>` | string | `{ sentAt, messageId }` of a staff notice, with a TTL per kind |
 *
 * A restriction's keys share the customer's hash tag, so recording a letter and its PDF is one script on a
 * cluster. Notice markers are single keys used alone.
 */
import { createHash } from 'node:crypto';
import type { Result } from 'ioredis';
import type { RedisConnection } from '../store/connections';
import { guard, parseRecord } from '../store/guard';
import { assertSafeId } from '../store/keys';

/**
 * The letters of a restriction's life. `appeal-outcome` is the letter of a dismissed appeal (the arrangements
 * stay); an upheld appeal sends `lifting` and a varied one `variation`, which say the appeal led to them.
 */
export type LetterKind = 'notification' | 'variation' | 'review-outcome' | 'appeal-outcome' | 'lifting';

/** How a letter went out: by email to the customer, and to the print mailbox to be posted. */
export type LetterChannel = 'email' | 'print';

/** One letter as recorded on its restriction. */
export interface StoredLetter {
  /** `<restrictionId>.<historyLength>`: one letter per transition. */
  id: string;
  restrictionId: string;
  customerId: string;
  kind: LetterKind;
  /** The history action that caused it (`approve`, `vary`, `review:continue`, `lift`, `expire`, …). */
  transition: string;
  /** When the transition happened (ISO). */
  transitionAt: string;
  title: string;
  /** When the last part was handed over (ISO). */
  sentAt: string;
  channels: LetterChannel[];
  /** Recipient parts refused for good (e.g. the customer's mailbox does not exist). */
  refused?: LetterChannel[];
  variants: { largePrint: boolean; plainText: boolean };
  /** The PDF as printed: where it is, its size and digest (it outlives the bytes), and until when it is kept. */
  pdf: { key: string; bytes: number; sha256: string; expiresAt: string };
  messageIds: string[];
}

/** Scripts of this module, registered with defineCommand. */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** {@link RECORD_LETTER_LUA} */
    gkRecordLetter(lettersKey: string, pdfKey: string, letterId: string, json: string, pdf: Buffer, ttlSeconds: number): Result<number, Context>;
  }
}

/**
 * record-letter-2: appends a letter's record to its restriction's list once, and stores its PDF.
 * KEYS[1] the restriction's letter list; KEYS[2] the PDF key.
 * ARGV[1] letter id; ARGV[2] record JSON; ARGV[3] PDF bytes; ARGV[4] PDF TTL in seconds.
 * Returns 1 when recorded, 0 when a letter with that id was already recorded (a retried job).
 * A restriction has a handful of letters, so the scan of the list costs nothing.
 */
const RECORD_LETTER_LUA = `
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if cjson.decode(item)['id'] == ARGV[1] then return 0 end
end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return 1
`;

const defined = new WeakSet<RedisConnection>();

/** How long the per-part progress of a letter is remembered: longer than any retry schedule. */
const PARTS_TTL_SECONDS = 30 * 86_400;

function letterKeys(customerId: string, restrictionId: string, letterId: string) {
  // Ids become part of key names: a brace would move the hash tag (store/keys.ts).
  assertSafeId(customerId, 'customer');
  assertSafeId(restrictionId, 'restriction');
  const prefix = `gk:{c:${customerId}}:`;
  return {
    letters: `${prefix}letters:${restrictionId}`,
    pdf: `${prefix}letter-pdf:${letterId}`,
    parts: `${prefix}letter-parts:${letterId}`,
  };
}

/** The id of the letter a transition causes: the restriction and the history length after it. */
export function letterIdFor(restrictionId: string, historyLength: number): string {
  return `${restrictionId}.${historyLength}`;
}

/** Reads and records the letters sent for restrictions. Every method may throw StoreUnavailableError. */
export class LetterStore {
  private readonly pdfTtlSeconds: number;

  /**
   * @param redis the store connection
   * @param options `retentionDays`: how long PDFs are kept (default 400)
   */
  constructor(
    private readonly redis: RedisConnection,
    options: { retentionDays?: number } = {},
  ) {
    this.pdfTtlSeconds = Math.round((options.retentionDays ?? 400) * 86_400);
    if (!defined.has(redis)) {
      redis.defineCommand('gkRecordLetter', { numberOfKeys: 2, lua: RECORD_LETTER_LUA });
      defined.add(redis);
    }
  }

  /**
   * Records a sent letter and its PDF, once per letter id.
   * @returns the record as stored, and whether it was new (false: a retry found it already recorded).
   */
  async record(letter: Omit<StoredLetter, 'pdf'>, pdf: Buffer, now: Date): Promise<{ letter: StoredLetter; created: boolean }> {
    const keys = letterKeys(letter.customerId, letter.restrictionId, letter.id);
    const stored: StoredLetter = {
      ...letter,
      pdf: {
        key: keys.pdf,
        bytes: pdf.length,
        sha256: createHash('sha256').update(pdf).digest('hex'),
        expiresAt: new Date(now.getTime() + this.pdfTtlSeconds * 1000).toISOString(),
      },
    };
    return guard(async () => {
      const created = await this.redis.gkRecordLetter(keys.letters, keys.pdf, letter.id, JSON.stringify(stored), pdf, this.pdfTtlSeconds);
      if (created === 1) await this.redis.del(keys.parts);
      return { letter: stored, created: created === 1 };
    });
  }

  /** The letters recorded for a restriction, oldest first. */
  async list(customerId: string, restrictionId: string): Promise<StoredLetter[]> {
    const keys = letterKeys(customerId, restrictionId, 'x');
    return guard(async () => (await this.redis.lrange(keys.letters, 0, -1)).map((json) => parseRecord<StoredLetter>(keys.letters, json)));
  }

  /** Whether the letter with this id was recorded. */
  async has(customerId: string, restrictionId: string, letterId: string): Promise<boolean> {
    return (await this.list(customerId, restrictionId)).some((l) => l.id === letterId);
  }

  /** The PDF of a recorded letter, until its retention period ends. */
  async pdf(customerId: string, restrictionId: string, letterId: string): Promise<Buffer | undefined> {
    const keys = letterKeys(customerId, restrictionId, letterId);
    return guard(async () => (await this.redis.getBuffer(keys.pdf)) ?? undefined);
  }

  /** Parts of a letter already handed over (by an earlier attempt of the same job), with their Message-IDs. */
  async sentParts(customerId: string, restrictionId: string, letterId: string): Promise<Map<string, string>> {
    const keys = letterKeys(customerId, restrictionId, letterId);
    return guard(async () => new Map(Object.entries(await this.redis.hgetall(keys.parts))));
  }

  /**
   * Remembers that one part of a letter was handed over (or refused for good, `messageId` = `refused`), so
   * a retry after a later part failed does not send it twice.
   */
  async markPartSent(customerId: string, restrictionId: string, letterId: string, part: string, messageId: string): Promise<void> {
    const keys = letterKeys(customerId, restrictionId, letterId);
    await guard(async () => {
      await this.redis.multi().hset(keys.parts, part, messageId).expire(keys.parts, PARTS_TTL_SECONDS).exec();
    });
  }
}

/** What a notice marker holds. */
export interface NoticeRecord {
  sentAt: string;
  messageId: string;
}

const NOTICE_ID = /^[\w.@%+-]{1,300}$/;

/**
 * Staff notices sent, by notice id (e.g. `review-upcoming.R1.2027-02-05`), so that each goes once: the
 * sweeps skip a notice already marked, and the worker marks it once the mail is handed over.
 */
export class NoticeLog {
  constructor(private readonly redis: RedisConnection) {}

  private key(noticeId: string): string {
    // Notice ids are built from restriction ids and dates; checked because they become key names.
    if (!NOTICE_ID.test(noticeId)) throw new RangeError(`Not a notice id: ${noticeId}`);
    return `gk:lifecycle:notice:${noticeId}`;
  }

  /** The record of a sent notice, or `undefined`. */
  async get(noticeId: string): Promise<NoticeRecord | undefined> {
    const key = this.key(noticeId);
    return guard(async () => {
      const json = await this.redis.get(key);
      return json === null ? undefined : parseRecord<NoticeRecord>(key, json);
    });
  }

  /** Whether the notice was sent (within its TTL). */
  async wasSent(noticeId: string): Promise<boolean> {
    return (await this.get(noticeId)) !== undefined;
  }

  /**
   * Marks the notice sent for `ttlSeconds` (after which the same id could go again: a breach notice
   * repeats once per period; the others outlive their dates).
   */
  async markSent(noticeId: string, record: NoticeRecord, ttlSeconds: number): Promise<void> {
    const key = this.key(noticeId);
    await guard(async () => {
      await this.redis.set(key, JSON.stringify(record), 'EX', Math.max(1, Math.round(ttlSeconds)));
    });
  }
}
