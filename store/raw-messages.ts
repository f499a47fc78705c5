/**
 * The durable raw-message store: every inbound email and scanned letter, exactly as it arrived (raw
 * RFC 822 bytes, the one internal format), kept in Redis for the retention period as evidence, plus the
 * small amount of per-message bookkeeping the email workers need to be idempotent.
 *
 * Ingest is "durable first": {@link RawMessageStore.ingest} answers only once the bytes are stored AND
 * a `process-message` job is queued under the message key, so the SMTP listener can say 250 (and the
 * HTTP route 202) knowing nothing can be lost; if either step fails it throws StoreUnavailableError and
 * the sender retries. A second delivery of the same message is a successful no-op.
 *
 * Keys (each message's keys share its hash tag; each customer's share the store's `{c:<id>}` tag):
 *
 * | key | type | what |
 * |---|---|---|
 * | `gk:raw:{<messageKey>}:body` | string | the raw bytes, TTL = retention |
 * | `gk:raw:{<messageKey>}:meta` | hash | receivedAt, size, sha256, source, mailFrom?, deliveries, queuedAt?, processedAt?, forwardedAt?, acknowledgedAt?, status?, triage? — TTL = retention |
 * | `gk:{c:<id>}:mail-held:<windowMs>` | zset | message keys held for the digest of one response window, scored by receivedAt |
 * | `gk:{c:<id>}:mail-ack` | string | the acknowledgement gate: the message key that won the current ack period, TTL = period |
 * | `gk:{c:<id>}:mail-ack-covered` | zset | message keys the current acknowledgement covers, scored by receivedAt |
 *
 * Unidentified senders use `{s:<sha256 of the address>}` in place of `{c:<id>}` for the ack gate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Result } from 'ioredis';
import type { RedisConnection } from './connections';
import type { WriteConfirmer } from './durability';
import { guard } from './guard';
import { assertSafeId } from './keys';

/** The job the ingest queues; its data is a reference, never the message. */
export interface ProcessMessageJobData {
  messageKey: string;
}

/** The name of the job {@link RawMessageStore.ingest} queues. */
export const PROCESS_MESSAGE_JOB = 'process-message';

/**
 * Where ingest queues its job: a BullMQ `Queue<ProcessMessageJobData>` satisfies this. `jobId` is the
 * message key, so BullMQ itself refuses a second job for the same message.
 */
export interface ProcessingQueue {
  add(name: typeof PROCESS_MESSAGE_JOB, data: ProcessMessageJobData, opts: { jobId: string }): Promise<unknown>;
}

/** One message to store. */
export interface RawMessageInput {
  /** `mid-<sha256 of the normalised Message-ID>` or `sha-<sha256 of the bytes>` (channels/email/message-key.ts). */
  messageKey: string;
  /** The bytes, in the chunks they arrived in (joined in Redis: no second copy is made here). */
  chunks: readonly Buffer[];
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  source: 'smtp' | 'http';
  /** The SMTP envelope sender; `''` is a null return path (a bounce). Absent over HTTP. */
  mailFrom?: string;
  receivedAt: Date;
}

/** What ingest did. */
export interface IngestOutcome {
  messageKey: string;
  /** True when the message had been stored and queued before: nothing was done now. */
  duplicate: boolean;
  /** For a duplicate: whether its bytes equal the stored ones (false: same Message-ID, different bytes). */
  sameContent: boolean;
}

/** The bookkeeping kept next to a raw message. */
export interface RawMessageMeta {
  messageKey: string;
  receivedAt: string;
  size: number;
  sha256: string;
  source: 'smtp' | 'http';
  mailFrom?: string;
  deliveries: number;
  queuedAt?: string;
  processedAt?: string;
  forwardedAt?: string;
  acknowledgedAt?: string;
  /** e.g. `forwarded`, `held-for-digest`, `forward-failed`, `loop-detected`. */
  status?: string;
  /** The worker's triage record (JSON, no message text), for the forward/digest/ack workers. */
  triage?: string;
}

