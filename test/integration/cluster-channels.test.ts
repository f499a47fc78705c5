/**
 * `npm start`'s three roles — gateway, SMTP listener, workers (bin/gatekeeper.ts) — over a real
 * three-primary Redis Cluster (DESIGN.md §5), configured with `REDIS_CLUSTER_NODES` only. A restriction is
 * approved through the API (its notification letter is queued and printed by the workers); a Twilio-signed
 * call is deflected, recorded and popped to agents over cluster pub/sub; emails arrive over SMTP and over
 * HTTP, are stored, queued, processed, forwarded with the X-Gatekeeper headers and acknowledged. Every step
 * must succeed, every BullMQ key must sit in the `{gk}` slot, and no node may count a CROSSSLOT refusal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import request from 'supertest';
import { startGateway, startSmtp, startWorkers, type RoleContext, type RunningRole } from '../../bin/gatekeeper';
import { EVENTS_CHANNEL } from '../../channels/voice/screen-pop';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { closeConnection, createStore, createStoreConnection, createSubscriberConnection, waitUntilReady, type RedisConnection, type Store } from '../../store';
import { QUEUE_PREFIX } from '../../workers/queue-prefix';
import { startCaptureSmtp, type CaptureSmtp, type CapturedMail } from '../fixtures/mail/capture-smtp';
import { buildMessage } from '../fixtures/mail/builders';
import { startRedisCluster, until, type TestRedisCluster } from '../support/redis-cluster';
import { freePort } from '../support/redis-server';
import { allNodes, emergencySentence, newCallSid, parseTwiml, sign, verbs } from './voice-support';

const ADMIN_TOKEN = 'cluster-roles-admin-token-0123456789';
const AUTH_TOKEN = 'cluster-roles-twilio-auth-token-0123';
const PUBLIC_URL = 'https://gk.example.org';
const DEFAULT_NUMBER = '+441632960000';
const EMERGENCY_NUMBER = '+441632960999';
const CALLER = '+447700900101';
const CUSTOMER_EMAIL = 'pat@customer.example';
const JSMITH_EMAIL = 'jsmith@landlord.example';
const PRINT = 'print@landlord.example';

let cluster: TestRedisCluster;
let outbound: CaptureSmtp;
let redis: RedisConnection;
let subscriber: RedisConnection;
let store: Store;
let dataDir: string;
let smtpPort = 0;
let base = '';
const roles: RunningRole[] = [];
const events: Array<Record<string, unknown>> = [];
const tokens: Record<string, string> = {};
const auth = (who: string) => ({ Authorization: `Bearer ${who === 'admin' ? ADMIN_TOKEN : tokens[who]}` });
let restrictionId = '';

async function crossSlotRefusals(): Promise<number> {
  const counts = await cluster.eachNode(async (node) => Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(await node.info('errorstats'))?.[1] ?? 0));
  return counts.reduce((a, b) => a + b, 0);
}

/** Waits for outbound mail to `rcpt` that satisfies `match`; returns it parsed. */
async function mailTo(rcpt: string, match: (m: ParsedMail) => boolean, timeoutMs = 20_000): Promise<ParsedMail> {
  let found: ParsedMail | undefined;
  await until(
    `mail to ${rcpt}`,
    async () => {
      for (const m of outbound.messages.filter((x: CapturedMail) => x.rcptTo.includes(rcpt))) {
        const parsed = await simpleParser(m.raw);
        if (match(parsed)) {
          found = parsed;
          return true;
        }
      }
      return false;
    },
    timeoutMs,
  );
  if (!found) throw new Error('unreachable');
  return found;
}

