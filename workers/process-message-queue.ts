/**
 * The `process-message` queue: one job per inbound message, `jobId` = message key, queued by the ingest
 * (store/raw-messages.ts) in the same step that stores the raw bytes. Its data is a reference only.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { PROCESS_MESSAGE_JOB, type ProcessMessageJobData } from '../store/raw-messages';
import { QUEUE_PREFIX } from './queue-prefix';

export { PROCESS_MESSAGE_JOB, type ProcessMessageJobData };

/** Queue name. */
export const PROCESS_MESSAGE_QUEUE = 'process-message';

/** Retries: parsing and deciding are local, so failures are outages (Redis) — retry for about a day. */
export const PROCESS_MESSAGE_JOB_OPTIONS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 2_000 },
  // Completed jobs are kept a week so that BullMQ refuses a re-queued duplicate id in that time too
  // (the raw-message bookkeeping is the lasting guard).
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 90 * 24 * 3600 },
} as const;

/**
 * Creates the producer side of the queue.
 * @param connection a createQueueConnection connection (fails fast while Redis is down)
 * @param onError receives connection errors (BullMQ emits them; failures also reject `add`)
 */
export function createProcessMessageQueue(connection: ConnectionOptions, onError: (err: Error) => void = () => undefined): Queue<ProcessMessageJobData> {
  const queue = new Queue<ProcessMessageJobData>(PROCESS_MESSAGE_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: PROCESS_MESSAGE_JOB_OPTIONS,
  });
  queue.on('error', onError);
  return queue;
}
