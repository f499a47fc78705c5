/**
 * Fault: SIGTERM under load, to a real `--role all` process (HTTP gateway, SMTP listener and workers in one).
 *
 * At the moment of the signal there are: forwards being sent (the relay holds their DATA replies), an HTTP
 * upload to `/inbound/email` half sent, an SMTP session half way through DATA, and an SMTP client connected
 * but idle (as a sending server that keeps its connection open between messages).
 *
 * The process must stop accepting (new HTTP and SMTP connections are refused), finish what is in flight
 * (the upload gets its 202, the SMTP session its 250, the forwards complete and are recorded), close its
 * connections — telling the idle SMTP client 421 rather than waiting for it — and exit 0 within
 * SHUTDOWN_GRACE_MS (past it the process exits 1 by itself). A new process then finishes the queued work:
 * every accepted message is forwarded exactly once.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { buildMessage } from '../fixtures/mail/builders';
import { closeConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import { rawMessageKeys } from '../../store/raw-messages';
import {
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
  MAILBOX,
  mailEnv,
  postInboundEmail,
  spawnGatekeeper,
  staffToken,
  startRelay,
  stopAllGatekeepers,
  until,
  WRITE_TO,
  type Relay,
} from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis-server';

const GRACE_MS = 8000;

let redis: TestRedis;
let relay: Relay;
let connection: RedisConnection;
let env: Record<string, string>;

beforeAll(async () => {
  [redis, relay] = await Promise.all([startRedis(), startRelay(), ensureBuilt().then(() => undefined)]);
  connection = createStoreConnection({ kind: 'single', url: redis.url });
  env = { ...mailEnv(redis, relay), SHUTDOWN_GRACE_MS: String(GRACE_MS) };
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await closeConnection(connection);
  await relay?.close();
  await redis?.stop();
});

/** A bare SMTP client over a socket: one reply at a time. */
class SmtpSession {
  private buffer = '';
  private waiting: Array<(reply: string) => void> = [];
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      // A complete reply ends with a line "NNN text" (a space, not a dash, after the code).
      for (;;) {
        const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
        if (!match) break;
        this.buffer = this.buffer.slice(match[0].length);
        this.waiting.shift()?.(match[0]);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(port: number): Promise<SmtpSession> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const session = new SmtpSession(socket);
    socket.on('error', () => undefined);
    expect(await session.reply()).toMatch(/^220 /);
    return session;
  }