/** Settings of {@link RawMessageStore}. */
export interface RawMessageStoreOptions {
  /** `RAW_RETENTION_DAYS`: how long raw messages are kept. */
  retentionDays: number;
  /** Bytes per GETRANGE when streaming a message out. Default 512 KiB. */
  readChunkBytes?: number;
  /**
   * Confirm an ingest's writes on a replica before it resolves (durability.ts): one per connection the
   * ingest writes over — the store connection and the queue's. @default none (nothing checked)
   */
  confirmers?: readonly WriteConfirmer[];
}

/** A raw message that should exist does not (expired, or never stored). */
export class RawMessageMissingError extends Error {
  override readonly name = 'RawMessageMissingError';
  readonly code = 'raw-message-missing';
  constructor(readonly messageKey: string) {
    super(`Raw message ${messageKey} is not in the store`);
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** store/scripts/ingest-raw-message-2.lua */
    gkIngestRawMessage(
      bodyKey: string,
      metaKey: string,
      ttlSeconds: number,
      receivedAt: string,
      size: number,
      sha256: string,
      source: string,
      hasMailFrom: string,
      mailFrom: string,
      ...chunks: Buffer[]
    ): Result<[string, number], Context>;
  }
}

const SAFE_MESSAGE_KEY = /^(mid|sha)-[0-9a-f]{64}$/;

/** The two keys of one raw message. */
export function rawMessageKeys(messageKey: string): { body: string; meta: string } {
  if (!SAFE_MESSAGE_KEY.test(messageKey)) throw new Error(`Not a message key: ${messageKey}`);
  return { body: `gk:raw:{${messageKey}}:body`, meta: `gk:raw:{${messageKey}}:meta` };
}

/** The mail keys of one customer (or of one unidentified sender, `s:<sha256>`), under the store's tag. */
export function mailCustomerKeys(gateId: string) {
  assertSafeId(gateId, 'customer');
  const tag = gateId.startsWith('s:') ? `{${gateId}}` : `{c:${gateId}}`;
  return {
    held: (windowMs: number): string => `gk:${tag}:mail-held:${windowMs}`,
    ackGate: `gk:${tag}:mail-ack`,
    ackCovered: `gk:${tag}:mail-ack-covered`,
  };
}

function scriptSource(): string {
  const candidates = [join(__dirname, 'scripts'), join(__dirname, '..', '..', 'store', 'scripts')];
  const dir = candidates.find((d) => existsSync(join(d, 'ingest-raw-message-2.lua')));
  if (dir === undefined) throw new Error(`ingest-raw-message-2.lua not found in ${candidates.join(' or ')}`);
  return readFileSync(join(dir, 'ingest-raw-message-2.lua'), 'utf8');
}

const DAY_SECONDS = 24 * 60 * 60;

/** The raw-message store. One per process; all methods translate outages into StoreUnavailableError. */
export class RawMessageStore {
  private readonly ttlSeconds: number;
  private readonly readChunkBytes: number;
  private readonly confirmers: readonly WriteConfirmer[];

