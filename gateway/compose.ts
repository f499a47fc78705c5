/**
 * Composition of the HTTP gateway: one place that turns configuration and Redis connections into the
 * express app with every router mounted. `bin/gatekeeper.ts` listens on it; the integration and browser
 * tests build exactly the same app over their own redis-server.
 */
import type { Express } from 'express';
import type { Config } from '../config/env';
import { EMERGENCY_PHRASES } from '../config/emergency-phrases';
import type { Logger } from '../config/logger';
import type { DecisionSettings, Restriction, Staff } from '../rules/types';
import { closeConnection, createLookupConnection, type RedisConnection } from '../store/connections';
import { createStore, type Store } from '../store';
import type { RedisTarget } from '../store/redis-target';
import type { ApiDeps } from './api-deps';
import { createApp } from './app';
import { redisReadiness } from './health';
import { createStaffApi } from './staff-api';

/** Organisation-wide settings for `decide`, from the configuration. */
export function decisionSettings(config: Config): DecisionSettings {
  return {
    timeZone: config.timeZone,
    emergencyNumber: config.emergencyNumber,
    writeToAddress: config.writeToAddress,
    writeToEmail: config.writeToEmail,
    repeatThreshold: config.repeatThreshold,
    emergencyPhrases: EMERGENCY_PHRASES,
  };
}

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** Where Redis is; the gateway opens its own fail-fast lookup connection to it. */
  target: RedisTarget;
  /** The shared store connection. */
  redis: RedisConnection;
  /** The clock; tests pin it. */
  now?: () => Date;
  /** Called after each saved lifecycle transition (notifications, reminders). */
  onTransition?: (before: Restriction, after: Restriction, action: string) => Promise<void>;
}

export interface ComposedGateway {
  app: Express;
  store: Store;
  deps: ApiDeps;
  /** Closes the connections this module opened (not the shared store connection). */
  close(): Promise<void>;
}

/** Builds the gateway app with every router mounted. */
export function composeGateway(options: GatewayOptions): ComposedGateway {
  const { config, logger, redis } = options;
  const lookup = createLookupConnection(options.target, { name: 'gateway-lookup' });
  const store = createStore(redis, { lookup });
  const now = options.now ?? (() => new Date());

  const deps: ApiDeps = {
    store,
    config: { timeZone: config.timeZone, reviewMaxMonths: config.reviewMaxMonths },
    settings: decisionSettings(config),
    now,
    staffDirectory: async () => new Map((await store.staff.list()).map((s: Staff) => [s.id, s])),
    audit: async (actorId, action, record, details) => {
      await store.audit.append({
        actor: actorId,
        action,
        entity: action.split('.')[0] ?? 'record',
        entityId: record.id,
        at: now().toISOString(),
        ...(details ? { details } : {}),
      });
    },
    ...(options.onTransition ? { onTransition: options.onTransition } : {}),
  };

  const app = createApp({
    config,
    logger,
    checkReady: redisReadiness(redis),
    resolveToken: (token) => store.staff.resolveToken(token),
    mount: (a, kit) => {
      a.use('/v1', createStaffApi(deps, kit.auth));
    },
  });

  return {
    app,
    store,
    deps,
    close: async () => {
      await closeConnection(lookup);
    },
  };
}
