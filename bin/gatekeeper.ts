/**
 * The process entry point (`npm start`): `node dist/bin/gatekeeper.js [--role gateway|smtp|worker|all]`.
 *
 * 1. Loads and validates the configuration (a bad variable → one line on stderr, exit 1).
 * 2. Without REDIS_URL / cluster / sentinel, starts the embedded redis-server (bin/embedded-redis.ts).
 * 3. Opens the shared store connection and starts the requested roles (default: all of them).
 * 4. On SIGTERM/SIGINT: stops accepting work, lets in-flight requests finish, closes Redis connections,
 *    stops the embedded Redis, exits 0 — or exits 1 if that takes longer than SHUTDOWN_GRACE_MS.
 */
import { createServer, type Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from '../config/env';
import { logger, setLogLevel, type Logger } from '../config/logger';
import { composeGateway } from '../gateway/compose';
import { recordDecision, recordWriteConfirmation } from '../gateway/metrics';
import { buildMonthlyReport, reportToCsv } from '../gateway/report-routes';
import { ReportAuditStore } from '../gateway/report-store';
import { createStore } from '../store';
import { createEmailIngestion, startEmailWorkers, startSmtpRole } from '../workers';
import { startLifecycleWorkers } from '../workers/lifecycle';
import { gatewayWiring } from './wiring';
import { closeConnection, createStoreConnection, type RedisConnection } from '../store/connections';
import type { RedisTarget } from '../store/redis-target';
import { EmbeddedRedisError, startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis';

export const ROLE_NAMES = ['gateway', 'smtp', 'worker'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** What every role is started with. */
export interface RoleContext {
  config: Config;
  logger: Logger;
  /** Where Redis is (the embedded server's URL when one was started), for roles that open their own connections. */
  redisTarget: RedisTarget;
  /** The process's shared store connection (store/connections.ts `createStoreConnection`). */
  redis: RedisConnection;
}

/** A started role. */
export interface RunningRole {
  /** Addresses it serves, for the start-up line (e.g. `{ http: 'http://localhost:3000' }`). */
  urls?: Record<string, string>;
  /** Stops taking new work and finishes what is in flight. Must resolve within the grace period. */
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: RoleContext) => Promise<RunningRole>;

/** An invocation the process cannot run: bad arguments. */
export class UsageError extends Error {
  readonly code = 'usage';
}

const USAGE = 'usage: gatekeeper [--role gateway|smtp|worker|all[,…]]';

/**
 * Parses the command line: `--role <r>` or `--role=<r>`, where `<r>` is `gateway`, `smtp`, `worker`, `all`
 * or a comma list of them. Default `all`.
 * @throws UsageError on anything else.
 */
export function parseArgs(argv: readonly string[]): { roles: RoleName[] } {
  let value = 'all';
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--role') {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--role needs a value; ${USAGE}`);
      value = next;
      i += 1;
    } else if (arg.startsWith('--role=')) {
      value = arg.slice('--role='.length);
    } else {
      throw new UsageError(`unknown argument "${arg}"; ${USAGE}`);
    }
  }
  const roles = new Set<RoleName>();
  for (const part of value.split(',').map((s) => s.trim())) {
    if (part === 'all') ROLE_NAMES.forEach((r) => roles.add(r));
    else if ((ROLE_NAMES as readonly string[]).includes(part)) roles.add(part as RoleName);
    else throw new UsageError(`unknown role "${part}"; ${USAGE}`);
  }
  return { roles: ROLE_NAMES.filter((r) => roles.has(r)) };
}

/**
 * Starts the HTTP gateway on `PORT` with every router mounted (gateway/compose.ts). Its `stop` closes the
 * listener, lets in-flight requests finish, and — shortly before the grace period ends — cuts long-lived
 * connections (server-sent events) that would not.
 */
export async function startGateway(ctx: RoleContext): Promise<RunningRole> {
  // Producers only: approving a restriction queues its letter, /inbound/email queues its processing.
  const wiring = gatewayWiring({ config: ctx.config, logger: ctx.logger, target: ctx.redisTarget, redis: ctx.redis });
  const composed = composeGateway({ config: ctx.config, logger: ctx.logger, target: ctx.redisTarget, redis: ctx.redis, ...wiring });
  const server: Server = createServer(composed.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    urls: { http: `http://localhost:${ctx.config.port}`, console: `http://localhost:${ctx.config.port}/console`, public: ctx.config.publicUrl },
    stop: async () => {
      // Open event streams never end by themselves: end them first so close() only waits for real requests.
      await composed.endStreams();
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), Math.max(0, ctx.config.shutdownGraceMs - 1000));
        // close() stops accepting, closes idle keep-alive sockets, and calls back once in-flight requests end.
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
      });
      await composed.close();
      await wiring.close();
    },
  };
}

/** Starts the SMTP listener on `SMTP_PORT`: 250 only once a message is stored and queued. */
export async function startSmtp(ctx: RoleContext): Promise<RunningRole> {
  const ingestion = createEmailIngestion({ config: ctx.config, target: ctx.redisTarget, redis: ctx.redis, logger: ctx.logger, onConfirmation: recordWriteConfirmation });
  const listener = await startSmtpRole(ctx.config, ingestion.ingest, ctx.logger);
  return {
    urls: { smtp: `smtp://localhost:${listener.port}` },
    stop: async () => {
      await listener.close();
      await ingestion.close();
    },
  };
}

