/**
 * Harness of the lifecycle suites: a real redis-server, a real SMTP server capturing outbound mail (the
 * relay the workers send through), the gateway composed as `npm start` composes it with the lifecycle
 * transition hook, and the lifecycle workers running — so an approval over HTTP ends as mail on the wire.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import request from 'supertest';
import { loadConfig, type Config } from '../../config/env';
import { createLogger } from '../../config/logger';
import { composeGateway, type ComposedGateway } from '../../gateway/compose';
import { buildMonthlyReport, reportToCsv } from '../../gateway/report-routes';
import { ReportAuditStore } from '../../gateway/report-store';
import type { Measure, Role } from '../../rules/types';
import { closeConnection, createQueueConnection, createStoreConnection, waitUntilReady, type RedisConnection } from '../../store/connections';
import type { RedisTarget } from '../../store/redis-target';
import { closeLifecycleQueues, createLifecycleQueues, lifecycleTransitionHook, type LifecycleQueues } from '../../workers/lifecycle-queues';
import { startLifecycleWorkers, type RunningLifecycle } from '../../workers/lifecycle';
import type { LifecycleDeps, LifecycleSettings, MonthlyReportSource } from '../../workers/lifecycle-deps';
import { startCaptureSmtp, type CaptureSmtp, type CapturedMail } from '../fixtures/mail/capture-smtp';
import { startRedis, type TestRedis } from '../support/redis-server';

export const ADMIN_TOKEN = 'lifecycle-admin-token-0123456789abcdef';
export const PRINT_MAILBOX = 'print@landlord.example';
export const WRITE_TO_EMAIL = 'housing@landlord.example';
export const NOTICES_FROM = 'gatekeeper@landlord.example';
export const PUBLIC_URL = 'https://gatekeeper.example.org';
export const PRIVACY_NOTICE_URL = 'https://landlord.example/privacy-notice';
export const EMERGENCY_E164 = '+443001234567';
/** How a letter prints {@link EMERGENCY_E164}. */
export const EMERGENCY_NATIONAL = '0300 123 4567';

/** One captured message, parsed. */
export interface Mail {
  rcptTo: string[];
  parsed: ParsedMail;
}

export interface LifecycleHarness {
  redis: TestRedis;
  smtp: CaptureSmtp;
  config: Config;
  target: RedisTarget;
  connection: RedisConnection;
  gateway: ComposedGateway;
  /** The gateway's producer queues (the transition hook adds to these). */
  producer: LifecycleQueues;
  lifecycle: RunningLifecycle;
  deps: LifecycleDeps;
  monthlyReport: MonthlyReportSource;
  setNow(iso: string): void;
  /** Creates a member of staff and returns their token. */
  staff(id: string, name: string, roles: Role[]): Promise<string>;
  /** Every message captured so far, parsed, in arrival order. */
  mails(): Promise<Mail[]>;
  /** Waits until `count` captured messages match, and returns them. */
  waitForMail(match: (m: Mail) => boolean, count?: number): Promise<Mail[]>;
  close(): Promise<void>;
}

async function parse(captured: CapturedMail): Promise<Mail> {
  return { rcptTo: captured.rcptTo, parsed: await simpleParser(captured.raw) };
}

