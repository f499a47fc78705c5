/**
 * Fault: a worker process is killed (SIGKILL — no clean-up, no chance to release its jobs) in the middle of
 * forwarding. The relay holds its reply to the first forward's DATA, so the kill lands after the whole
 * message went over the wire but before the relay said 250: nothing was handed over.
 *
 * A new worker process takes the job over once BullMQ notices the dead worker's lock has lapsed (stalled-
 * job recovery) and sends the forward again: the relay accepts exactly one forward and one acknowledgement,
 * and the forward's record says it was delivered.
 *
 * What "once" means: the worker notes `forwardedAt` on the message only after the relay's 250, and checks it
 * before sending, so a re-run after any crash sends again only if no 250 was ever recorded. A crash in the
 * instant between a 250 and that note would send a second copy — with the same deterministic Message-ID
 * (`<fwd.<message key>@domain>`) and the same content, so the receiving mail system can discard it. Delivery
 * to the relay is therefore at least once, and once per Message-ID.
 */
import { buildMessage } from '../fixtures/mail/builders';
import { closeConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import { rawMessageKeys } from '../../store/raw-messages';
import {
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
  MAILBOX,
  mailEnv,
  sendSmtp,
  spawnGatekeeper,
  startRelay,
  stopAllGatekeepers,
  until,
  WRITE_TO,
  type GatekeeperProcess,
  type Relay,
} from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis-server';

const SENDER = 'ray@tenant.example';

let redis: TestRedis;
let relay: Relay;
let connection: RedisConnection;
let env: Record<string, string>;
let smtp: GatekeeperProcess;

beforeAll(async () => {
  [redis, relay] = await Promise.all([startRedis(), startRelay(), ensureBuilt().then(() => undefined)]);
  connection = createStoreConnection({ kind: 'single', url: redis.url });
  env = mailEnv(redis, relay);
  smtp = await spawnGatekeeper({ name: 'smtp', roles: 'smtp', env });
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await closeConnection(connection);
  await relay?.close();
  await redis?.stop();
});

it('forwards once after the worker is killed mid-send and another takes over', async () => {
  const first = await spawnGatekeeper({ name: 'worker-1', roles: 'worker', env });
  // Hold the first forward's DATA reply for far longer than the test: only the kill can end it.
  relay.hold({ match: (rcpt) => rcpt.includes(MAILBOX), count: 1, ms: 300_000 });
  const raw = buildMessage({ from: SENDER, to: WRITE_TO, subject: 'Kill test: damp in the bedroom', text: 'The bedroom wall is damp again.' });
  const reply = await sendSmtp(smtp.smtpPort, raw, { from: SENDER, to: [WRITE_TO] });
  expect(reply.code).toBe(250);
  const messageKey = reply.messageKey!;

  await until(() => relay.holding() === 1, 30_000, 'the forward to be mid-send');
  expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  await until(() => relay.attempts.some((a) => a.outcome === 'connection-lost'), 10_000, 'the relay to see the sender go');
  expect(relay.accepted.filter((m) => m.rcptTo.includes(MAILBOX))).toHaveLength(0);

  const second = await spawnGatekeeper({ name: 'worker-2', roles: 'worker', env });
  // BullMQ's defaults, as in production: the dead worker's 30 s lock lapses, and a stalled check (every 30 s,
  // the second to see the job without a lock) moves it back to wait — 15 to 60 s after the kill.
  await until(() => relay.accepted.some((m) => m.rcptTo.includes(MAILBOX)), 150_000, 'the forward to be sent again by the new worker');
  await emailQueuesIdle(redis.url);

  const forwards = relay.accepted.filter((m) => m.rcptTo.includes(MAILBOX));
  expect(forwards).toHaveLength(1);
  const forwardAttempts = relay.attempts.filter((a) => a.rcptTo.includes(MAILBOX));
  expect(forwardAttempts.map((a) => a.outcome)).toEqual(['connection-lost', 'accepted']);
  // The same deterministic Message-ID both times: a receiving system could have told them apart had both landed.
  expect(new Set(forwardAttempts.map((a) => a.messageId))).toEqual(new Set([`fwd.${messageKey}@${MAIL_DOMAIN}`]));
  expect(relay.accepted.filter((m) => m.rcptTo.includes(SENDER))).toHaveLength(1);
  const meta = await connection.hgetall(rawMessageKeys(messageKey).meta);
  expect(meta).toMatchObject({ status: 'forwarded' });
  expect(meta.forwardedAt).toBeDefined();
  expect(second.entries().some((e) => e.message === 'written contact forwarded' && e.messageKey === messageKey)).toBe(true);
}, 200_000);
