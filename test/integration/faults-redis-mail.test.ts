/**
 * Fault: Redis stops while mail arrives — with real processes (a gateway, an SMTP listener and a worker,
 * each `node dist/bin/gatekeeper.js --role …`), which must ride out the outage without a restart.
 *
 * While Redis is down, the SMTP listener answers 451 (the sending server keeps the message) and
 * `POST /inbound/email` answers 503 with Retry-After, and `/readyz` says not ready. Once Redis is back, the
 * senders retry: every message is accepted, processed and forwarded exactly once, including messages that
 * had been accepted before the outage and are delivered again (a sender that never saw our 250), and the
 * customer is acknowledged once in the period. (email-outage.test.ts proves the in-process pipeline keeps
 * what it accepted; this proves the deployed processes do, over both doors.)
 */
import { buildMessage } from '../fixtures/mail/builders';
import {
  api,
  emailQueuesIdle,
  ensureBuilt,
  MAILBOX,
  mailEnv,
  postInboundEmail,
  PROCESS_ADMIN_TOKEN,
  sendSmtp,
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

const CUSTOMER = { id: 'C7101', address: 'kim@tenant.example' };

let redis: TestRedis;
let relay: Relay;
let gateway: GatekeeperProcess;
let smtp: GatekeeperProcess;
let worker: GatekeeperProcess;

beforeAll(async () => {
  // Append-only with fsync on every write, as `npm start` runs its Redis: a restart loses nothing acknowledged.
  [redis, relay] = await Promise.all([startRedis(['--appendonly', 'yes', '--appendfsync', 'always']), startRelay(), ensureBuilt().then(() => undefined)]);
  const env = mailEnv(redis, relay);
  [gateway, smtp, worker] = await Promise.all([
    spawnGatekeeper({ name: 'gateway', roles: 'gateway', env }),
    spawnGatekeeper({ name: 'smtp', roles: 'smtp', env }),
    spawnGatekeeper({ name: 'worker', roles: 'worker', env }),
  ]);
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await relay?.close();
  await redis?.stop();
});

const built = new Map<string, Buffer>();
/** The message of `token` — the same bytes (and Message-ID) every time it is sent, as a retrying sender sends them. */
function message(token: string): Buffer {
  let raw = built.get(token);
  if (raw === undefined) {
    raw = buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: `Outage ${token}`, text: `Message ${token} about the boiler.` });
    built.set(token, raw);
  }
  return raw;
}

it('refuses with 451/503 while Redis is down, then processes every retried message exactly once', async () => {
  const put = await api(gateway.url, PROCESS_ADMIN_TOKEN, 'PUT', `/v1/customers/${CUSTOMER.id}`, { name: 'Kim Patient', phones: [], emails: [CUSTOMER.address], needs: [] });
  expect([200, 201]).toContain(put.status);
  const ingestToken = await staffToken(gateway.url, { id: 'ingest-outage', roles: ['ingest'] });
  inboundToken = ingestToken;
  const forwardsOf = (token: string) => relay.accepted.filter((m) => m.rcptTo.includes(MAILBOX) && m.subject.includes(token));

  // Before the outage: accepted and forwarded.
  const before = ['before-smtp', 'before-http'];
  expect((await sendSmtp(smtp.smtpPort, message(before[0]!), { from: CUSTOMER.address, to: [WRITE_TO] })).code).toBe(250);
  expect((await postInboundEmail(gateway.url, ingestToken, message(before[1]!))).status).toBe(202);
  await until(() => before.every((t) => forwardsOf(t).length === 1), 30_000, 'the messages sent before the outage to be forwarded');

  await redis.stop();
  const during = ['during-smtp-1', 'during-smtp-2', 'during-http-1', 'during-http-2'];
  const [smtp1, smtp2, http1, http2] = await Promise.all([
    sendSmtp(smtp.smtpPort, message(during[0]!), { from: CUSTOMER.address, to: [WRITE_TO] }),
    sendSmtp(smtp.smtpPort, message(during[1]!), { from: CUSTOMER.address, to: [WRITE_TO] }),
    fetchInbound(during[2]!),
    fetchInbound(during[3]!),
  ]);
  expect([smtp1.code, smtp2.code]).toEqual([451, 451]);
  for (const reply of [http1, http2]) {
    expect(reply.status).toBe(503);
    expect(reply.retryAfter).not.toBeNull();
    expect(reply.body).toMatchObject({ error: { code: 'store-unavailable' } });
  }
  expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
  // No process gave up: all three are still running, without a restart.
  expect([gateway.alive(), smtp.alive(), worker.alive()]).toEqual([true, true, true]);

  await redis.restart();

  // The senders retry until they are accepted — the refused messages, and the earlier ones once more.
  const retryUntilAccepted = (token: string, door: 'smtp' | 'http'): Promise<string> =>
    until(
      async () => {
        if (door === 'smtp') return (await sendSmtp(smtp.smtpPort, message(token), { from: CUSTOMER.address, to: [WRITE_TO] })).messageKey;
        return (await postInboundEmail(gateway.url, ingestToken, message(token))).messageKey;
      },
      45_000,
      `${token} to be accepted after the outage`,
    );
  await Promise.all([
    retryUntilAccepted(during[0]!, 'smtp'),
    retryUntilAccepted(during[1]!, 'smtp'),
    retryUntilAccepted(during[2]!, 'http'),
    retryUntilAccepted(during[3]!, 'http'),
    retryUntilAccepted(before[0]!, 'http'),
    retryUntilAccepted(before[1]!, 'smtp'),
  ]);
  // Ready again once its lookup connection is back too: it reconnects on its own schedule, so the store's
  // connection (which accepted the retries) may be back a moment earlier.
  await until(async () => (await fetch(`${gateway.url}/readyz`)).status === 200, 15_000, 'the gateway to be ready again');

  await until(() => during.every((t) => forwardsOf(t).length >= 1), 45_000, 'the retried messages to be forwarded');
  await emailQueuesIdle(redis.url);
  for (const token of [...before, ...during]) expect(forwardsOf(token)).toHaveLength(1);
  // Processed once each (the repeated deliveries were recognised), and one acknowledgement for the period.
  const processed = worker.entries().filter((e) => e.message === 'written contact processed');
  expect(processed).toHaveLength(before.length + during.length);
  expect(relay.accepted.filter((m) => m.rcptTo.includes(CUSTOMER.address))).toHaveLength(1);
}, 150_000);

let inboundToken = '';

/** POST /inbound/email, keeping the Retry-After header. */
async function fetchInbound(token: string): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(`${gateway.url}/inbound/email`, {
    method: 'POST',
    headers: { authorization: `Bearer ${inboundToken}`, 'content-type': 'message/rfc822' },
    body: Uint8Array.from(message(token)),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}
