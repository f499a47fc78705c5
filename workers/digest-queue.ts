/**
 * The `digest` queue: under a response-frequency measure, a customer's non-emergency mail is held and
 * delivered as one digest at the next response window. One delayed job per customer and window,
 * `jobId` = `digest:<customerId>:<windowMs>`, so however many messages arrive (and however concurrently)
 * there is one digest; adding it again while it waits changes nothing.
 *
 * Completed digest jobs are removed at once: a message held for a window whose digest already went (it
 * was processed late) re-adds the job, which then runs straight away and delivers just the stragglers.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { QUEUE_PREFIX } from './queue-prefix';

/** Queue name. */
export const DIGEST_QUEUE = 'digest';
/** Job name. */
export const DIGEST_JOB = 'digest';

/** A digest to deliver. */
export interface DigestJobData {
  customerId: string;
  /** The response window (decision.respondAfter), epoch ms. */
  windowMs: number;
}

/**
 * The deterministic job id of a customer's digest for a window. BullMQ allows `:` in a custom id only as
 * exactly three parts, so the customer id is URI-encoded (a `:` in it becomes `%3A`).
 */
export function digestJobId(customerId: string, windowMs: number): string {
  return `digest:${encodeURIComponent(customerId)}:${windowMs}`;
}

/** Retries as for forwards; removed once complete (see the module comment). */
export const DIGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 14,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: true,
  removeOnFail: { age: 90 * 86_400 },
};

export type DigestQueue = Queue<DigestJobData, unknown, typeof DIGEST_JOB>;

/**
 * Creates the producer side.
 * @param connection a queue connection
 * @param onError receives connection errors
 */
export function createDigestQueue(connection: ConnectionOptions, onError: (err: Error) => void = () => undefined): DigestQueue {
  const queue: DigestQueue = new Queue(DIGEST_QUEUE, { connection, prefix: QUEUE_PREFIX, defaultJobOptions: DIGEST_JOB_OPTIONS });
  queue.on('error', onError);
  return queue;
}