async function addStaff(id: string, roleNames: string[], email = `${id}@landlord.example`, extra: Record<string, unknown> = {}): Promise<string> {
  await request(base).post('/v1/staff').set(auth('admin')).send({ id, name: `${id[0]?.toUpperCase() ?? ''}${id.slice(1)} Name`, email, roles: roleNames, ...extra }).expect(201);
  return ((await request(base).post(`/v1/staff/${id}/tokens`).set(auth('admin')).expect(201)).body as { token: string }).token;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  outbound = await startCaptureSmtp();
  dataDir = mkdtempSync(join(tmpdir(), 'gk-cluster-roles-'));
  const port = await freePort();
  smtpPort = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    REDIS_CLUSTER_NODES: cluster.nodeList,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    EMERGENCY_NUMBER,
    VOICE_DEFAULT_ROUTE: `dial:${DEFAULT_NUMBER}`,
    SMTP_PORT: String(smtpPort),
    SMTP_DOMAINS: 'landlord.example',
    SMTP_RELAY_URL: outbound.url,
    MAILBOX_DEFAULT: 'housing-team@landlord.example',
    MAILBOX_EMERGENCY: 'emergency@landlord.example',
    MAILBOX_PRINT: PRINT,
    WRITE_TO_EMAIL: 'housing@landlord.example',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  });
  if (config.redis.kind !== 'cluster') throw new Error('expected a cluster target');
  const target = config.redis;
  // As main() does: one shared store connection, then each role in turn.
  redis = createStoreConnection(target, { name: 'gateway+smtp+worker' });
  await waitUntilReady(redis);
  const ctx: RoleContext = { config, logger: createLogger('silent'), redisTarget: target, redis };
  roles.push(await startGateway(ctx), await startSmtp(ctx), await startWorkers(ctx));
  base = `http://127.0.0.1:${port}`;

  store = createStore(redis);
  subscriber = createSubscriberConnection(target, { name: 'cluster-roles-test' });
  subscriber.on('message', (_channel: string, message: string) => events.push(JSON.parse(message) as Record<string, unknown>));
  await subscriber.subscribe(EVENTS_CHANNEL);

  tokens.sam = await addStaff('sam', ['staff']);
  tokens.mia = await addStaff('mia', ['manager']);
  tokens.tess = await addStaff('tess', ['tenancy-specialist']);
  tokens.tom = await addStaff('tom', ['ts-manager']);
  tokens.agent = await addStaff('agent1', ['agent']);
  tokens.mailroom = await addStaff('mailroom', ['ingest']);
  await addStaff('jsmith', ['staff'], JSMITH_EMAIL, { clientIdentity: 'jsmith-client' });
  await request(base).put('/v1/customers/C2').set(auth('tess')).send({ name: 'Pat Example', phones: ['07700 900101'], emails: [CUSTOMER_EMAIL], needs: [] }).expect(201);
}, 60_000);

