/**
 * The `forward` queue: one job per message to hand to a person (emergency mailbox, named contact, or the
 * default mailbox), `jobId` = `fwd-<messageKey>`. The data is a reference; the worker reads the triage
 * record and streams the original out of the raw-message store when it runs.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { QUEUE_PREFIX } from './queue-prefix';

/** Queue name. */
export const FORWARD_QUEUE = 'forward';
/** Job name. */
export const FORWARD_JOB = 'forward';

/** A message to forward. */
export interface ForwardJobData {
  messageKey: string;
}

/** The deterministic job id of a message's forward. */
export function forwardJobId(messageKey: string): string {
  return `fwd-${messageKey}`;
}

/**
 * Retries: relays refuse for minutes at a time, so back off exponentially from 10 s over about a day;
 * a permanent refusal ends the job at once (UnrecoverableError). Completed jobs are kept a week, so a
 * re-added id is refused in that time (the raw-message bookkeeping is the lasting guard).
 */
export const FORWARD_JOB_OPTIONS: JobsOptions = {
  attempts: 14,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { age: 7 * 86_400, count: 100_000 },
  removeOnFail: { age: 90 * 86_400 },
};

/** Priority of an emergency's forward: ahead of everything waiting (1 is the highest BullMQ priority). */
export const EMERGENCY_PRIORITY = 1;

export type ForwardQueue = Queue<ForwardJobData, unknown, typeof FORWARD_JOB>;

/**
 * Creates the producer side.
 * @param connection a queue connection
 * @param onError receives connection errors
 */
export function createForwardQueue(connection: ConnectionOptions, onError: (err: Error) => void = () => undefined): ForwardQueue {
  const queue: ForwardQueue = new Queue(FORWARD_QUEUE, { connection, prefix: QUEUE_PREFIX, defaultJobOptions: FORWARD_JOB_OPTIONS });
  queue.on('error', onError);
  return queue;
}
