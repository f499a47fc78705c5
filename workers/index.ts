/**
 * workers/ — BullMQ queues, workers and job schedulers. This file exports what `bin/gatekeeper.ts` starts for
 * written contact; the lifecycle workers (notifications, schedulers) are in lifecycle.ts.
 *
 * Written contact, end to end: SMTP listener / `POST /inbound/email` → raw-message store + `process-message`
 * (email-ingestion.ts) → process-message-worker.ts → `forward` / `digest` / `acknowledge` workers.
 */
export { createEmailIngestion, startSmtpRole, type EmailIngestion } from './email-ingestion';
export { startEmailWorkers, type EmailWorkersOptions, type RunningEmailWorkers } from './email-workers';
export { emailSettingsFromConfig, type EmailSettings, type EmailWorkerDeps, type LettersPort } from './email-deps';
export { QUEUE_PREFIX } from './queue-prefix';
