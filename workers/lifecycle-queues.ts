/**
 * The lifecycle's two BullMQ queues, their jobs and the producer side:
 *
 * - `notifications` — one job per thing to send: a `letter` to a customer after a lifecycle transition, or a
 *   `notice` to staff (review reminder, overdue escalation, breach notice, monthly report). Job data carries
 *   references only (ids, dates, counts), never a body or an address: the worker reads the records when it
 *   runs, so Redis never holds a second copy of personal data in a job.
 * - `lifecycle` — the job schedulers (`upsertJobScheduler`): the daily sweep, the expiry sweep, the breach
 *   monitor and the monthly compliance check. Their jobs carry nothing; each runs a plain function with
 *   the time it ran.
 *
 * Every job id is deterministic, so adding the same job twice (a retried request, two sweeps) adds it once.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Restriction } from '../rules/types';
import { letterIdFor, type LetterKind } from './letter-store';
import { QUEUE_PREFIX } from './queue-prefix';

/** Queue of letters and staff notices. */
export const NOTIFICATIONS_QUEUE = 'notifications';
/** Queue the job schedulers put their runs on. */
export const LIFECYCLE_QUEUE = 'lifecycle';

/** A letter to the customer, caused by the transition at `history[historyLength - 1]`. */
export interface LetterJobData {
  restrictionId: string;
  customerId: string;
  historyLength: number;
  /** The history action, for dashboards and logs. */
  action: string;
}

/** A notice to staff. `noticeId` makes it go once (NoticeLog). */
export type StaffNotice =
  | { kind: 'review-upcoming' | 'review-due'; noticeId: string; restrictionId: string; customerId: string; reviewDate: string }
  | { kind: 'reviews-overdue'; noticeId: string; date: string; restrictionIds: string[] }
  | { kind: 'breach-threshold'; noticeId: string; restrictionId: string; customerId: string; breaches: number; since: string }
  | { kind: 'monthly-report'; noticeId: string; month: string };

export interface NoticeJobData {
  notice: StaffNotice;
}

export type NotificationJobName = 'letter' | 'notice';
export type NotificationJobData = LetterJobData | NoticeJobData;

/** The scheduled runs. */
export const SCHEDULED_JOBS = ['daily-sweep', 'expiry-sweep', 'breach-monitor', 'monthly-compliance'] as const;
export type ScheduledJobName = (typeof SCHEDULED_JOBS)[number];
export type ScheduledJobData = Record<string, never>;

export type NotificationsQueue = Queue<NotificationJobData, unknown, NotificationJobName>;
export type LifecycleQueue = Queue<ScheduledJobData, unknown, ScheduledJobName>;

/** Both queues. */
export interface LifecycleQueues {
  notifications: NotificationsQueue;
  lifecycle: LifecycleQueue;
}

/**
 * Retries of a send: mail relays refuse for minutes at a time, so back off from 30 s over about a day.
 * Completed jobs are kept 30 days so a re-added id is refused in that time too (the letter store and the
 * notice log are the lasting guards); failed ones 90 days, to be seen and retried from the dashboard.
 */
export const NOTIFICATION_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: { age: 30 * 86_400, count: 50_000 },
  removeOnFail: { age: 90 * 86_400 },
};

/** A scheduled run that fails is retried a few times; the next run catches up anyway. */
export const SCHEDULED_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 60_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 500 },
};

/**
 * Creates the producer side of both queues.
 * @param connection a createQueueConnection connection (fails fast while Redis is down) for producers, or
 * a worker connection in the worker role
 * @param onError receives connection errors
 */
export function createLifecycleQueues(connection: ConnectionOptions, onError: (err: Error) => void = () => undefined): LifecycleQueues {
  const notifications: NotificationsQueue = new Queue<NotificationJobData, unknown, NotificationJobName>(NOTIFICATIONS_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: NOTIFICATION_JOB_OPTIONS,
  });
  const lifecycle: LifecycleQueue = new Queue<ScheduledJobData, unknown, ScheduledJobName>(LIFECYCLE_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: SCHEDULED_JOB_OPTIONS,
  });
  notifications.on('error', onError);
  lifecycle.on('error', onError);
  return { notifications, lifecycle };
}

/** Closes both queues (not the connection they were given). */
export async function closeLifecycleQueues(queues: LifecycleQueues): Promise<void> {
  await Promise.all([queues.notifications.close(), queues.lifecycle.close()]);
}

/**
 * A part of a job id. BullMQ refuses custom ids with `:` (its key separator) and all-digit ids, and
 * restriction ids may contain `:`, so parts are percent-encoded.
 */
function idPart(value: string): string {
  return encodeURIComponent(value);
}

/** The letter a history action causes, if any. */
export function letterKindFor(action: string): LetterKind | undefined {
  switch (action) {
    case 'approve':
      return 'notification';
    case 'vary':
    case 'appeal:varied':
      return 'variation';
    case 'review:continue':
    case 'review:vary':
    case 'review:lift':
      return 'review-outcome';
    case 'appeal:dismissed':
      // The customer was promised the outcome in writing (the appeal section of every letter; policy §6).
      return 'appeal-outcome';
    case 'lift':
    case 'appeal:upheld':
    case 'expire':
      return 'lifting';
    default:
      // request, decide, reject, appeal (recorded by staff: its outcome is the letter), exception: no letter.
      return undefined;
  }
}

