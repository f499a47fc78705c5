/**
 * Composition of the HTTP gateway: one place that turns configuration and Redis connections into the
 * express app with every router mounted. `bin/gatekeeper.ts` listens on it; the integration and browser
 * tests build exactly the same app over their own redis-server.
 */
import type { RequestListener } from 'node:http';

import type { Express } from 'express';
import { BackgroundTasks } from '../channels/voice/background';
import { EVIDENCE_WINDOW_MS } from '../channels/voice/call-recorder';
import { RedisCallSessions } from '../channels/voice/call-session';
import { createEvidenceThread, type EvidenceThread } from '../channels/voice/evidence-thread';
import { decisionSettings } from '../channels/decision-settings';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import type { DecisionSettings, Restriction, Staff } from '../rules/types';
import {
  closeConnection,
  createLookupConnection,
  createSubscriberConnection,
  type RedisConnection,
} from '../store/connections';
import { createStore, type Store } from '../store';
import { warnUnreplicated } from '../store/durability';
import type { RedisTarget } from '../store/redis-target';
import type { ApiDeps } from './api-deps';
import { createApp, type MountKit } from './app';
import type { FailureLimitOptions } from './auth';
import { createConsoleRouter } from './console-routes';
import { createEventsRouter, type EventsRouter } from './events-routes';
import { redisReadiness, type ReadyCheck } from './health';
import { authFailStaticTotal, recordEvidenceBatch, recordEvidenceThreadExit, recordWriteConfirmation, unwatchQueues, watchQueues } from './metrics';
import { createReportRouter } from './report-routes';
import { ReportAuditStore } from './report-store';
import { confirmWritesBeforeAnswering } from './durable-writes';
import { createStaffApi } from './staff-api';
import { gatewayHandler } from './http-handler';
import { createVoiceWebhooks, type VoiceWebhooks } from './voice-webhooks';
import { mountQueuesDashboard } from './queues-dashboard';
import { failStaticResolver } from './verified-tokens';

/** Extra routers a role adds (the inbound-email webhook, the queue dashboard), mounted before the 404. */
export type ExtraMount = (app: Express, kit: MountKit, gateway: { store: Store; deps: ApiDeps }) => void;

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** Where Redis is; the gateway opens its own fail-fast lookup and subscriber connections to it. */
  target: RedisTarget;
  /** The shared store connection. */
  redis: RedisConnection;
  /** The clock; tests pin it. */
  now?: () => Date;
  /** Called after each saved lifecycle transition: bin/ passes the hook that queues the customer's letter. */
  onTransition?: (before: Restriction, after: Restriction, action: string) => Promise<void>;
  /** The queues shown on the admin dashboard at /admin/queues (the workers' queues, opened by bin/). */
  dashboardQueues?: Parameters<typeof mountQueuesDashboard>[1]['queues'];
  /** Server-sent events heartbeat; default 15 s. */
  heartbeatMs?: number;
  /** Authentication-failure limit; default 20 a minute per address. */
  authFailureLimits?: FailureLimitOptions;
  extraMounts?: ExtraMount[];
}

export interface ComposedGateway {
  /**
   * What the HTTP server runs (`http.createServer(app)`, or supertest): the voice webhooks for `/voice…`,
   * the express app for the rest (gateway/http-handler.ts).
   */
  app: RequestListener;
  store: Store;
  deps: ApiDeps;
  events: EventsRouter;
  /** Ends open event streams (call before closing the HTTP server, so shutdown is not held by them). */
  endStreams(): Promise<void>;
  /** Closes the connections this module opened (not the shared store connection). */
  close(): Promise<void>;
}

