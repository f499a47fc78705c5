/**
 * Fault: the outbound relay (`SMTP_RELAY_URL`) is down, then answers 4xx for a while, then refuses for good
 * (5xx) — against a real gateway+worker process.
 *
 * - Down or 4xx: the forward and the acknowledgement are not lost; BullMQ retries them with exponential
 *   backoff (10 s, 20 s, …) and they are delivered once the relay is back — once each.
 * - 5xx: the refusal is permanent. It is recorded where a person sees it — the customer's contact list
 *   shows the contact `forward-failed`, the audit log has the failure with the relay's code, and the job is
 *   in the dashboard's failed list — and the person can retry it from the dashboard
 *   (`PUT /admin/queues/api/queues/<queue>/<jobId>/retry`, admin only) once the cause is fixed; it is then
 *   delivered once and the contact shows `forwarded`.
 */
import { buildMessage } from '../fixtures/mail/builders';
import { AuditLog } from '../../store/audit-log';
import { closeConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import {
  api,
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
  mailEnv,
  postInboundEmail,
  PROCESS_ADMIN_TOKEN,
  spawnGatekeeper,
  staffToken,
  startRelay,
  stopAllGatekeepers,
  until,
  WRITE_TO,
  type GatekeeperProcess,
  type Relay,
} from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis-server';

const CUSTOMERS = [
  { id: 'C7201', address: 'amy@tenant.example' },
  { id: 'C7202', address: 'ben@tenant.example' },
  { id: 'C7203', address: 'cas@tenant.example' },
] as const;

let redis: TestRedis;
let relay: Relay;
let connection: RedisConnection;
let gk: GatekeeperProcess;
let ingestToken: string;
let specialistToken: string;

beforeAll(async () => {
  [redis, relay] = await Promise.all([startRedis(), startRelay(), ensureBuilt().then(() => undefined)]);
  connection = createStoreConnection({ kind: 'single', url: redis.url });
  gk = await spawnGatekeeper({
    name: 'gateway+worker',
    roles: 'gateway,worker',
    env: mailEnv(redis, relay),
  });
  for (const c of CUSTOMERS) {
    const put = await api(gk.url, PROCESS_ADMIN_TOKEN, 'PUT', `/v1/customers/${c.id}`, { name: `Customer ${c.id}`, phones: [], emails: [c.address], needs: [] });
    expect([200, 201]).toContain(put.status);
  }
  ingestToken = await staffToken(gk.url, { id: 'ingest-relay', roles: ['ingest'] });
  specialistToken = await staffToken(gk.url, { id: 'ts-relay', roles: ['tenancy-specialist'] });
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await closeConnection(connection);
  await relay?.close();
  await redis?.stop();
});

async function send(customer: (typeof CUSTOMERS)[number], subject: string): Promise<string> {
  const reply = await postInboundEmail(gk.url, ingestToken, buildMessage({ from: customer.address, to: WRITE_TO, subject, text: `${subject}: the lift is broken.` }));
  expect(reply.status).toBe(202);
  return reply.messageKey!;
}

const forwardsOf = (key: string) => relay.accepted.filter((m) => m.messageId === `fwd.${key}@${MAIL_DOMAIN}`);
const acksOf = (key: string) => relay.accepted.filter((m) => m.messageId === `ack.${key}@${MAIL_DOMAIN}`);
const failures = (queue: 'forward' | 'acknowledge', key: string) => gk.entries().filter((e) => e.message === `${queue} failed` && e.messageKey === key);

/** The job as the queue dashboard shows it. */
async function dashboardJob(queue: string, jobId: string): Promise<{ status: number; job?: { attempts?: number; failedReason?: string } }> {
  const reply = await api(gk.url, PROCESS_ADMIN_TOKEN, 'GET', `/admin/queues/api/queues/${queue}/${jobId}`);
  return { status: reply.status, ...(reply.status === 200 ? { job: (reply.body as { job: { attempts?: number; failedReason?: string } }).job } : {}) };
}

it('waits through a relay that is down, then answers 4xx, and delivers each forward and acknowledgement once', async () => {
  await relay.down();
  const whileDown = await send(CUSTOMERS[0], 'Relay down');
  await until(() => failures('forward', whileDown).length >= 1 && failures('acknowledge', whileDown).length >= 1, 20_000, 'the first attempts to fail');

  await relay.up();
  relay.setMode('tempfail');
  const while4xx = await send(CUSTOMERS[1], 'Relay busy');
  const busy = (kind: string) => relay.attempts.some((a) => a.outcome === 'tempfail' && a.messageId === `${kind}.${while4xx}@${MAIL_DOMAIN}`);
  await until(() => busy('fwd') && busy('ack'), 20_000, 'the relay to answer 451 to the forward and the acknowledgement');
  relay.setMode('accept');

  // The retries (10 s after each first failure) deliver.
  await until(() => [whileDown, while4xx].every((k) => forwardsOf(k).length === 1 && acksOf(k).length === 1), 45_000, 'the retried deliveries');
  await emailQueuesIdle(redis.url);
  for (const key of [whileDown, while4xx]) {
    expect(forwardsOf(key)).toHaveLength(1);
    expect(acksOf(key)).toHaveLength(1);
    expect(failures('forward', key).every((e) => e.final === false)).toBe(true);
    // Retried, not given up: the dashboard shows two attempts for each job.
    expect((await dashboardJob('forward', `fwd-${key}`)).job?.attempts).toBe(2);
    expect((await dashboardJob('acknowledge', `ack-${key}`)).job?.attempts).toBe(2);
  }
  expect(relay.attempts.filter((a) => a.messageId === `fwd.${while4xx}@${MAIL_DOMAIN}`).map((a) => a.outcome)).toEqual(['tempfail', 'accepted']);
  const contacts = await api(gk.url, specialistToken, 'GET', `/v1/customers/${CUSTOMERS[0].id}/contacts`);
  expect(contacts.body).toEqual([expect.objectContaining({ id: whileDown, status: 'forwarded' })]);
}, 90_000);

it('records a 5xx refusal where a person sees it, and delivers once when the person retries it', async () => {
  relay.setMode('permfail');
  const key = await send(CUSTOMERS[2], 'Relay refuses');
  const refused = (id: string) => relay.attempts.some((a) => a.outcome === 'permfail' && a.messageId === `${id}.${key}@${MAIL_DOMAIN}`);
  await until(() => refused('fwd') && refused('ack'), 20_000, 'the refusals');
  await emailQueuesIdle(redis.url);

  // Seen: on the customer's contacts, in the audit log (with the relay's code), on the dashboard as failed.
  const contacts = await until(async () => {
    const reply = await api(gk.url, specialistToken, 'GET', `/v1/customers/${CUSTOMERS[2].id}/contacts`);
    const list = reply.body as Array<{ id: string; status?: string }>;
    return list.some((c) => c.id === key && c.status === 'forward-failed') ? list : undefined;
  }, 10_000, 'the contact to show forward-failed');
  expect(contacts).toHaveLength(1);
  const audit = await new AuditLog(connection).latest(50);
  expect(audit).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ action: 'written-contact.forward-failed', entityId: key, details: expect.objectContaining({ responseCode: 554 }) }),
      expect.objectContaining({ action: 'written-contact.acknowledgement-failed', entityId: key, details: expect.objectContaining({ responseCode: 554 }) }),
    ]),
  );
  const failed = await dashboardJob('forward', `fwd-${key}`);
  expect(failed.job?.failedReason).toMatch(/refused permanently/);
  // Permanent: tried once, not retried.
  expect(failed.job?.attempts).toBe(1);
  expect(forwardsOf(key)).toHaveLength(0);

  // Only an admin may retry; once the cause is fixed the person retries both jobs from the dashboard.
  expect((await api(gk.url, specialistToken, 'PUT', `/admin/queues/api/queues/forward/fwd-${key}/retry`)).status).toBe(403);
  relay.setMode('accept');
  expect((await api(gk.url, PROCESS_ADMIN_TOKEN, 'PUT', `/admin/queues/api/queues/forward/fwd-${key}/retry`)).status).toBe(204);
  expect((await api(gk.url, PROCESS_ADMIN_TOKEN, 'PUT', `/admin/queues/api/queues/acknowledge/ack-${key}/retry`)).status).toBe(204);
  await until(() => forwardsOf(key).length === 1 && acksOf(key).length === 1, 20_000, 'the retried forward and acknowledgement');
  await emailQueuesIdle(redis.url);
  expect(forwardsOf(key)).toHaveLength(1);
  expect(acksOf(key)).toHaveLength(1);
  const after = await api(gk.url, specialistToken, 'GET', `/v1/customers/${CUSTOMERS[2].id}/contacts`);
  expect(after.body).toEqual([expect.objectContaining({ id: key, status: 'forwarded' })]);
}, 60_000);