  reply(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async command(line: string): Promise<string> {
    const reply = this.reply();
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves true when a new TCP connection to `port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

it('stops accepting, finishes in-flight requests, sessions and jobs, and exits 0 within the grace period', async () => {
  const first = await spawnGatekeeper({ name: 'all-1', roles: 'all', env });
  const ingestToken = await staffToken(first.url, { id: 'ingest-sigterm', roles: ['ingest'] });

  // Work in the queues: six messages whose forwards the relay will hold for 2 s each.
  relay.hold({ match: (rcpt) => rcpt.includes(MAILBOX), count: 100, ms: 2000 });
  const queued: string[] = [];
  for (let i = 0; i < 6; i++) {
    const reply = await postInboundEmail(first.url, ingestToken, buildMessage({ from: `sender${i}@tenant.example`, to: WRITE_TO, subject: `Queued ${i}`, text: `Queued message ${i}.` }));
    expect(reply.status).toBe(202);
    queued.push(reply.messageKey!);
  }
  await until(() => relay.holding() >= 1, 20_000, 'a forward to be in flight');

  // An idle SMTP client, and one half way through a message.
  const idle = await SmtpSession.open(first.smtpPort);
  expect(await idle.command('EHLO idle.example')).toMatch(/^250/);
  const inflightSmtp = await SmtpSession.open(first.smtpPort);
  expect(await inflightSmtp.command('EHLO mta.example')).toMatch(/^250/);
  expect(await inflightSmtp.command('MAIL FROM:<smtp.sender@tenant.example>')).toMatch(/^250/);
  expect(await inflightSmtp.command(`RCPT TO:<${WRITE_TO}>`)).toMatch(/^250/);
  expect(await inflightSmtp.command('DATA')).toMatch(/^354/);
  const smtpRaw = buildMessage({ from: 'smtp.sender@tenant.example', to: WRITE_TO, subject: 'In flight over SMTP', text: 'Sent while the process was stopping.' });
  inflightSmtp.write(smtpRaw.subarray(0, 200));

  // An HTTP upload, half sent. `Expect: 100-continue` makes the server say when it has the request in hand,
  // so the signal cannot arrive before the request does.
  const httpRaw = buildMessage({ from: 'http.sender@tenant.example', to: WRITE_TO, subject: 'In flight over HTTP', text: 'Uploaded while the process was stopping.' });
  const upload = request(`${first.url}/inbound/email`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'message/rfc822', 'content-length': String(httpRaw.length), expect: '100-continue' },
  });
  const continued = new Promise<void>((resolve) => upload.once('continue', resolve));
  const uploadReply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    upload.once('error', reject);
  });
  upload.flushHeaders();
  await continued;
  upload.write(httpRaw.subarray(0, 200));

  const heldAtSignal = relay.holding();
  const acceptedAtSignal = relay.accepted.length;
  process.kill(first.pid, 'SIGTERM');

  // Stops accepting: new connections are refused while the in-flight work goes on.
  await until(async () => (await refused(first.port)) && (await refused(first.smtpPort)), 3000, 'the listeners to close');
  expect(first.alive()).toBe(true);

  // Finishes what was in flight.
  upload.end(httpRaw.subarray(200));
  const uploaded = await uploadReply;
  expect(uploaded.status).toBe(202);
  const httpKey = (JSON.parse(uploaded.body) as { messageKey: string }).messageKey;
  const endOfData = inflightSmtp.reply();
  inflightSmtp.write(Buffer.concat([smtpRaw.subarray(200), Buffer.from('\r\n.\r\n')]));
  const smtpReply = await endOfData;
  expect(smtpReply).toMatch(/^250 .*Queued as (mid|sha)-/);
  const smtpKey = /Queued as (\S+)/.exec(smtpReply)![1]!;
  inflightSmtp.destroy();

  // Exits 0: within the grace period (past it, the process exits 1), the idle client told to go away.
  const exit = await first.exited;
  if (exit.code !== 0) throw new Error(`exit ${exit.code}:\n${first.lines().slice(-15).join('\n')}`);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(first.entries().map((e) => e.message)).toEqual(expect.arrayContaining(['Gatekeeper stopping', 'Gatekeeper stopped']));
  expect(first.entries().filter((e) => e.level === 'error')).toEqual([]);
  await idle.closed;

  // The forwards in flight at the signal were completed (250 from the relay) and recorded before exit.
  expect(heldAtSignal).toBeGreaterThanOrEqual(1);
  expect(relay.holding()).toBe(0);
  const completed = relay.accepted.slice(acceptedAtSignal).filter((m) => m.rcptTo.includes(MAILBOX));
  expect(completed.length).toBeGreaterThanOrEqual(heldAtSignal);
  for (const m of completed) {
    const key = /^fwd\.(.+)@/.exec(m.messageId ?? '')![1]!;
    expect(await connection.hget(rawMessageKeys(key).meta, 'forwardedAt')).not.toBeNull();
  }

  // A new process finishes the rest; every accepted message is forwarded exactly once.
  const second = await spawnGatekeeper({ name: 'all-2', roles: 'all', env });
  const all = [...queued, httpKey, smtpKey];
  const forwardsOf = (key: string) => relay.accepted.filter((m) => m.messageId === `fwd.${key}@${MAIL_DOMAIN}`);
  await until(() => all.every((k) => forwardsOf(k).length >= 1), 45_000, 'every accepted message to be forwarded');
  await emailQueuesIdle(redis.url);
  for (const key of all) expect(forwardsOf(key)).toHaveLength(1);
  expect(relay.attempts.filter((a) => a.outcome !== 'accepted')).toEqual([]);
  expect(await second.stop()).toEqual({ code: 0, signal: null });
}, 90_000);
