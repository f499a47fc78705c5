/**
 * Scale-out with real processes (DESIGN.md §5): two gateway processes, two worker processes and one SMTP
 * process — each `node dist/bin/gatekeeper.js --role …` — against one redis-server, forwarding to a real
 * SMTP relay. Thirty distinct messages from six senders (three of them customers, one customer writing
 * from two addresses) arrive over SMTP and over `POST /inbound/email` on both gateways, all at once; a few
 * are delivered a second time through another door, as a retrying sender would.
 *
 * Nothing lost, nothing done twice: every message is forwarded exactly once (one 250 at the relay per
 * message), and each customer — or unidentified sender — is acknowledged exactly once in the period,
 * however the two workers split the work.
 */
import { buildMessage } from '../fixtures/mail/builders';
import {
  allLines,
  api,
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
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


/** Who writes: three customers (C7003 from two addresses) and three people we do not know. */
const SENDERS = [
  { address: 'ada@tenant.example', gate: 'C7001' },
  { address: 'bo@tenant.example', gate: 'C7002' },
  { address: 'cy@tenant.example', gate: 'C7003' },
  { address: 'cy.work@office.example', gate: 'C7003' },
  { address: 'stranger1@elsewhere.example', gate: 'stranger1' },
  { address: 'stranger2@elsewhere.example', gate: 'stranger2' },
];
const MESSAGES = 30;

let redis: TestRedis;
let relay: Relay;
let gateways: GatekeeperProcess[] = [];
let workers: GatekeeperProcess[] = [];
let smtp: GatekeeperProcess;

beforeAll(async () => {
  [redis, relay] = await Promise.all([startRedis(['--appendonly', 'yes']), startRelay(), ensureBuilt().then(() => undefined)]);
  const env = {
    ...mailEnv(redis, relay),
    MAILBOX_EMERGENCY: `emergency@${MAIL_DOMAIN}`,
    MAILBOX_PRINT: `print@${MAIL_DOMAIN}`,
    LETTERS_FROM: 'scans@bureau.example',
  };
  const started = await Promise.all([
    spawnGatekeeper({ name: 'gateway-a', roles: 'gateway', env }),
    spawnGatekeeper({ name: 'gateway-b', roles: 'gateway', env }),
    spawnGatekeeper({ name: 'worker-a', roles: 'worker', env }),
    spawnGatekeeper({ name: 'worker-b', roles: 'worker', env }),
    spawnGatekeeper({ name: 'smtp', roles: 'smtp', env }),
  ]);
  gateways = started.slice(0, 2);
  workers = started.slice(2, 4);
  smtp = started[4]!;
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await relay?.close();
  await redis?.stop();
});

it('shares thirty messages across two gateways and two workers: each forwarded once, each customer acknowledged once', async () => {
  const [a, b] = gateways as [GatekeeperProcess, GatekeeperProcess];
  // The customers, through the admin API of one gateway; the ingest token works on both (shared Redis).
  for (const id of ['C7001', 'C7002', 'C7003']) {
    const emails = SENDERS.filter((s) => s.gate === id).map((s) => s.address);
    const put = await api(a.url, PROCESS_ADMIN_TOKEN, 'PUT', `/v1/customers/${id}`, { name: `Customer ${id}`, phones: [], emails, needs: [] });
    expect([200, 201]).toContain(put.status);
  }
  const ingestToken = await staffToken(a.url, { id: 'bureau-uploader', roles: ['ingest'] });

  const messages = Array.from({ length: MESSAGES }, (_, i) => {
    const sender = SENDERS[i % SENDERS.length]!;
    const token = `scale-${i.toString().padStart(2, '0')}`;
    return { i, sender, token, raw: buildMessage({ from: sender.address, to: WRITE_TO, subject: `Repair request ${token}`, text: `Message ${token}: the kitchen tap drips.` }) };
  });
  const deliver = async (m: (typeof messages)[number], door: number): Promise<string> => {
    if (door === 0) {
      const reply = await sendSmtp(smtp.smtpPort, m.raw, { from: m.sender.address, to: [WRITE_TO] });
      expect(reply.code).toBe(250);
      return reply.messageKey!;
    }
    const reply = await postInboundEmail((door === 1 ? a : b).url, ingestToken, m.raw);
    expect(reply.status).toBe(202);
    return reply.messageKey!;
  };
  // All at once, split three ways; then five of them again through a different door (a sender's retry).
  const keys = await Promise.all(messages.map((m) => deliver(m, m.i % 3)));
  const again = await Promise.all(messages.slice(0, 5).map((m) => deliver(m, (m.i + 1) % 3)));
  expect(again).toEqual(keys.slice(0, 5));
  expect(new Set(keys).size).toBe(MESSAGES);

  const forwards = () => relay.accepted.filter((m) => m.rcptTo.includes(MAILBOX));
  await until(() => forwards().length >= MESSAGES, 60_000, `${MESSAGES} forwards (have ${forwards().length})`);
  await emailQueuesIdle(redis.url);

  // Forwarded exactly once each: one accepted forward per message, with distinct Message-IDs.
  for (const m of messages) {
    expect(forwards().filter((f) => f.subject.includes(m.token))).toHaveLength(1);
  }
  expect(forwards()).toHaveLength(MESSAGES);
  expect(new Set(forwards().map((f) => f.messageId)).size).toBe(MESSAGES);

  // Acknowledged once per customer (or unidentified sender) in the period — not once per message or per worker.
  const acks = relay.accepted.filter((m) => !m.rcptTo.includes(MAILBOX));
  const gateOf = (rcpt: string): string | undefined => SENDERS.find((s) => s.address === rcpt)?.gate;
  const perGate = new Map<string, number>();
  for (const ack of acks) {
    expect(ack.rcptTo).toHaveLength(1);
    const gate = gateOf(ack.rcptTo[0]!);
    expect(gate).toBeDefined();
    perGate.set(gate!, (perGate.get(gate!) ?? 0) + 1);
  }
  expect(Object.fromEntries(perGate)).toEqual({ C7001: 1, C7002: 1, C7003: 1, stranger1: 1, stranger2: 1 });
  expect(relay.attempts.filter((x) => x.outcome !== 'accepted')).toEqual([]);

  // Both workers took part, and the work each did adds up to the whole, with no message processed twice.
  const processedBy = workers.map((w) => w.entries().filter((e) => e.message === 'written contact processed').map((e) => String(e.messageKey)));
  const all = processedBy.flat();
  expect(new Set(all).size).toBe(MESSAGES);
  expect(all).toHaveLength(MESSAGES);
  if (processedBy.some((p) => p.length === 0)) throw new Error(`one worker did nothing:\n${allLines(workers).slice(-20).join('\n')}`);
}, 120_000);

it('stops every process cleanly with SIGTERM (exit 0)', async () => {
  const exits = await Promise.all([...gateways, ...workers, smtp].map((p) => p.stop()));
  expect(exits).toEqual(Array.from({ length: 5 }, () => ({ code: 0, signal: null })));
}, 30_000);
