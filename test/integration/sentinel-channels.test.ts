/**
 * `npm start`'s three roles (bin/gatekeeper.ts) over a Sentinel-managed Redis, configured with
 * `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME` only, while the primary is SIGKILLed under traffic (DESIGN.md §5).
 *
 * Every call gets 200 TwiML — the restriction's answer or, while Redis cannot be asked, the normal route with
 * the emergency offer flagged `restriction-check-unavailable` — never an error and never a wrong "no
 * restriction". Every email is either accepted (202: stored and queued) or refused with 503 so the sender
 * retries. After the failover every message — accepted at once or on a retry — is processed and forwarded
 * exactly once by the workers, which resume on the promoted replica by themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startGateway, startSmtp, startWorkers, type RoleContext, type RunningRole } from '../../bin/gatekeeper';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { closeConnection, createStore, createStoreConnection, waitUntilReady, type RedisConnection, type Store } from '../../store';
import { startCaptureSmtp, type CaptureSmtp } from '../fixtures/mail/capture-smtp';
import { buildMessage } from '../fixtures/mail/builders';
import { freePort } from '../support/redis-server';
import { startRedisSentinel, type TestRedisSentinel } from '../support/redis-sentinel';
import { activeRestriction } from './voice-harness';
import { allNodes, emergencySentence, newCallSid, parseTwiml, sign, verbs, type TwimlNode } from './voice-support';

const ADMIN_TOKEN = 'sentinel-roles-admin-token-0123456789';
const AUTH_TOKEN = 'sentinel-roles-twilio-auth-token-012';
const PUBLIC_URL = 'https://gk.example.org';
const DEFAULT_NUMBER = '+441632960000';
const WORKFLOW_SID = 'WW0123456789abcdef0123456789abcdef';
const CALLER = '+447700900101';
const MAILBOX_DEFAULT = 'housing-team@landlord.example';

let sentinel: TestRedisSentinel;
let outbound: CaptureSmtp;
let redis: RedisConnection;
let store: Store;
let dataDir: string;
let base = '';
let ingestToken = '';
const roles: RunningRole[] = [];

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function call(callSid = newCallSid()) {
  const params = { CallSid: callSid, From: CALLER, To: DEFAULT_NUMBER, CallStatus: 'ringing' };
  return request(base).post('/voice/incoming').type('form').set('X-Twilio-Signature', sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, params)).send(params);
}

function email(message: Buffer) {
  return request(base).post('/inbound/email').set('Authorization', `Bearer ${ingestToken}`).set('Content-Type', 'message/rfc822').send(message);
}

/** The restriction's answer to a written-only customer: emergency offer, the written route, goodbye. */
function isDeflection(t: TwimlNode): boolean {
  return verbs(t).join() === 'Gather,Say,Hangup' && t.children[0]?.children[0]?.text === emergencySentence() && /writ/i.test(t.children[1]?.text ?? '');
}

/** The answer when the restriction could not be checked: emergency offer, then the normal route, flagged. */
function isUnchecked(t: TwimlNode): boolean {
  const task = JSON.parse(allNodes(t).find((n) => n.name === 'Task')?.text ?? '{}') as { reasons?: string[] };
  return verbs(t).join() === 'Gather,Enqueue' && t.children[0]?.children[0]?.text === emergencySentence() && task.reasons?.join() === 'restriction-check-unavailable';
}

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  outbound = await startCaptureSmtp();
  dataDir = mkdtempSync(join(tmpdir(), 'gk-sentinel-roles-'));
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    REDIS_SENTINELS: sentinel.sentinelList,
    REDIS_SENTINEL_NAME: sentinel.name,
    GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    EMERGENCY_NUMBER: '+441632960999',
    VOICE_DEFAULT_ROUTE: `enqueue:${WORKFLOW_SID}`,
    VOICE_LOOKUP_BUDGET_MS: '300',
    SMTP_PORT: String(await freePort()),
    SMTP_DOMAINS: 'landlord.example',
    SMTP_RELAY_URL: outbound.url,
    MAILBOX_DEFAULT,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  });
  if (config.redis.kind !== 'sentinel') throw new Error('expected a sentinel target');
  redis = createStoreConnection(config.redis, { name: 'gateway+smtp+worker' });
  await waitUntilReady(redis);
  const ctx: RoleContext = { config, logger: createLogger('silent'), redisTarget: config.redis, redis };
  roles.push(await startGateway(ctx), await startSmtp(ctx), await startWorkers(ctx));
  base = `http://127.0.0.1:${port}`;

  store = createStore(redis);
  await store.staff.put({ id: 'jsmith', name: 'J Smith', email: 'jsmith@landlord.example', roles: ['staff'] });
  await store.staff.put({ id: 'mailroom', name: 'Mail room', email: 'mailroom@landlord.example', roles: ['ingest'] });
  ingestToken = (await store.staff.issueToken('mailroom')).token;
  await store.customers.put({ id: 'C1', name: 'Customer C1', phones: [CALLER], emails: [], needs: [] });
  await store.restrictions.create(
    activeRestriction('R1', 'C1', [{ type: 'written-only', channels: ['letter', 'email'] }], { reviewAt: new Date(Date.now() + 60 * 86_400_000).toISOString() }),
  );
}, 60_000);

