/**
 * The ts-managers' audit outcomes of the monthly sample (policy §9: "auditing a sample of cases each
 * month"), kept in Redis next to nothing else: one hash per month, restriction id → outcome JSON.
 *
 * | key | type | what |
 * |---|---|---|
 * | `gk:reports:<YYYY-MM>:audits` | hash | restriction id → {@link AuditOutcomeRecord} JSON |
 *
 * A single key per month, so it is cluster-safe without a hash tag. Audit outcomes are records a regulator
 * may ask for, so they have no TTL.
 */
import type { RedisConnection } from '../store/connections';
import { guard, parseRecord } from '../store/guard';

/** What a ts-manager found when auditing one sampled case. */
export type AuditOutcome = 'compliant' | 'action-needed';

/** One recorded audit of a sampled case. */
export interface AuditOutcomeRecord {
  restrictionId: string;
  month: string;
  outcome: AuditOutcome;
  note: string;
  /** Staff id of the ts-manager. */
  by: string;
  /** ISO instant. */
  at: string;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function auditsKey(month: string): string {
  // The month is validated by every caller; checked again because it becomes part of a key name.
  if (!MONTH.test(month)) throw new RangeError(`Not a month: ${month}`);
  return `gk:reports:${month}:audits`;
}

/** Reads and writes audit outcomes. Every method may throw StoreUnavailableError. */
export class ReportAuditStore {
  constructor(private readonly redis: RedisConnection) {}

  /** Records (or replaces: a manager may revisit a case within the month) the outcome for one case. */
  async record(record: AuditOutcomeRecord): Promise<void> {
    await guard(async () => {
      await this.redis.hset(auditsKey(record.month), record.restrictionId, JSON.stringify(record));
    });
  }

  /** The month's recorded outcomes, by restriction id. */
  async list(month: string): Promise<Map<string, AuditOutcomeRecord>> {
    const key = auditsKey(month);
    return guard(async () => {
      const all = await this.redis.hgetall(key);
      return new Map(Object.entries(all).map(([id, json]) => [id, parseRecord<AuditOutcomeRecord>(`${key} ${id}`, json)]));
    });
  }
}
