/**
 * The lifecycle workers, started by the worker role (`npm start -- --role worker`): the notifications
 * worker (letters to customers, notices to staff) and the scheduler worker (daily sweep, expiry sweep,
 * breach monitor, monthly compliance check), with the job schedulers registered idempotently at start.
 *
 * ```ts
 * const lifecycle = await startLifecycleWorkers({ config, logger, target, redis, monthlyReport });
 * // … on shutdown
 * await lifecycle.stop();
 * ```
 *
 * Several worker processes may run this at once: BullMQ hands each job to one of them, the schedulers are
 * upserted by id, and every sweep is idempotent.
 */
import { Worker, type Job } from 'bullmq';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import { createMailTransport } from '../channels/email/outbound';
import type { MailTransport } from '../channels/email/mail-transport';
import { createStore, type Store } from '../store';
import { closeConnection, createWorkerConnection, type RedisConnection } from '../store/connections';
import type { RedisTarget } from '../store/redis-target';
import { runBreachMonitor } from './breach-monitor';
import { runComplianceCheck } from './compliance-scheduler';
import { LetterStore, NoticeLog } from './letter-store';
import { lifecycleSettingsFromConfig, type LifecycleDeps, type LifecycleSettings, type MonthlyReportSource } from './lifecycle-deps';
import {
  closeLifecycleQueues,
  createLifecycleQueues,
  DEFAULT_SCHEDULE,
  LIFECYCLE_QUEUE,
  registerLifecycleSchedulers,
  type LifecycleQueues,
  type ScheduleTimes,
  type ScheduledJobData,
  type ScheduledJobName,
} from './lifecycle-queues';
import { createNotificationWorker } from './notification-worker';
import { QUEUE_PREFIX } from './queue-prefix';
import { expireDue, runDailySweep } from './review-scheduler';

export { lifecycleTransitionHook, createLifecycleQueues, closeLifecycleQueues, registerLifecycleSchedulers, type LifecycleQueues } from './lifecycle-queues';
export { runDailySweep, expireDue } from './review-scheduler';
export { runBreachMonitor } from './breach-monitor';
export { runComplianceCheck } from './compliance-scheduler';
export { lifecycleSettingsFromConfig, type LifecycleDeps, type LifecycleSettings, type MonthlyReportSource } from './lifecycle-deps';

/** What {@link startLifecycleWorkers} needs. */
export interface LifecycleWorkersOptions {
  config: Config;
  logger: Logger;
  /** Where Redis is; the workers open their own (wait-through-outages) connection to it. */
  target: RedisTarget;
  /** The process's shared store connection (repositories, letter store, notice log). */
  redis: RedisConnection;
  /** The month's report and CSV (bin wires gateway/report-routes.ts `buildMonthlyReport` + `reportToCsv`). */
  monthlyReport: MonthlyReportSource;
  /** @default a store over `redis` */
  store?: Store;
  /** @default `createMailTransport(config)`: the SMTP relay, or `.eml` files in the outbox */
  mail?: MailTransport;
  /** Settings differing from the configuration's (e.g. a privacy-notice address). */
  settings?: Partial<LifecycleSettings>;
  /** @default {@link DEFAULT_SCHEDULE} */
  schedule?: ScheduleTimes;
  /** Register the job schedulers at start. @default true */
  registerSchedulers?: boolean;
  /** @default real time */
  now?: () => Date;
}

/** Running lifecycle workers. */
export interface RunningLifecycle {
  queues: LifecycleQueues;
  deps: LifecycleDeps;
  /** Lets jobs in progress finish, then closes the workers, queues, the mail transport (if opened here) and the worker connection. */
  stop(): Promise<void>;
}

/** Runs one scheduled job: each calls its sweep with the time it runs. */
export async function processScheduledJob(deps: LifecycleDeps, job: Job<ScheduledJobData, unknown, ScheduledJobName>): Promise<unknown> {
  const now = deps.now();
  switch (job.name) {
    case 'daily-sweep':
      return runDailySweep(deps, now);
    case 'expiry-sweep':
      return { expired: await expireDue(deps, now) };
    case 'breach-monitor':
      return runBreachMonitor(deps, now);
    case 'monthly-compliance':
      return runComplianceCheck(deps, now);
  }
}

/** Starts the lifecycle workers and registers the job schedulers. */
export async function startLifecycleWorkers(options: LifecycleWorkersOptions): Promise<RunningLifecycle> {
  const { config, logger } = options;
  const connection = createWorkerConnection(options.target, { name: 'lifecycle' });
  const queues = createLifecycleQueues(connection, (err) => logger.warn('lifecycle queue connection error', { error: err.message }));
  const settings = lifecycleSettingsFromConfig(config, options.settings);
  const ownMail = options.mail === undefined;
  const mail = options.mail ?? createMailTransport({ ...(config.smtpRelayUrl ? { smtpRelayUrl: config.smtpRelayUrl } : {}), dataDir: config.dataDir });
  const deps: LifecycleDeps = {
    store: options.store ?? createStore(options.redis),
    queues,
    letters: new LetterStore(options.redis, { retentionDays: settings.letterRetentionDays }),
    notices: new NoticeLog(options.redis),
    mail,
    settings,
    logger,
    monthlyReport: options.monthlyReport,
    now: options.now ?? (() => new Date()),
  };

  if (options.registerSchedulers ?? true) await registerLifecycleSchedulers(queues.lifecycle, settings.timeZone, options.schedule ?? DEFAULT_SCHEDULE);

  const notifications = createNotificationWorker(connection, deps);
  const scheduled = new Worker<ScheduledJobData, unknown, ScheduledJobName>(LIFECYCLE_QUEUE, (job) => processScheduledJob(deps, job), {
    connection,
    prefix: QUEUE_PREFIX,
    // One sweep at a time per process: sweeps read and save the same restrictions.
    concurrency: 1,
  });
  scheduled.on('failed', (job, err) => logger.warn('scheduled lifecycle job failed', { jobId: job?.id, name: job?.name, error: err.message }));
  scheduled.on('error', (err) => logger.error('lifecycle worker error', { error: err.message }));
  logger.info('lifecycle workers started', { mail: mail.kind, timeZone: settings.timeZone });

  return {
    queues,
    deps,
    stop: async () => {
      await Promise.all([notifications.close(), scheduled.close()]);
      await closeLifecycleQueues(queues);
      if (ownMail) await mail.close();
      await closeConnection(connection);
    },
  };
}