/** The job id of the letter for the transition that made `historyLength`. */
export function letterJobId(restrictionId: string, historyLength: number): string {
  return `letter.${idPart(letterIdFor(restrictionId, historyLength))}`;
}

/**
 * Queues the letter for the transition at `history[historyLength - 1]` when that transition sends one.
 * @returns whether a letter job was added (or was already there)
 */
export async function enqueueLetter(queues: Pick<LifecycleQueues, 'notifications'>, restriction: Restriction, historyLength = restriction.history.length): Promise<boolean> {
  const step = restriction.history[historyLength - 1];
  if (!step || letterKindFor(step.action) === undefined) return false;
  const data: LetterJobData = { restrictionId: restriction.id, customerId: restriction.customerId, historyLength, action: step.action };
  await queues.notifications.add('letter', data, { jobId: letterJobId(restriction.id, historyLength) });
  return true;
}

/** The job id of a staff notice: its notice id, plus a suffix where one notice id may be queued again later. */
export function noticeJobId(notice: StaffNotice, suffix?: string): string {
  return `notice.${idPart(notice.noticeId)}${suffix ? `.${idPart(suffix)}` : ''}`;
}

/** Queues a staff notice. */
export async function enqueueNotice(queues: Pick<LifecycleQueues, 'notifications'>, notice: StaffNotice, jobIdSuffix?: string): Promise<void> {
  await queues.notifications.add('notice', { notice }, { jobId: noticeJobId(notice, jobIdSuffix) });
}

/** How long the transition hook waits for the queue before leaving the letter to the daily sweep. */
export const DEFAULT_HOOK_TIMEOUT_MS = 2000;

/** Rejects after `ms` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the queue did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The `onTransition` hook for gateway/compose.ts: after a lifecycle transition is saved, queues the letter it
 * causes (approve → notification; vary, appeal varied → variation; review → review outcome; appeal dismissed →
 * appeal outcome; lift, appeal upheld, expiry → lifting).
 *
 * It never throws and never waits long: the transition is already saved, and failing (or hanging) the
 * request would make the caller retry a step that has happened. BullMQ waits for its connection rather than
 * failing, so the wait is bounded by `timeoutMs`. A letter that could not be queued is logged, and the daily
 * sweep queues it: it re-queues any letter of the last days that has no record (see review-scheduler.ts).
 */
export function lifecycleTransitionHook(
  queues: Pick<LifecycleQueues, 'notifications'>,
  options: { logger?: { error(message: string, meta: Record<string, unknown>): unknown }; timeoutMs?: number } = {},
): (before: Restriction, after: Restriction, action: string) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  return async (_before, after, action) => {
    try {
      await within(enqueueLetter(queues, after), timeoutMs);
    } catch (err) {
      options.logger?.error('could not queue the letter of a transition; the daily sweep will', {
        restrictionId: after.id,
        action,
        error: (err as Error).message,
      });
    }
  };
}

/** When each scheduled run happens. */
export interface ScheduleTimes {
  /** Cron pattern of the daily sweep (reviews, escalations, expiry, missed letters). Default `0 6 * * *`. */
  dailySweep: string;
  /** Milliseconds between expiry sweeps, so flags disappear soon after `endsAt`. Default 15 minutes. */
  expiryEveryMs: number;
  /** Cron pattern of the breach monitor. Default `5 * * * *` (hourly). */
  breachMonitor: string;
  /** Cron pattern of the monthly compliance check (sends on the first working day). Default `0 7 * * *`. */
  monthlyCompliance: string;
}

export const DEFAULT_SCHEDULE: ScheduleTimes = {
  dailySweep: '0 6 * * *',
  expiryEveryMs: 15 * 60_000,
  breachMonitor: '5 * * * *',
  monthlyCompliance: '0 7 * * *',
};

/**
 * Registers the job schedulers. Idempotent: `upsertJobScheduler` with the same id replaces the scheduler, so
 * every worker may call this at start-up and there is still one of each. Cron patterns run in `timeZone`
 * (local 06:00 stays 06:00 across clock changes).
 */
export async function registerLifecycleSchedulers(queue: LifecycleQueue, timeZone: string, times: ScheduleTimes = DEFAULT_SCHEDULE): Promise<void> {
  const template = (name: ScheduledJobName) => ({ name, data: {}, opts: SCHEDULED_JOB_OPTIONS });
  await queue.upsertJobScheduler('daily-sweep', { pattern: times.dailySweep, tz: timeZone }, template('daily-sweep'));
  await queue.upsertJobScheduler('expiry-sweep', { every: times.expiryEveryMs }, template('expiry-sweep'));
  await queue.upsertJobScheduler('breach-monitor', { pattern: times.breachMonitor, tz: timeZone }, template('breach-monitor'));
  await queue.upsertJobScheduler('monthly-compliance', { pattern: times.monthlyCompliance, tz: timeZone }, template('monthly-compliance'));
}
