/**
 * The `acknowledge` queue: one job per acknowledgement to send, `jobId` = `ack-<messageKey>` of the message
 * that won its customer's acknowledgement period (or of an emergency, which is always acknowledged). The
 * data is a reference; the worker composes the acknowledgement from the triage record when it runs.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { QUEUE_PREFIX } from './queue-prefix';

/** Queue name. */
export const ACKNOWLEDGE_QUEUE = 'acknowledge';
/** Job name. */
export const ACKNOWLEDGE_JOB = 'acknowledge';

/** An acknowledgement to send. */
export interface AcknowledgeJobData {
  messageKey: string;
}

/** The deterministic job id of a message's acknowledgement. */
export function acknowledgeJobId(messageKey: string): string {
  return `ack-${messageKey}`;
}

/** Retries as for forwards; a customer address that refuses for good is recorded, not retried. */
export const ACKNOWLEDGE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { age: 7 * 86_400, count: 100_000 },
  removeOnFail: { age: 90 * 86_400 },
};

export type AcknowledgeQueue = Queue<AcknowledgeJobData, unknown, typeof ACKNOWLEDGE_JOB>;

/**
 * Creates the producer side.
 * @param connection a queue connection
 * @param onError receives connection errors
 */
export function createAcknowledgeQueue(connection: ConnectionOptions, onError: (err: Error) => void = () => undefined): AcknowledgeQueue {
  const queue: AcknowledgeQueue = new Queue(ACKNOWLEDGE_QUEUE, { connection, prefix: QUEUE_PREFIX, defaultJobOptions: ACKNOWLEDGE_JOB_OPTIONS });
  queue.on('error', onError);
  return queue;
}