/**
 * Starts the BullMQ workers: written contact (processing, forwarding, digests, acknowledgements) and the
 * lifecycle (letters, reminders, expiry, breaches, the monthly report).
 */
export async function startWorkers(ctx: RoleContext): Promise<RunningRole> {
  const store = createStore(ctx.redis);
  const email = await startEmailWorkers({
    config: ctx.config,
    logger: ctx.logger,
    target: ctx.redisTarget,
    redis: ctx.redis,
    store,
    onDecision: (channel, outcome) => recordDecision(channel, outcome),
  });
  const audits = new ReportAuditStore(ctx.redis);
  const lifecycle = await startLifecycleWorkers({
    config: ctx.config,
    logger: ctx.logger,
    target: ctx.redisTarget,
    redis: ctx.redis,
    store,
    monthlyReport: async (month) => {
      const report = await buildMonthlyReport({ store, audits, timeZone: ctx.config.timeZone, sampleSize: ctx.config.auditSampleSize, now: () => new Date() }, month);
      return { report, csv: reportToCsv(report) };
    },
  });
  return {
    stop: async () => {
      await Promise.all([email.stop(), lifecycle.stop()]);
    },
  };
}

/** The roles and how to start them (`--role`; `all` starts every one in this process). */
const starters = new Map<RoleName, RoleStarter>([
  ['gateway', startGateway],
  ['smtp', startSmtp],
  ['worker', startWorkers],
]);

/** Sets (or replaces) how a role starts. */
export function registerRole(name: RoleName, start: RoleStarter): void {
  starters.set(name, start);
}

/** Logs Redis connection errors at most once per interval: a dead Redis retries many times a second. */
function throttledRedisErrors(log: Logger, intervalMs = 30_000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    log.warn('redis connection error', { error: err.message, code: (err as NodeJS.ErrnoException).code });
  };
}

/**
 * Runs Gatekeeper until a signal stops it.
 * @param argv the arguments after the script name.
 */
export async function main(argv: readonly string[]): Promise<void> {
  let roles: RoleName[];
  let config: Config;
  try {
    ({ roles } = parseArgs(argv));
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(err.message);
      process.exit(err instanceof UsageError ? 2 : 1);
    }
    throw err;
  }
  setLogLevel(logger, config.logLevel);

  let embedded: EmbeddedRedis | undefined;
  let target: RedisTarget;
  if (config.redis.kind === 'embedded') {
    try {
      embedded = await startEmbeddedRedis(config.redis.dataDir, {
        handleSignals: false, // shutdown below stops it, after the requests that use it have finished
        log: (message) => logger.info(message),
        onUnexpectedExit: (code, signal) => logger.error('the embedded redis-server stopped', { code, signal }),
      });
    } catch (err) {
      if (err instanceof EmbeddedRedisError) {
        console.error(err.message);
        process.exit(1);
      }
      throw err;
    }
    target = { kind: 'single', url: embedded.url };
  } else {
    target = config.redis;
  }

  const redis = createStoreConnection(target, { name: roles.join('+'), onError: throttledRedisErrors(logger) });
  const ctx: RoleContext = { config, logger, redisTarget: target, redis };
  const running: RunningRole[] = [];

  let stopping = false;
  const shutdown = async (reason: string, exitCode = 0): Promise<void> => {
    if (stopping) {
      logger.warn('second stop request: exiting now', { reason });
      process.exit(1);
    }
    stopping = true;
    logger.info('Gatekeeper stopping', { reason });
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than SHUTDOWN_GRACE_MS: exiting', { graceMs: config.shutdownGraceMs });
      process.exit(1);
    }, config.shutdownGraceMs);
    deadline.unref();
    const results = await Promise.allSettled(running.map((role) => role.stop()));
    for (const r of results) if (r.status === 'rejected') logger.error('a role failed to stop cleanly', { err: r.reason });
    await closeConnection(redis);
    await embedded?.stop();
    clearTimeout(deadline);
    logger.info('Gatekeeper stopped');
    process.exit(exitCode);
  };
  // `on`, not `once`: a second signal must reach shutdown (which then exits at once), not the default action.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    for (const name of roles) {
      const start = starters.get(name);
      if (start) running.push(await start(ctx));
    }
  } catch (err) {
    logger.error('Gatekeeper failed to start', { err });
    await shutdown('start-up failure', 1);
    return;
  }

  const urls = Object.assign({}, ...running.map((r) => r.urls ?? {})) as Record<string, string>;
  logger.info('Gatekeeper listening', { roles, ...urls, redis: embedded ? `embedded (${embedded.url})` : target.kind });
}

if (require.main === module) {
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', { err: reason }));
  main(process.argv.slice(2)).catch((err: unknown) => {
    logger.error('Gatekeeper crashed', { err });
    process.exit(1);
  });
}