afterAll(async () => {
  for (const role of roles.reverse()) await role.stop();
  if (redis) await closeConnection(redis);
  await outbound?.close();
  await sentinel?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on Sentinel when the primary dies', () => {
  it('answers every call with safe TwiML, and every email is forwarded exactly once', async () => {
    expect(isDeflection(parseTwiml((await call().expect(200)).text))).toBe(true);

    const calls: Array<{ status: number; twiml: TwimlNode | undefined }> = [];
    const mails: Array<{ subject: string; message: Buffer; status: number }> = [];
    let stop = false;
    let n = 0;
    const loop = async (): Promise<void> => {
      while (!stop) {
        const i = n++;
        const res = await call();
        let twiml: TwimlNode | undefined;
        try {
          twiml = parseTwiml(res.text);
        } catch {
          twiml = undefined;
        }
        calls.push({ status: res.status, twiml });
        const subject = `Failover message m${i}x`;
        const message = buildMessage({ from: `Sender ${i} <sender${i}@elsewhere.example>`, messageId: `<failover-${i}@elsewhere.example>`, subject, text: `Message number ${i}.` });
        const mail = await email(message);
        mails.push({ subject, message, status: mail.status });
        if (mail.status !== 202) await sleep(50);
      }
    };

    const loops = [loop(), loop()];
    try {
      await sleep(800);
      await sentinel.killMaster();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const recentMail = mails.slice(-10);
        const recentCalls = calls.slice(-10);
        if (recentMail.length === 10 && recentMail.every((m) => m.status === 202) && recentCalls.every((c) => c.twiml && isDeflection(c.twiml))) break;
        if (Date.now() > deadline) throw new Error(`no recovery: mail ${JSON.stringify(recentMail.map((m) => m.status))}`);
        await sleep(100);
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    // The outage was really felt: some calls could not be checked, some mail was refused for a retry.
    expect(calls.some((c) => c.twiml !== undefined && isUnchecked(c.twiml))).toBe(true);
    expect(mails.some((m) => m.status === 503)).toBe(true);
    // Every call: 200 TwiML, either the restriction's answer or the flagged safe answer.
    expect(calls.filter((c) => c.status !== 200 || !c.twiml || !(isDeflection(c.twiml) || isUnchecked(c.twiml)))).toEqual([]);
    // Every email: accepted, or refused with the retryable 503.
    expect(mails.filter((m) => m.status !== 202 && m.status !== 503).map((m) => m.status)).toEqual([]);

    // The senders retry what was refused, until it is accepted.
    for (const m of mails.filter((x) => x.status !== 202)) {
      expect((await email(m.message)).status).toBe(202);
    }

    // The workers resume by themselves and forward every message, exactly once per Message-ID. Delivery is
    // at least once by design (workers/forward-worker.ts): a "forwarded" mark that the failover's
    // asynchronous replication lost makes the job send again, with the same Message-ID, which the
    // receiving mailbox uses to discard the copy. What must never happen is a message not forwarded, or
    // two different forwards of one message.
    const forwardsOf = (subject: string) => outbound.messages.filter((o) => o.rcptTo.includes(MAILBOX_DEFAULT) && o.raw.includes(Buffer.from(subject)));
    const messageIdOf = (raw: Buffer) => /^Message-ID:\s*(\S+)/im.exec(raw.toString('latin1'))?.[1];
    const deadline = Date.now() + 60_000;
    while (mails.some((m) => forwardsOf(m.subject).length === 0) && Date.now() < deadline) await sleep(200);
    await sleep(1000);
    const counts = mails
      .map((m) => ({ subject: m.subject, ids: new Set(forwardsOf(m.subject).map((o) => messageIdOf(o.raw))) }))
      .filter((c) => c.ids.size !== 1 || c.ids.has(undefined));
    expect(counts).toEqual([]);
    const copies = mails.reduce((n, m) => n + forwardsOf(m.subject).length - 1, 0);
    console.log(`sentinel failover: ${mails.length} messages forwarded, ${copies} re-sent copies (same Message-ID)`);
    expect(mails.length).toBeGreaterThan(5);

    // And calls are decided by the restriction again, and recorded.
    const sid = newCallSid();
    expect(isDeflection(parseTwiml((await call(sid).expect(200)).text))).toBe(true);
    const recorded = Date.now() + 10_000;
    while ((await store.contacts.get('C1', sid)) === undefined && Date.now() < recorded) await sleep(100);
    expect(await store.contacts.get('C1', sid)).toMatchObject({ outcome: 'deflect', restrictionId: 'R1', breach: true });
    await request(base).get('/readyz').expect(200);
  }, 120_000);
});
