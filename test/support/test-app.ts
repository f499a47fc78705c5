/**
 * The whole gateway for integration and end-to-end tests: a real redis-server, the real store, `createApp`
 * with the staff API, the voice webhooks, server-sent events, the monthly report and the console mounted —
 * listening on a free loopback port, so a real browser (or fetch) can use it.
 *
 * Composed by gateway/compose.ts, as `npm start` composes it; a test can set the clock and the report's
 * sample size, and reach the store to seed data. Leaving 'voice' out of `parts` starts it without a Twilio
 * auth token (no voice routes); the staff API is always mounted.
 */
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../config/env';
import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { createLogger } from '../../config/logger';
import { gatewayWiring } from '../../bin/wiring';
import { composeGateway } from '../../gateway/compose';
import { startLifecycleWorkers } from '../../workers/lifecycle';
import type { EventsRouter } from '../../gateway/events-routes';
import type { Customer, DecisionSettings, Staff } from '../../rules/types';
import { closeConnection, createStoreConnection, waitUntilReady, type RedisConnection, type Store } from '../../store';
import { freePort, startRedis, type TestRedis } from './redis-server';

export const TIME_ZONE = 'Europe/London';
export const TWILIO_AUTH_TOKEN = 'test-app-twilio-auth-token-0123456789';
export const ADMIN_TOKEN = 'test-app-admin-token-0123456789abcdef';
export const EMERGENCY_NUMBER = '+441632960999';
export const PRINT_MAILBOX = 'print@landlord.example';

export const SETTINGS: DecisionSettings = {
  timeZone: TIME_ZONE,
  emergencyNumber: EMERGENCY_NUMBER,
  writeToAddress: 'Customer Relations, PO Box 1, London',
  writeToEmail: 'housing@example.org',
  repeatThreshold: 0.8,
  emergencyPhrases: EMERGENCY_PHRASES,
};

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** The application clock (decisions, lifecycle, report). @default real time */
  now?: () => Date;
  /** The report's audit sample size. @default 5 */
  sampleSize?: number;
  /** SSE heartbeat interval. @default 15 s */
  heartbeatMs?: number;
  /** Which optional routers to mount besides the console, events and report. @default both */
  parts?: Array<'staff-api' | 'voice'>;
  /** Outbound relay; with it, the lifecycle workers run (letters on approval arrive there). */
  smtpRelayUrl?: string;
}

/** A running gateway. */
export interface TestApp {
  /** `http://127.0.0.1:<port>`, also the PUBLIC_URL Twilio signatures are computed against. */
  url: string;
  redis: TestRedis;
  store: Store;
  /** A plain connection for publishing and poking at keys. */
  connection: RedisConnection;
  events: EventsRouter;
  /** Stores a member of staff and issues a token for them. */
  addStaff(staff: Staff): Promise<string>;
  /** Stores a customer (phones in any UK format). */
  addCustomer(customer: Customer): Promise<Customer>;
  stop(): Promise<void>;
}

/** Starts redis-server and the gateway, composed exactly as `npm start` composes it, on a free port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const redis = await startRedis();
  const target = { kind: 'single' as const, url: redis.url };
  const connection = createStoreConnection(target);
  await waitUntilReady(connection);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const parts = new Set(options.parts ?? ['staff-api', 'voice']);
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: redis.url,
    PUBLIC_URL: url,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    ...(parts.has('voice') ? { TWILIO_AUTH_TOKEN } : {}),
    EMERGENCY_NUMBER,
    VOICE_DEFAULT_ROUTE: 'dial:+441632960000',
    VOICE_LOOKUP_BUDGET_MS: '500',
    GATEKEEPER_TIMEZONE: TIME_ZONE,
    WRITE_TO_ADDRESS: SETTINGS.writeToAddress,
    WRITE_TO_EMAIL: SETTINGS.writeToEmail,
    REPEAT_THRESHOLD: String(SETTINGS.repeatThreshold),
    AUDIT_SAMPLE_SIZE: String(options.sampleSize ?? 5),
    ...(options.smtpRelayUrl ? { SMTP_RELAY_URL: options.smtpRelayUrl, MAILBOX_PRINT: PRINT_MAILBOX } : {}),
  });
  const wiring = gatewayWiring({ config, logger: createLogger('silent'), target, redis: connection });
  const composed = composeGateway({
    ...wiring,
    config,
    logger: createLogger('silent'),
    target,
    redis: connection,
    ...(options.now ? { now: options.now } : {}),
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    // High enough that a test's deliberate bad tokens never lock the suite out.
    authFailureLimits: { maxFailures: 1000 },
  });
  const { app, store, events } = composed;
  await events.hub.ready();
  const lifecycle = options.smtpRelayUrl
    ? await startLifecycleWorkers({
        config,
        logger: createLogger('silent'),
        target,
        redis: connection,
        store,
        registerSchedulers: false,
        monthlyReport: async () => {
          throw new Error('not used by the browser tests');
        },
      })
    : undefined;

  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    url,
    redis,
    store,
    connection,
    events,
    async addStaff(staff) {
      await store.staff.put(staff);
      return (await store.staff.issueToken(staff.id)).token;
    },
    addCustomer: (customer) => store.customers.put(customer),
    async stop() {
      await composed.endStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await lifecycle?.stop();
      await composed.close();
      await wiring.close();
      await closeConnection(connection);
      await redis.stop();
    },
  };
}