  /**
   * @param redis a store connection (createStoreConnection): retries briefly, then fails, so ingest answers 4xx/503 promptly
   * @param queue the `process-message` queue (a BullMQ Queue on a createQueueConnection)
   * @param options retention and streaming settings
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly queue: ProcessingQueue,
    options: RawMessageStoreOptions,
  ) {
    this.ttlSeconds = Math.round(options.retentionDays * DAY_SECONDS);
    this.readChunkBytes = options.readChunkBytes ?? 512 * 1024;
    this.confirmers = options.confirmers ?? [];
    redis.defineCommand('gkIngestRawMessage', { numberOfKeys: 2, lua: scriptSource() });
  }

  /**
   * Stores a message and queues its processing job; resolves only when both are done.
   *
   * Order matters: the bytes first (atomically, with SET-if-absent semantics), then `queue.add` with
   * `jobId = messageKey`, then `queuedAt` is noted. A crash or outage between the steps leaves a stored
   * but unqueued message, which the sender's retry completes (the script reports it as `unqueued`).
   * Last, the writes are confirmed on a replica (`confirmers`), also for a duplicate: the first attempt
   * may have been refused for want of that confirmation.
   * @throws StoreUnavailableError when Redis or the queue cannot be reached, or the writes cannot be
   * confirmed (nothing is acknowledged)
   */
  async ingest(input: RawMessageInput): Promise<IngestOutcome> {
    const keys = rawMessageKeys(input.messageKey);
    const fences = this.confirmers.map((confirmer) => confirmer.begin());
    const outcome = await this.store(input, keys);
    await Promise.all(fences.map((fence) => fence.confirm()));
    return outcome;
  }

  /** The writes of {@link ingest}, before their confirmation. */
  private async store(input: RawMessageInput, keys: ReturnType<typeof rawMessageKeys>): Promise<IngestOutcome> {
    return guard(async () => {
      const hasMailFrom = input.mailFrom === undefined ? '0' : '1';
      const [status, same] = await this.redis.gkIngestRawMessage(
        keys.body,
        keys.meta,
        this.ttlSeconds,
        input.receivedAt.toISOString(),
        input.size,
        input.sha256,
        input.source,
        hasMailFrom,
        input.mailFrom ?? '',
        ...input.chunks,
      );
      if (status === 'queued') {
        // Queued before — but during a failover the job may have gone to a primary that has since discarded
        // it while the bytes survived on the new one. Until the message is processed, queue it again: the
        // job id makes that a no-op when the job is there.
        if ((await this.redis.hexists(keys.meta, 'processedAt')) === 0) {
          await this.queue.add(PROCESS_MESSAGE_JOB, { messageKey: input.messageKey }, { jobId: input.messageKey });
        }
        return { messageKey: input.messageKey, duplicate: true, sameContent: same === 1 };
      }
      await this.queue.add(PROCESS_MESSAGE_JOB, { messageKey: input.messageKey }, { jobId: input.messageKey });
      // HSETNX: a worker that already ran must not see its bookkeeping disturbed.
      await this.redis.hsetnx(keys.meta, 'queuedAt', new Date().toISOString());
      return { messageKey: input.messageKey, duplicate: status !== 'new', sameContent: same === 1 };
    });
  }

  /** The bookkeeping of a message, or `undefined` when it is not (or no longer) stored. */
  async meta(messageKey: string): Promise<RawMessageMeta | undefined> {
    const keys = rawMessageKeys(messageKey);
    const h = await guard(() => this.redis.hgetall(keys.meta));
    if (h.receivedAt === undefined) return undefined;
    const meta: RawMessageMeta = {
      messageKey,
      receivedAt: h.receivedAt,
      size: Number(h.size ?? 0),
      sha256: h.sha256 ?? '',
      source: h.source === 'http' ? 'http' : 'smtp',
      deliveries: Number(h.deliveries ?? 1),
    };
    for (const f of ['mailFrom', 'queuedAt', 'processedAt', 'forwardedAt', 'acknowledgedAt', 'status', 'triage'] as const) {
      const v = h[f];
      if (v !== undefined) meta[f] = v;
    }
    return meta;
  }

  /** Records progress fields on a message (`status`, `triage`, …); the TTL is unchanged. */
  async update(messageKey: string, fields: Partial<Pick<RawMessageMeta, 'processedAt' | 'forwardedAt' | 'acknowledgedAt' | 'status' | 'triage'>>): Promise<void> {
    const keys = rawMessageKeys(messageKey);
    const entries = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
    if (entries.length === 0) return;
    await guard(() => this.redis.hset(keys.meta, Object.fromEntries(entries)));
  }