/** Builds the gateway app with every router mounted. */
export function composeGateway(options: GatewayOptions): ComposedGateway {
  const { config, logger, redis } = options;
  const lookup = createLookupConnection(options.target, { name: 'gateway-lookup' });
  const subscriber = createSubscriberConnection(options.target, { name: 'gateway-events' });
  const store = createStore(redis, {
    lookup,
    durability: {
      onResult: recordWriteConfirmation,
      onUnreplicated: warnUnreplicated(logger),
    },
  });
  const now = options.now ?? (() => new Date());
  const settings = decisionSettings(config);

  const deps: ApiDeps = {
    store,
    config: { timeZone: config.timeZone, reviewMaxMonths: config.reviewMaxMonths, voiceDefaultRoute: config.voiceDefaultRoute },
    settings,
    now,
    staffDirectory: async () => new Map((await store.staff.list()).map((s: Staff) => [s.id, s])),
    audit: async (actorId, action, record, details, onceKey) => {
      const entry = {
        actor: actorId,
        action,
        entity: action.split('.')[0] ?? 'record',
        entityId: record.id,
        at: now().toISOString(),
        ...(details ? { details } : {}),
      };
      if (onceKey === undefined) await store.audit.append(entry);
      else await store.audit.appendOnce(onceKey, entry, { forever: true });
    },
    ...(options.onTransition ? { onTransition: options.onTransition } : {}),
  };

  // Evidence of calls is written after Twilio has its answer; shutdown waits for it (endStreams/close).
  const background = new BackgroundTasks((task, error) =>
    logger.error('background task failed', { task, code: (error as { code?: unknown } | undefined)?.code }),
  );
  let events: EventsRouter | undefined;
  // Evidence of calls is written on its own thread (channels/voice/evidence-thread.ts), started with the first call.
  const calls = new RedisCallSessions(lookup);
  const evidenceThread = createEvidenceThread({
    target: options.target,
    calls,
    store,
    events: redis,
    logger,
    logLevel: config.logLevel,
    onBatch: recordEvidenceBatch,
    onThreadExit: recordEvidenceThreadExit,
  });
  // Served ahead of the app (gateway/http-handler.ts), not mounted on it.
  const voice = voiceWebhooks(options, settings, store, { calls, evidenceThread }, now, background);
  const app = createApp({
    config,
    logger,
    checkReady: gatewayReadiness(redis, lookup),
    resolveToken: failStaticResolver((token) => store.staff.resolveToken(token), { onStale: staleAuthNotice(logger) }),
    ...(options.authFailureLimits ? { authFailureLimits: options.authFailureLimits } : {}),
    mount: (a, kit) => {
      watchQueues(options.dashboardQueues ?? []);
      mountQueuesDashboard(a, {
        queues: options.dashboardQueues ?? [],
        auth: kit.auth,
        requireRole: kit.requireRole,
      });
      events = createEventsRouter({ subscriber, authenticate: kit.auth, logger, ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}) });
      a.use('/console', createConsoleRouter({ authenticate: kit.auth, timeZone: config.timeZone, now }));
      a.use('/v1/events', events);
      a.use(
        '/v1/reports',
        // Recording an audit sample's result is a change like any staff API write (gateway/durable-writes.ts).
        confirmWritesBeforeAnswering(store.writes),
        createReportRouter({
          store,
          audits: new ReportAuditStore(redis),
          authenticate: kit.auth,
          timeZone: config.timeZone,
          sampleSize: config.auditSampleSize,
          now,
          audit: deps.audit,
        }),
      );
      for (const extra of options.extraMounts ?? []) extra(a, kit, { store, deps });
      a.use('/v1', createStaffApi(deps, kit.auth, kit.authDuringOutage));
    },
  });
  if (!events) throw new Error('composeGateway: the app did not mount its routers');
  const hub = events.hub;

  return {
    app: gatewayHandler(app, voice, logger),
    store,
    deps,
    events,
    endStreams: async () => {
      await hub.close();
    },
    close: async () => {
      unwatchQueues(options.dashboardQueues ?? []);
      await hub.close();
      await background.idle();
      await evidenceThread.close();
      await Promise.all([closeConnection(lookup), closeConnection(subscriber)]);
    },
  };
}

/**
 * Counts each decision query let in on an earlier verification (gateway/verified-tokens.ts) and says so in
 * the log, at most once a minute: an outage lets many requests in this way, and one line says it all.
 */
function staleAuthNotice(logger: Logger): () => void {
  let loggedAt = 0;
  return () => {
    authFailStaticTotal.inc();
    const now = Date.now();
    if (now - loggedAt < 60_000) return;
    loggedAt = now;
    logger.warn('auth: Redis cannot answer; decision queries with staff tokens verified in the last 12 hours are accepted meanwhile', { code: 'auth-fail-static' });
  };
}

/**
 * Ready when the store's Redis answers with `noeviction` and the gate's own fail-fast connection is
 * connected: the two reconnect on their own schedules, and an instance whose gate cannot look callers up
 * would answer every call unchecked.
 */
function gatewayReadiness(redis: RedisConnection, lookup: RedisConnection): ReadyCheck {
  const store = redisReadiness(redis);
  return async () => {
    const result = await store();
    const gate = lookup.status === 'ready' ? 'ok' : `not connected (${lookup.status})`;
    return { ok: result.ok && gate === 'ok', checks: { ...result.checks, gate } };
  };
}

/**
 * The Twilio webhooks, when a Twilio auth token is configured. Without one, signatures cannot be checked,
 * so no voice route is served (a development start on embedded defaults: the app answers `/voice…` 404)
 * and the log says so.
 */
function voiceWebhooks(
  options: GatewayOptions,
  settings: DecisionSettings,
  store: Store,
  voice: { calls: RedisCallSessions; evidenceThread: EvidenceThread },
  now: () => Date,
  background: BackgroundTasks,
): VoiceWebhooks | undefined {
  const { config, logger, redis } = options;
  if (!config.twilioAuthToken) {
    logger.warn('voice webhooks disabled: TWILIO_AUTH_TOKEN is not set');
    return undefined;
  }
  return createVoiceWebhooks({
    config,
    settings,
    gate: store.gate,
    calls: voice.calls,
    evidenceWriter: voice.evidenceThread,
    evidenceWindowMs: EVIDENCE_WINDOW_MS,
    contacts: store.contacts,
    audit: store.audit,
    events: redis,
    now,
    logger,
    background,
  });
}
