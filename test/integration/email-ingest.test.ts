/**
 * Durable-first ingest, over a real redis-server and real SMTP: nodemailer delivers into the listener;
 * 250 (or 202 over HTTP) only once the raw bytes are in Redis and a `process-message` job is queued;
 * 550 for other domains, 552 past MAX_MESSAGE_BYTES, 451 / 503 while Redis is down — and nothing lost
 * once it is back.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import express from 'express';
import nodemailer from 'nodemailer';
import request from 'supertest';
import { createEmailIngest } from '../../channels/email/ingest';
import { startSmtpListener, type SmtpListener } from '../../channels/email/smtp-listener';
import { createLogger } from '../../config/logger';
import { bearerAuth, requireRole } from '../../gateway/auth';
import { errorHandler } from '../../gateway/errors';
import { createInboundEmailRouter } from '../../gateway/inbound-routes';
import { closeConnection, createQueueConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import { RawMessageStore, rawMessageKeys } from '../../store/raw-messages';
import { createProcessMessageQueue } from '../../workers/process-message-queue';
import { QUEUE_PREFIX } from '../../workers/queue-prefix';
import { buildMessage } from '../fixtures/mail/builders';
import { startRedis, type TestRedis } from '../support/redis-server';
import type { Role } from '../../rules/types';

const LIMIT = 256 * 1024;
const logger = createLogger('silent');

let redis: TestRedis;
let storeConn: RedisConnection;
let queueConn: RedisConnection;
let queue: Queue;
let store: RawMessageStore;
let listener: SmtpListener;
let app: express.Express;

function sender(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000 });
}

async function sendRaw(raw: Buffer, to = 'housing@landlord.example', from: string | false = 'tenant@customer.example') {
  return sender(listener.port).sendMail({ envelope: { from, to: [to] }, raw });
}

async function storedBody(messageKey: string): Promise<Buffer | null> {
  return storeConn.getBuffer(rawMessageKeys(messageKey).body);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  redis = await startRedis();
  const target = { kind: 'single' as const, url: redis.url };
  storeConn = createStoreConnection(target);
  queueConn = createQueueConnection(target);
  queue = createProcessMessageQueue(queueConn);
  store = new RawMessageStore(storeConn, queue, { retentionDays: 30 });
  const ingest = createEmailIngest(store, { timeoutMs: 3000 });
  listener = await startSmtpListener({ port: 0, host: '127.0.0.1', domains: ['landlord.example'], maxMessageBytes: LIMIT, ingest, logger });
  const roles: Record<string, Role[]> = { 'ingest-token': ['ingest'], 'agent-token': ['agent'] };
  const resolveToken = async (token: string) =>
    roles[token] ? { staff: { id: token, name: token, email: `${token}@landlord.example`, roles: roles[token]! }, tokenId: token } : undefined;
  app = express();
  app.use(createInboundEmailRouter({ ingest, guards: [bearerAuth(resolveToken), requireRole('ingest')], maxMessageBytes: LIMIT, logger }));
  app.use(errorHandler(logger));
});

afterAll(async () => {
  await listener?.close();
  await queue?.close();
  await closeConnection(storeConn);
  await closeConnection(queueConn);
  await redis?.stop();
});

describe('SMTP listener', () => {
  it('answers 250 only once the raw bytes are stored unchanged and a process-message job is queued under the message key', async () => {
    const raw = buildMessage({ messageId: '<Abc.123@Customer.Example>', subject: 'Leak', text: 'Water is coming through.' });
    const info = await sendRaw(raw);
    expect(info.response).toMatch(/^250 /);
    const key = /Queued as (\S+)/.exec(info.response)?.[1];
    expect(key).toBe(`mid-${sha(Buffer.from('Abc.123@customer.example'))}`);
    expect((await storedBody(key!))?.equals(raw)).toBe(true);
    const job = await queue.getJob(key!);
    expect(job?.name).toBe('process-message');
    expect(job?.data).toEqual({ messageKey: key });
    const meta = await store.meta(key!);
    expect(meta).toMatchObject({ size: raw.length, sha256: sha(raw), source: 'smtp', mailFrom: 'tenant@customer.example', deliveries: 1 });
    expect(meta?.queuedAt).toBeDefined();
    // The BullMQ keys carry the hash-tagged prefix.
    expect(await storeConn.exists(`${QUEUE_PREFIX}:process-message:${key}`)).toBe(1);
  });

  it('treats a second delivery of the same message as a successful no-op: one stored copy, one job', async () => {
    const raw = buildMessage({ messageId: '<twice@customer.example>' });
    const first = await sendRaw(raw);
    const second = await sendRaw(raw);
    expect(second.response).toMatch(/^250 /);
    const key = /Queued as (\S+)/.exec(first.response)![1]!;
    expect(/Queued as (\S+)/.exec(second.response)?.[1]).toBe(key);
    expect((await store.meta(key))?.deliveries).toBe(2);
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(jobs.filter((j) => j.data.messageKey === key)).toHaveLength(1);
  });

  it('keys a message without a Message-ID by the SHA-256 of its bytes, and keeps a null return path', async () => {
    const raw = buildMessage({ messageId: null, subject: 'Undelivered Mail' });
    const info = await sendRaw(raw, 'housing@landlord.example', '');
    expect(info.response).toContain(`Queued as sha-${sha(raw)}`);
    expect((await store.meta(`sha-${sha(raw)}`))?.mailFrom).toBe('');
  });

  it('refuses recipients outside SMTP_DOMAINS with 550 (never an open relay), and stores nothing', async () => {
    const before = await storeConn.dbsize();
    const err = await sendRaw(buildMessage({}), 'victim@elsewhere.example').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    const sub = await sendRaw(buildMessage({}), 'someone@evil.landlord.example').catch((e: unknown) => e);
    expect(sub).toMatchObject({ responseCode: 550 });
    expect(await storeConn.dbsize()).toBe(before);
  });

  it('offers neither AUTH nor STARTTLS when no certificate is configured (an MX, not a submission server)', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, requireTLS: true, connectionTimeout: 5000 });
    const err = await t.sendMail({ envelope: { from: 'a@customer.example', to: ['housing@landlord.example'] }, raw: buildMessage({}) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ETLS' });
    t.close();
  });

  it('advertises SIZE and refuses a message over MAX_MESSAGE_BYTES with 552, counted on the stream', async () => {
    const t = sender(listener.port);
    await t.verify();
    const big = buildMessage({ text: 'x'.repeat(LIMIT + 10) });
    const err = await t.sendMail({ envelope: { from: 'tenant@customer.example', to: ['housing@landlord.example'] }, raw: big }).catch((e: unknown) => e);
    expect(err).toMatchObject({ responseCode: 552 });
    // The session is still usable afterwards: the oversized stream was drained, not cut.
    const ok = await t.sendMail({ envelope: { from: 'tenant@customer.example', to: ['housing@landlord.example'] }, raw: buildMessage({}) });
    expect(ok.response).toMatch(/^250 /);
    t.close();
  });
});

describe('POST /inbound/email', () => {
  it('answers 202 with the message key once stored and queued', async () => {
    const raw = buildMessage({ messageId: '<http-1@customer.example>' });
    const res = await request(app).post('/inbound/email').set('Authorization', 'Bearer ingest-token').set('Content-Type', 'message/rfc822').send(raw);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted', messageKey: `mid-${sha(Buffer.from('http-1@customer.example'))}` });
    expect((await storedBody(res.body.messageKey))?.equals(raw)).toBe(true);
    expect((await store.meta(res.body.messageKey))?.source).toBe('http');
    expect(await queue.getJob(res.body.messageKey)).toBeDefined();
  });

  it('requires the ingest role and a message/rfc822 body', async () => {
    const raw = buildMessage({});
    expect((await request(app).post('/inbound/email').set('Content-Type', 'message/rfc822').send(raw)).status).toBe(401);
    expect((await request(app).post('/inbound/email').set('Authorization', 'Bearer agent-token').set('Content-Type', 'message/rfc822').send(raw)).status).toBe(403);
    const wrongType = await request(app).post('/inbound/email').set('Authorization', 'Bearer ingest-token').set('Content-Type', 'text/plain').send('hello');
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported-media-type');
    // A compressed message would be stored compressed, as its "original": refused, so it is sent plain.
    const gzipped = await request(app)
      .post('/inbound/email')
      .set('Authorization', 'Bearer ingest-token')
      .set('Content-Type', 'message/rfc822')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(raw));
    expect(gzipped.status).toBe(415);
    expect(gzipped.body.error.code).toBe('unsupported-encoding');
  });

  it('refuses a body over MAX_MESSAGE_BYTES with 413', async () => {
    const res = await request(app)
      .post('/inbound/email')
      .set('Authorization', 'Bearer ingest-token')
      .set('Content-Type', 'message/rfc822')
      .send(buildMessage({ text: 'y'.repeat(LIMIT + 1) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('message-too-large');
  });
});

describe('while Redis is down', () => {
  it('answers 451 over SMTP and 503 over HTTP, and accepts the same messages once Redis is back', async () => {
    const smtpRaw = buildMessage({ messageId: '<outage-smtp@customer.example>' });
    const httpRaw = buildMessage({ messageId: '<outage-http@customer.example>' });
    await redis.stop();
    try {
      const err = await sendRaw(smtpRaw).catch((e: unknown) => e);
      expect(err).toMatchObject({ responseCode: 451 });
      const res = await request(app).post('/inbound/email').set('Authorization', 'Bearer ingest-token').set('Content-Type', 'message/rfc822').send(httpRaw);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('store-unavailable');
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await redis.restart();
    }
    // The senders retry (an MTA keeps a 4xx message queued; the HTTP client was told 503 + Retry-After).
    let info: { response: string } | undefined;
    for (let attempt = 0; attempt < 20 && info === undefined; attempt++) {
      info = await sendRaw(smtpRaw).catch(async () => {
        await new Promise((r) => setTimeout(r, 250));
        return undefined;
      });
    }
    expect(info?.response).toMatch(/^250 /);
    const key = /Queued as (\S+)/.exec(info!.response)![1]!;
    expect((await storedBody(key))?.equals(smtpRaw)).toBe(true);
    expect(await queue.getJob(key)).toBeDefined();
    const res = await request(app).post('/inbound/email').set('Authorization', 'Bearer ingest-token').set('Content-Type', 'message/rfc822').send(httpRaw);
    expect(res.status).toBe(202);
    expect(await queue.getJob(res.body.messageKey)).toBeDefined();
  });
});
