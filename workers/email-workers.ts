/**
 * Starting and stopping the written-contact workers (`process-message`, `forward`, `digest`,
 * `acknowledge`) with everything they need, for `bin/gatekeeper.ts` (roles `worker` and `all`).
 */
import { Worker } from 'bullmq';
import { createMailTransport } from '../channels/email/outbound';
import type { MailTransport } from '../channels/email/mail-transport';
import { extractLetterText } from '../channels/letters/extract';
import { renderLetterPdf } from '../channels/letters/letter-pdf';
import { OcrEngine } from '../channels/letters/ocr';
import { findCustomerReferences } from '../channels/letters/reference';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import { closeConnection, createWorkerConnection, type RedisConnection } from '../store/connections';
import { createStore, type Store } from '../store/index';
import { RawMessageStore } from '../store/raw-messages';
import type { RedisTarget } from '../store/redis-target';
import { createAcknowledgeQueue } from './acknowledge-queue';
import { createAcknowledgeWorker } from './acknowledge-worker';
import { createDigestQueue } from './digest-queue';
import { createDigestWorker } from './digest-worker';
import { emailSettingsFromConfig, type EmailSettings, type EmailWorkerDeps, type LettersPort } from './email-deps';
import { createForwardQueue } from './forward-queue';
import { createForwardWorker } from './forward-worker';
import { createProcessMessageQueue } from './process-message-queue';
import { createProcessMessageWorker } from './process-message-worker';

/** What {@link startEmailWorkers} needs. */
export interface EmailWorkersOptions {
  config: Config;
  logger: Logger;
  /** Where Redis is; the workers open their own wait-through-outages connection to it. */
  target: RedisTarget;
  /** The process's store connection (createStoreConnection): repositories, raw messages, screen-pops. */
  redis: RedisConnection;
  /** @default a store over `redis` */
  store?: Store;
  /** @default `createMailTransport(config)` (closed on stop when opened here) */
  mail?: MailTransport;
  /** Settings differing from the configuration's. */
  settings?: Partial<EmailSettings>;
  /** @default channels/letters with one long-lived OCR engine */
  letters?: LettersPort;
  /** Messages processed at once. Default 2. */
  processConcurrency?: number;
  /** @default real time */
  now?: () => Date;
  /** Told of every decision (e.g. to count it on /metrics). */
  onDecision?: EmailWorkerDeps['onDecision'];
}

/** Running written-contact workers. */
export interface RunningEmailWorkers {
  deps: EmailWorkerDeps;
  workers: Worker[];
  /** Lets jobs in progress finish, then closes workers, queues, the OCR engine and connections opened here. */
  stop(): Promise<void>;
}

/**
 * Starts the written-contact workers.
 * @param options configuration, Redis and optional collaborators
 */
export async function startEmailWorkers(options: EmailWorkersOptions): Promise<RunningEmailWorkers> {
  const { config, logger } = options;
  const settings = emailSettingsFromConfig(config, options.settings);
  const connection = createWorkerConnection(options.target, { name: 'email' });
  const onQueueError = (err: Error): void => {
    logger.warn('email queue connection error', { err: err.message });
  };
  const queues = {
    forward: createForwardQueue(connection, onQueueError),
    acknowledge: createAcknowledgeQueue(connection, onQueueError),
    digest: createDigestQueue(connection, onQueueError),
  };
  // process-message is only consumed here; the producer side lives with the ingest (email-ingestion.ts).
  const processQueue = createProcessMessageQueue(connection, onQueueError);
  const store = options.store ?? createStore(options.redis);
  const ownMail = options.mail === undefined;
  const mail = options.mail ?? createMailTransport({ ...(config.smtpRelayUrl ? { smtpRelayUrl: config.smtpRelayUrl } : {}), dataDir: config.dataDir });
  let ocr: OcrEngine | undefined;
  const letters: LettersPort = options.letters ?? {
    extractLetterText,
    findCustomerReferences,
    renderLetterPdf,
    extractionDeps: { ocr: (ocr = new OcrEngine()) },
  };
  const deps: EmailWorkerDeps = {
    raw: new RawMessageStore(options.redis, processQueue, { retentionDays: config.rawRetentionDays }),
    gate: store.gate,
    contacts: store.contacts,
    audit: store.audit,
    queues,
    mail,
    events: options.redis,
    letters,
    settings,
    logger,
    now: options.now ?? (() => new Date()),
    ...(options.onDecision ? { onDecision: options.onDecision } : {}),
  };
  const workers: Worker[] = [
    createProcessMessageWorker(connection, deps, { concurrency: options.processConcurrency ?? 2 }),
    createForwardWorker(connection, deps),
    createDigestWorker(connection, deps),
    createAcknowledgeWorker(connection, deps),
  ];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info('email workers started', { outbound: mail.kind });
  return {
    deps,
    workers,
    async stop() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([queues.forward.close(), queues.acknowledge.close(), queues.digest.close(), processQueue.close()]);
      if (ownMail) await mail.close();
      await ocr?.terminate();
      await closeConnection(connection);
    },
  };
}