/** Starts everything; the gateway's clock starts at `nowIso`. */
export async function startLifecycleHarness(options: { nowIso?: string; settings?: Partial<LifecycleSettings> } = {}): Promise<LifecycleHarness> {
  const redis = await startRedis();
  const smtp = await startCaptureSmtp();
  const target: RedisTarget = { kind: 'single', url: redis.url };
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: redis.url,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL,
    PRIVACY_NOTICE_URL,
    EMERGENCY_NUMBER: EMERGENCY_E164,
    SMTP_RELAY_URL: smtp.url,
    MAILBOX_PRINT: PRINT_MAILBOX,
    MAILBOX_DEFAULT: NOTICES_FROM,
    WRITE_TO_EMAIL,
    WRITE_TO_ADDRESS: 'Tenancy Services, 1 High Street, Exampleton, EX1 1AA',
    LOG_LEVEL: 'error',
    DATA_DIR: '/tmp/gk-lifecycle-test-data',
  });
  const logger = createLogger('silent');
  const connection = createStoreConnection(target);
  const producerConnection = createQueueConnection(target);
  await Promise.all([waitUntilReady(connection), waitUntilReady(producerConnection)]);
  const producer = createLifecycleQueues(producerConnection);

  let now = new Date(options.nowIso ?? '2026-11-25T10:00:00Z');
  const gateway = composeGateway({
    config,
    logger,
    target,
    redis: connection,
    now: () => now,
    onTransition: lifecycleTransitionHook(producer, { logger }),
  });
  const audits = new ReportAuditStore(connection);
  const monthlyReport: MonthlyReportSource = async (month) => {
    const report = await buildMonthlyReport({ store: gateway.store, audits, timeZone: config.timeZone, now: () => now }, month);
    return { report, csv: reportToCsv(report) };
  };
  const lifecycle = await startLifecycleWorkers({
    config,
    logger,
    target,
    redis: connection,
    store: gateway.store,
    monthlyReport,
    registerSchedulers: false,
    ...(options.settings ? { settings: options.settings } : {}),
  });

  const app = gateway.app;
  return {
    redis,
    smtp,
    config,
    target,
    connection,
    gateway,
    producer,
    lifecycle,
    deps: lifecycle.deps,
    monthlyReport,
    setNow: (iso) => {
      now = new Date(iso);
    },
    staff: async (id, name, roles) => {
      await request(app)
        .post('/v1/staff')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ id, name, email: `${id}@staff.landlord.example`, roles })
        .expect((res) => {
          if (res.status !== 201 && res.status !== 200) throw new Error(`staff ${id}: ${res.status} ${JSON.stringify(res.body)}`);
        });
      const res = await request(app).post(`/v1/staff/${id}/tokens`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(201);
      return (res.body as { token: string }).token;
    },
    mails: async () => Promise.all(smtp.messages.map(parse)),
    waitForMail: async (match, count = 1) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        // Counted before parsing: a message arriving meanwhile must end the wait below at once.
        const seen = smtp.messages.length;
        const found = (await Promise.all(smtp.messages.slice(0, seen).map(parse))).filter(match);
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`expected ${count} matching messages, found ${found.length} of ${seen}`);
        await smtp.waitFor(seen + 1, Math.max(1, Math.min(2000, deadline - Date.now()))).catch(() => undefined);
      }
    },
    close: async () => {
      await lifecycle.stop();
      await closeLifecycleQueues(producer);
      await gateway.close();
      await closeConnection(producerConnection);
      await closeConnection(connection);
      await smtp.close();
      await redis.stop();
    },
  };
}

/** Tokens of the cast every suite uses, by id. */
export type Cast = Record<'sam' | 'mia' | 'tess' | 'tom' | 'tara' | 'agent', string>;

/** Creates the cast: a requester, their manager, a tenancy specialist (the decider), two ts-managers, an agent, and named contacts. */
export async function createCast(h: LifecycleHarness): Promise<Cast> {
  const cast = {
    sam: await h.staff('sam', 'Sam Requester', ['staff']),
    mia: await h.staff('mia', 'Mia Manager', ['manager']),
    tess: await h.staff('tess', 'Tess Specialist', ['tenancy-specialist']),
    tom: await h.staff('tom', 'Tom Approver', ['ts-manager']),
    tara: await h.staff('tara', 'Tara Auditor', ['ts-manager']),
    agent: await h.staff('agent1', 'Alex Agent', ['agent']),
  };
  await h.staff('jsmith', 'Jo Smith', ['tenancy-specialist']);
  await h.staff('akhan', 'Ali Khan', ['staff']);
  return cast;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Call-time and named-contact measures. */
export const MEASURES: Measure[] = [
  { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' },
  { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' },
];

/** Walks a restriction from request to approval over HTTP and returns its id. */
export async function activeRestriction(
  h: LifecycleHarness,
  cast: Cast,
  input: { customerId: string; reviewAt: string; endsAt?: string; measures?: Measure[] },
): Promise<string> {
  const app = h.gateway.app;
  const requested = await request(app)
    .post('/v1/restrictions')
    .set(bearer(cast.sam))
    .send({
      customerId: input.customerId,
      category: 'excessive-contact',
      summary: 'INTERNAL: 212 calls in October',
      evidence: [{ type: 'call-log', reference: 'LOG-2026-10' }],
      authorisedBy: 'mia',
      warnings: [{ type: 'formal', date: '2026-10-05', reference: 'W-1' }],
    })
    .expect(201);
  const id = (requested.body as { id: string }).id;
  await request(app)
    .post(`/v1/restrictions/${id}/decide`)
    .set(bearer(cast.tess))
    .send({ measures: input.measures ?? MEASURES, reviewAt: input.reviewAt, ...(input.endsAt ? { endsAt: input.endsAt } : {}), singlePointOfContact: 'jsmith' })
    .expect(200);
  await request(app).post(`/v1/restrictions/${id}/approve`).set(bearer(cast.tom)).send({}).expect(200);
  return id;
}

/** Collapses runs of whitespace, so text read back from a PDF can be matched across line breaks. */
export function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}