afterAll(async () => {
  for (const role of roles.reverse()) await role.stop();
  if (subscriber) await closeConnection(subscriber);
  if (redis) await closeConnection(redis);
  await outbound?.close();
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on a Redis Cluster', () => {
  it('approves a restriction through the API, and the workers print and email its notification letter', async () => {
    const requested = await request(base)
      .post('/v1/restrictions')
      .set(auth('sam'))
      .send({ customerId: 'C2', category: 'excessive-contact', summary: '212 calls', evidence: [{ type: 'call-log', reference: 'LOG-1' }], authorisedBy: 'mia', warnings: [{ type: 'formal', date: '2026-01-05' }] })
      .expect(201);
    restrictionId = (requested.body as { id: string }).id;
    const reviewAt = new Date(Date.now() + 60 * 86_400_000).toISOString();
    await request(base)
      .post(`/v1/restrictions/${restrictionId}/decide`)
      .set(auth('tess'))
      .send({ measures: [{ type: 'written-only', channels: ['letter', 'email'] }, { type: 'named-contact', staffId: 'jsmith' }], reviewAt, singlePointOfContact: 'jsmith' })
      .expect(200);
    await request(base).post(`/v1/restrictions/${restrictionId}/approve`).set(auth('tom')).send({}).expect(200);

    const printed = await mailTo(PRINT, (m) => m.headers.get('x-gatekeeper-restriction') === restrictionId);
    expect(printed.attachments.some((a) => a.contentType === 'application/pdf')).toBe(true);
    await mailTo(CUSTOMER_EMAIL, (m) => m.headers.get('x-gatekeeper-restriction') === restrictionId);

    const decision = await request(base).post('/v1/decisions').set(auth('agent')).send({ channel: 'voice', from: CALLER }).expect(200);
    expect(decision.body).toMatchObject({ outcome: 'deflect', customerId: 'C2', restrictionId, reasons: ['written-only'] });
  });

  it('answers a restricted caller with the emergency offer and the written route, once per CallSid, and pops it to agents', async () => {
    const sid = newCallSid();
    const params = { CallSid: sid, From: CALLER, To: DEFAULT_NUMBER, CallStatus: 'ringing', AccountSid: 'AC0' };
    const post = () => request(base).post('/voice/incoming').type('form').set('X-Twilio-Signature', sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, params)).send(params);
    const first = await post().expect(200);
    const twiml = parseTwiml(first.text);
    expect(verbs(twiml)).toEqual(['Gather', 'Say', 'Hangup']);
    expect(twiml.children[0]?.children[0]?.text).toBe(emergencySentence());
    expect(allNodes(twiml).some((n) => n.name === 'Reject')).toBe(false);
    expect((await post().expect(200)).text).toBe(first.text);

    await until('the call to be recorded', async () => (await store.contacts.get('C2', sid)) !== undefined);
    expect(await store.contacts.get('C2', sid)).toMatchObject({ outcome: 'deflect', reasons: ['written-only'], restrictionId, breach: true });
    await until('the call to be audited', async () => (await store.audit.latest(200)).some((r) => r.entityId === sid));
    expect((await store.audit.latest(200)).filter((r) => r.entityId === sid).map((r) => r.action)).toEqual(['call.deflected']);
    await until('the screen-pop to cross the cluster bus', async () => events.some((e) => e.contactId === sid), 5000);
    expect(events.find((e) => e.contactId === sid)).toMatchObject({ type: 'screen-pop', customerId: 'C2', restrictionId, outcome: 'deflect' });
    // Written by the gateway's evidence thread over the cluster, not by its main-thread fallback.
    const metrics = (await request(base).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/gatekeeper_voice_evidence_batches_total\{writer="thread",result="written"\} [1-9]/);
    expect(metrics).not.toMatch(/gatekeeper_voice_evidence_batches_total\{writer="fallback"/);
  });

  it('takes an email over SMTP, processes it once, forwards it to the named contact with its headers, and acknowledges it', async () => {
    const message = buildMessage({ from: `Pat <${CUSTOMER_EMAIL}>`, to: 'housing@landlord.example', messageId: '<cluster-smtp-1@customer.example>', subject: 'Boiler noise', text: 'The boiler is making a noise again.' });
    const sender = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const info = await sender.sendMail({ envelope: { from: CUSTOMER_EMAIL, to: ['housing@landlord.example'] }, raw: message });
    expect(info.response).toMatch(/^250 /);
    // Delivered twice (a sender that did not hear the 250): still one forward.
    await sender.sendMail({ envelope: { from: CUSTOMER_EMAIL, to: ['housing@landlord.example'] }, raw: message });

    const forward = await mailTo(JSMITH_EMAIL, (m) => m.subject?.includes('Boiler noise') === true);
    expect(forward.headers.get('x-gatekeeper-customer')).toBe('C2');
    expect(String(forward.headers.get('x-gatekeeper-reasons'))).toContain('named-contact');
    expect(forward.attachments.some((a) => a.contentType === 'message/rfc822')).toBe(true);
    await mailTo(CUSTOMER_EMAIL, (m) => m.headers.get('auto-submitted') === 'auto-replied');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const forwards = outbound.messages.filter((m) => m.rcptTo.includes(JSMITH_EMAIL) && m.raw.includes('Boiler noise'));
    expect(forwards).toHaveLength(1);
  });

  it('takes an email over HTTP from the ingest role (202), and processes it', async () => {
    const message = buildMessage({ from: `Pat <${CUSTOMER_EMAIL}>`, messageId: '<cluster-http-1@customer.example>', subject: 'Fence panels', text: 'Two fence panels are down.' });
    const res = await request(base).post('/inbound/email').set(auth('mailroom')).set('Content-Type', 'message/rfc822').send(message);
    expect(res.status).toBe(202);
    await mailTo(JSMITH_EMAIL, (m) => m.subject?.includes('Fence panels') === true);
  });

  it('keeps every BullMQ key in the {gk} slot, is ready, and never had a command refused with CROSSSLOT', async () => {
    const slots = await cluster.eachNode(async (node) => {
      const keys = await node.keys(`${QUEUE_PREFIX}:*`);
      return Promise.all(keys.map(async (k) => Number(await node.call('CLUSTER', 'KEYSLOT', k))));
    });
    expect(slots.flat().length).toBeGreaterThan(10);
    expect(new Set(slots.flat()).size).toBe(1);
    const ready = await request(base).get('/readyz').expect(200);
    expect(ready.body.checks.redis).toBe('ok');
    expect(await crossSlotRefusals()).toBe(0);
  });
});
