/**
 * The audit log: one Redis stream, `gk:{audit}:stream`, of who did what to which record and when —
 * every lifecycle transition, decision, token issue and exception (DESIGN.md §2, §4).
 *
 * Bounded with `XADD … MAXLEN ~ <n>` (default one million records, trimmed in whole macro-nodes, so
 * slightly more are kept): Redis holds the working log for the console and the monthly report, and
 * anything that must be kept for years is exported from it. The bound is a safety net against filling
 * memory (and, with `noeviction`, refusing writes), not a retention policy.
 */
import type { Result } from 'ioredis';
import type { RedisConnection } from './connections';
import { InvalidValueError } from './errors';
import { guard, parseRecord } from './guard';
import { assertSafeId, globalKeys } from './keys';
import { defineScripts, scriptSource } from './scripts';
import type { AuditEntry, AuditRecord } from './types';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** store/scripts/append-audit-once-many.lua: `numberOfKeys` first (1 + the number of records). */
    gkAppendAuditOnceMany(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Result<Array<number | string>, Context>;
  }
}

/** The batch script (registered here: its key count varies). */
const APPEND_MANY_SCRIPT = 'append-audit-once-many.lua';

/** One record of {@link AuditLog.appendOnceMany}. */
export interface KeyedAuditEntry {
  /** The idempotency key, as for {@link AuditLog.appendOnce}. */
  key: string;
  entry: AuditEntry;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** Approximate upper bound on the stream's length (XADD MAXLEN ~). @default 1_000_000 */
  maxLength?: number;
  /** How long `appendOnce` remembers a key, in seconds: longer than any sender retries. @default 7 days */
  onceTtlSeconds?: number;
}

/** Default bound on the audit stream's length. */
export const DEFAULT_AUDIT_MAX_LENGTH = 1_000_000;
const DEFAULT_ONCE_TTL_SECONDS = 7 * 86_400;

/** The most records one read returns. */
const MAX_READ = 1000;

const STREAM_ID = /^\d+-\d+$/;

function toFields(entry: AuditEntry): string[] {
  const fields = ['actor', entry.actor, 'action', entry.action, 'entity', entry.entity, 'entityId', entry.entityId, 'at', entry.at];
  if (entry.details !== undefined) fields.push('details', JSON.stringify(entry.details));
  return fields;
}

function fromFields(id: string, flat: string[]): AuditRecord {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] ?? '', flat[i + 1] ?? '');
  const record: AuditRecord = {
    id,
    actor: f.get('actor') ?? '',
    action: f.get('action') ?? '',
    entity: f.get('entity') ?? '',
    entityId: f.get('entityId') ?? '',
    at: f.get('at') ?? '',
  };
  const details = f.get('details');
  if (details !== undefined) record.details = parseRecord<Record<string, unknown>>(`audit ${id}`, details);
  return record;
}

function clampCount(count: number): number {
  return Math.min(Math.max(1, Math.floor(count)), MAX_READ);
}

/** Appends to and reads the audit stream. */
export class AuditLog {
  private readonly maxLength: number;
  private readonly onceTtlSeconds: number;

  constructor(
    private readonly redis: RedisConnection,
    options: AuditLogOptions = {},
  ) {
    defineScripts(redis);
    // Without a fixed key count: the caller passes it first (one guard per record, plus the stream).
    redis.defineCommand('gkAppendAuditOnceMany', { lua: scriptSource(APPEND_MANY_SCRIPT) });
    this.maxLength = options.maxLength ?? DEFAULT_AUDIT_MAX_LENGTH;
    this.onceTtlSeconds = options.onceTtlSeconds ?? DEFAULT_ONCE_TTL_SECONDS;
  }

  /** Appends a record. @returns its stream id. */
  async append(entry: AuditEntry): Promise<string> {
    return guard(async () => {
      const id = await this.redis.xadd(globalKeys.auditStream, 'MAXLEN', '~', this.maxLength, '*', ...toFields(entry));
      // XADD with `*` always returns an id; null only with NOMKSTREAM, which we do not use.
      return id ?? '';
    });
  }

  /**
   * Appends a record unless one was appended under `key` before (within the TTL): a retried webhook
   * keyed by CallSid, or a re-delivered job, writes exactly one record. Atomic (append-audit-once-2.lua).
   * @param options.forever keep the key for good, not for the TTL: for a key that can come back at any
   *   time (a record's own id, replayed by an idempotent request weeks later).
   * @returns the id of the record (the earlier one when not appended) and whether it was appended now.
   */
  async appendOnce(key: string, entry: AuditEntry, options: { forever?: boolean } = {}): Promise<{ id: string; appended: boolean }> {
    assertSafeId(key, 'idempotency key');
    return guard(async () => {
      const [appended, id] = await this.redis.gkAppendAuditOnce(
        globalKeys.auditOnce(key),
        globalKeys.auditStream,
        options.forever === true ? 0 : this.onceTtlSeconds,
        this.maxLength,
        ...toFields(entry),
      );
      return { id, appended: appended === 1 };
    });
  }

  /**
   * {@link appendOnce} for several records in one round trip (one script): each is appended unless a
   * record was appended under its key before, judged in order as if appended one by one. For callers that
   * record many events at once (the voice webhooks record every call decided in one turn of the event loop
   * together); atomic as a whole, so a failure (an outage) fails every record of the batch.
   * @returns, for each record in order, its id (the earlier one when not appended) and whether it was appended now.
   * @throws InvalidValueError `invalid-id` (before anything is written) when a key is unusable.
   */
  async appendOnceMany(records: readonly KeyedAuditEntry[]): Promise<Array<{ id: string; appended: boolean }>> {
    if (records.length === 0) return [];
    const keys: string[] = [globalKeys.auditStream];
    const args: Array<string | number> = [this.onceTtlSeconds, this.maxLength];
    for (const { key, entry } of records) {
      assertSafeId(key, 'idempotency key');
      keys.push(globalKeys.auditOnce(key));
      const fields = toFields(entry);
      args.push(fields.length, ...fields);
    }
    return guard(async () => {
      const flat = await this.redis.gkAppendAuditOnceMany(keys.length, ...keys, ...args);
      return records.map((_, i) => ({ appended: flat[2 * i] === 1, id: String(flat[2 * i + 1]) }));
    });
  }

  /**
   * Reads forward, oldest first: up to `count` records after `afterId` (exclusive), or from the start.
   * Page by passing the last id read.
   */
  async read(count: number, afterId?: string): Promise<AuditRecord[]> {
    if (afterId !== undefined && !STREAM_ID.test(afterId)) throw new InvalidValueError('invalid-id', 'Not an audit record id');
    return guard(async () => {
      const start = afterId === undefined ? '-' : `(${afterId}`;
      const entries = await this.redis.xrange(globalKeys.auditStream, start, '+', 'COUNT', clampCount(count));
      return entries.map(([id, flat]) => fromFields(id, flat));
    });
  }

  /** The latest `count` records, newest first. */
  async latest(count: number): Promise<AuditRecord[]> {
    return guard(async () => {
      const entries = await this.redis.xrevrange(globalKeys.auditStream, '+', '-', 'COUNT', clampCount(count));
      return entries.map(([id, flat]) => fromFields(id, flat));
    });
  }
}
