/**
 * What the gateway needs from the worker side, wired in one place: the inbound-email ingest door
 * (`POST /inbound/email`), the lifecycle hook that queues notification letters, and the queues shown on
 * `/admin/queues`. `gateway/` may not import `workers/` (the layering of DESIGN.md §1), so the process
 * entry point — and the tests, which compose the gateway the same way — pass them in through here.
 */
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import type { GatewayOptions } from '../gateway/compose';
import { createInboundEmailRouter } from '../gateway/inbound-routes';
import { recordWriteConfirmation } from '../gateway/metrics';
import { closeConnection, createQueueConnection, type RedisConnection } from '../store/connections';
import type { RedisTarget } from '../store/redis-target';
import { createAcknowledgeQueue } from '../workers/acknowledge-queue';
import { createDigestQueue } from '../workers/digest-queue';
import { createEmailIngestion } from '../workers/email-ingestion';
import { createForwardQueue } from '../workers/forward-queue';
import { closeLifecycleQueues, createLifecycleQueues, lifecycleTransitionHook } from '../workers/lifecycle-queues';

/** The gateway options that come from the worker side, and how to close what they opened. */
export interface GatewayWiring extends Pick<GatewayOptions, 'onTransition' | 'dashboardQueues' | 'extraMounts'> {
  close(): Promise<void>;
}

/**
 * Opens the producer connections the gateway needs (never a worker: the gateway only queues work).
 * @param options configuration, Redis target and the shared store connection
 */
export function gatewayWiring(options: { config: Config; logger: Logger; target: RedisTarget; redis: RedisConnection }): GatewayWiring {
  const { config, logger, target, redis } = options;
  const queueConnection = createQueueConnection(target, { name: 'gateway-queues' });
  const onQueueError = (e: Error) => logger.warn('queue connection error', { error: e.message });
  const lifecycle = createLifecycleQueues(queueConnection, onQueueError);
  // Shown on the dashboard only; the worker role opens its own producers and consumers.
  const forward = createForwardQueue(queueConnection, onQueueError);
  const acknowledge = createAcknowledgeQueue(queueConnection, onQueueError);
  const digest = createDigestQueue(queueConnection, onQueueError);
  const ingestion = createEmailIngestion({ config, target, redis, logger, onConfirmation: recordWriteConfirmation });
  return {
    onTransition: lifecycleTransitionHook(lifecycle, { logger }),
    dashboardQueues: [lifecycle.notifications, lifecycle.lifecycle, ingestion.queue, forward, acknowledge, digest],
    extraMounts: [
      (app, kit) => {
        app.use(
          createInboundEmailRouter({
            ingest: ingestion.ingest,
            guards: [kit.auth, kit.requireRole('ingest')],
            maxMessageBytes: config.maxMessageBytes,
            logger,
          }),
        );
      },
    ],
    close: async () => {
      await Promise.all([closeLifecycleQueues(lifecycle), forward.close(), acknowledge.close(), digest.close(), ingestion.close()]);
      await closeConnection(queueConnection);
    },
  };
}
