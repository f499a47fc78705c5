/**
 * The ingest side of written contact, for the `smtp` and `gateway` roles: the durable raw-message store
 * and the `process-message` producer behind one {@link EmailIngest} door, and the SMTP listener over it.
 * The HTTP route (`POST /inbound/email`) is gateway/inbound-routes.ts over the same door.
 */
import { createEmailIngest, type EmailIngest } from '../channels/email/ingest';
import { startSmtpListener, type SmtpListener } from '../channels/email/smtp-listener';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import { closeConnection, createQueueConnection, type RedisConnection } from '../store/connections';
import { sharedWriteConfirmer, warnUnreplicated, type ConfirmationResult } from '../store/durability';
import { RawMessageStore } from '../store/raw-messages';
import type { RedisTarget } from '../store/redis-target';
import { createProcessMessageQueue, type ProcessMessageJobData } from './process-message-queue';
import type { Queue } from 'bullmq';

/** The ingest door and what it holds open. */
export interface EmailIngestion {
  ingest: EmailIngest;
  raw: RawMessageStore;
  /** The `process-message` queue (for the dashboard). */
  queue: Queue<ProcessMessageJobData>;
  /** Closes the queue and its connection (not the store connection passed in). */
  close(): Promise<void>;
}

/**
 * Creates the ingest door.
 * @param options configuration, Redis target (for the fail-fast queue connection) and the store connection
 */
export function createEmailIngestion(options: {
  config: Pick<Config, 'rawRetentionDays'>;
  target: RedisTarget;
  redis: RedisConnection;
  logger: Logger;
  /** Told how each write confirmation ended (Sentinel only; store/durability.ts), for metrics. */
  onConfirmation?: (result: ConfirmationResult) => void;
}): EmailIngestion {
  const queueConnection = createQueueConnection(options.target, { name: 'ingest' });
  const queue = createProcessMessageQueue(queueConnection, (err) => options.logger.debug('ingest queue connection error', { err: err.message }));
  // A message is acknowledged only once a replica has it (Sentinel; store/durability.ts), on both connections
  // its writes take: the bytes on the store connection, the job on the queue's.
  const onUnreplicated = warnUnreplicated(options.logger);
  // The store connection's confirmer is the one the gateway's staff API uses too (one fence connection each).
  const confirmers = [options.redis, queueConnection].map((connection) =>
    sharedWriteConfirmer(connection, { onUnreplicated, ...(options.onConfirmation ? { onResult: options.onConfirmation } : {}) }),
  );
  const raw = new RawMessageStore(options.redis, queue, { retentionDays: options.config.rawRetentionDays, confirmers });
  return {
    ingest: createEmailIngest(raw),
    raw,
    queue,
    async close() {
      await queue.close();
      await closeConnection(queueConnection);
    },
  };
}

/**
 * Starts the SMTP listener on `SMTP_PORT` over an ingest door.
 * @param config port, domains, size limit and the shutdown grace period
 * @param ingest the door
 * @param logger the logger
 */
export function startSmtpRole(config: Pick<Config, 'smtpPort' | 'smtpDomains' | 'maxMessageBytes' | 'shutdownGraceMs'>, ingest: EmailIngest, logger: Logger): Promise<SmtpListener> {
  return startSmtpListener({
    port: config.smtpPort,
    domains: config.smtpDomains,
    maxMessageBytes: config.maxMessageBytes,
    ingest,
    logger,
    // Sessions still open a second before the grace period ends (an idle sending server, a slow upload) are
    // told 421 and closed, so that shutdown completes in time; their senders retry, nothing is lost.
    closeTimeoutMs: Math.max(1, config.shutdownGraceMs - 1000),
  });
}