  /** The first `bytes` bytes of a message (enough for its header block). */
  async head(messageKey: string, bytes = 64 * 1024): Promise<Buffer> {
    const keys = rawMessageKeys(messageKey);
    const buf = await guard(() => this.redis.getrangeBuffer(keys.body, 0, bytes - 1));
    if (buf.length === 0) throw new RawMessageMissingError(messageKey);
    return buf;
  }

  /**
   * Streams a message out in GETRANGE slices, so neither parsing nor forwarding a 25 MB message ever
   * holds it whole in this process. The body is immutable once stored, so slices are consistent.
   */
  openStream(messageKey: string): Readable {
    const keys = rawMessageKeys(messageKey);
    const { redis, readChunkBytes } = this;
    async function* slices(): AsyncGenerator<Buffer> {
      let start = 0;
      for (;;) {
        const end = start + readChunkBytes - 1;
        const slice = await guard(() => redis.getrangeBuffer(keys.body, start, end));
        if (slice.length === 0) {
          if (start === 0) throw new RawMessageMissingError(messageKey);
          return;
        }
        yield slice;
        if (slice.length < readChunkBytes) return;
        start += readChunkBytes;
      }
    }
    return Readable.from(slices(), { objectMode: false });
  }

  /**
   * Adds a message to the digest of one customer's response window (idempotent).
   * @param windowMs the window (decision.respondAfter) in epoch milliseconds
   */
  async hold(customerId: string, windowMs: number, messageKey: string, receivedAtMs: number): Promise<void> {
    const key = mailCustomerKeys(customerId).held(windowMs);
    // Kept until well after the window, so a digest that failed for days can still find its messages.
    const expireAt = Math.ceil(windowMs / 1000) + this.ttlSeconds;
    await guard(async () => {
      await this.redis.multi().zadd(key, 'NX', receivedAtMs, messageKey).expireat(key, expireAt).exec();
    });
  }

  /** The message keys held for a customer's window, oldest first. */
  async held(customerId: string, windowMs: number): Promise<string[]> {
    return guard(() => this.redis.zrange(mailCustomerKeys(customerId).held(windowMs), '0', '-1'));
  }

  /** Removes messages from a window's digest once they have been delivered. */
  async release(customerId: string, windowMs: number, messageKeys: readonly string[]): Promise<void> {
    if (messageKeys.length === 0) return;
    await guard(() => this.redis.zrem(mailCustomerKeys(customerId).held(windowMs), ...messageKeys));
  }

  /**
   * The acknowledgement gate: at most one acknowledgement per customer per period, however many
   * messages arrive and however concurrently. One atomic `SET NX PX … GET`: the first message of a
   * period wins; a retry of the winner (same message key) still wins, so a re-run job is not starved;
   * every message is also noted as covered by the current acknowledgement.
   * @param gateId a customer id, or `s:<sha256 of the sender address>` for unidentified senders
   * @returns `won` and the instant the current period ends
   */
  async claimAcknowledgement(gateId: string, messageKey: string, receivedAtMs: number, periodMs: number): Promise<{ won: boolean; periodEndsAt: Date }> {
    const keys = mailCustomerKeys(gateId);
    return guard(async () => {
      const previous = (await this.redis.call('SET', keys.ackGate, messageKey, 'PX', periodMs, 'NX', 'GET')) as string | null;
      const ttl = await this.redis.pttl(keys.ackGate);
      await this.redis.multi().zadd(keys.ackCovered, 'NX', receivedAtMs, messageKey).pexpire(keys.ackCovered, periodMs * 2).exec();
      return { won: previous === null || previous === messageKey, periodEndsAt: new Date(Date.now() + Math.max(ttl, 0)) };
    });
  }

  /** Message keys covered by a customer's acknowledgements, received at or after `sinceMs`. */
  async coveredSince(gateId: string, sinceMs: number): Promise<string[]> {
    return guard(() => this.redis.zrangebyscore(mailCustomerKeys(gateId).ackCovered, String(sinceMs), '+inf'));
  }
}
