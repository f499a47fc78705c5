/**
 * Log hygiene over a full run of a spawned stack (gateway, SMTP listener and worker processes, at
 * LOG_LEVEL=debug so every log call counts): a restriction through its lifecycle (request, decision,
 * approval and its notification letter), signed Twilio calls from known, restricted, unknown and withheld
 * numbers with the emergency digit and status callbacks, emails over SMTP and over `/inbound/email` with
 * phone numbers and addresses in their subjects and bodies, and staff API reads.
 *
 * Then every line every process wrote is searched: none of the phone numbers (in any of the ways people
 * write them), email addresses (or their local parts), message bodies or subjects, nor any token, appears.
 */
import twilio from 'twilio';
import { buildMessage } from '../fixtures/mail/builders';
import {
  api,
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
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
import { freePort, startRedis, type TestRedis } from '../support/redis-server';

const TWILIO_TOKEN = 'log-hygiene-twilio-auth-token-0123456789';

/** Personal data the run uses; none of it may reach a log. */
const PEOPLE = {
  known: { id: 'C7401', name: 'Priya Known', phone: '+447700900123', email: 'priya.known@tenant.example' },
  restricted: { id: 'C7402', name: 'Rory Restricted', phone: '+447700900456', email: 'rory.restricted@tenant.example' },
};
const UNKNOWN_PHONE = '+447700900789';
const BODY_PHONE = '+447700900321';
const BODY_EMAIL = 'my.sister.private@family.example';
const STAFF = [
  { id: 'sam', roles: ['staff'], email: 'sam.requester@staff.example' },
  { id: 'mia', roles: ['manager'], email: 'mia.manager@staff.example' },
  { id: 'tess', roles: ['tenancy-specialist', 'agent'], email: 'tess.specialist@staff.example' },
  { id: 'tom', roles: ['ts-manager'], email: 'tom.approver@staff.example' },
];
const BODY_SENTENCES = [
  'the mould behind the wardrobe smells of wet cardboard',
  'my neighbour plays the trombone at midnight',
  'the scanned letter says the gutter collapsed onto the shed',
];
const SUBJECTS = ['Leaking roof at Flat 9 Orchard Row', 'Noise complaint for Rory'];

/** The ways a UK number is written: E.164, with and without the plus, national, and national with a space. */
function phoneForms(e164: string): string[] {
  const national = `0${e164.slice(3)}`;
  return [e164, e164.slice(1), national, `${national.slice(0, 5)} ${national.slice(5)}`];
}

let redis: TestRedis;
let relay: Relay;
let gateway: GatekeeperProcess;
let smtp: GatekeeperProcess;
let worker: GatekeeperProcess;
const secrets: string[] = [TWILIO_TOKEN, PROCESS_ADMIN_TOKEN];

beforeAll(async () => {
  [redis, relay] = await Promise.all([startRedis(), startRelay(), ensureBuilt().then(() => undefined)]);
  const port = await freePort();
  const env = {
    ...mailEnv(redis, relay),
    LETTERS_FROM: 'scans@bureau.example',
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    LOG_LEVEL: 'debug',
  };
  [gateway, smtp, worker] = await Promise.all([
    spawnGatekeeper({ name: 'gateway', roles: 'gateway', env: { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` } }),
    spawnGatekeeper({ name: 'smtp', roles: 'smtp', env }),
    spawnGatekeeper({ name: 'worker', roles: 'worker', env }),
  ]);
}, 120_000);

afterAll(async () => {
  await stopAllGatekeepers();
  await relay?.close();
  await redis?.stop();
});

/** A signed Twilio webhook. */
async function twilioPost(path: string, params: Record<string, string>): Promise<{ status: number; body: string }> {
  const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${gateway.url}${path}`, params);
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text() };
}

let sid = 0;
function callParams(from: string): Record<string, string> {
  sid += 1;
  return {
    AccountSid: 'AC0123456789abcdef0123456789abcdef',
    ApiVersion: '2010-04-01',
    CallSid: `CA${String(Date.now()).padStart(16, '0')}${String(sid).padStart(16, '0')}`,
    CallStatus: 'ringing',
    Called: '+441632960000',
    Caller: from,
    Direction: 'inbound',
    From: from,
    FromCountry: 'GB',
    To: '+441632960000',
    ToCountry: 'GB',
  };
}

it('writes no phone number, email address, message text or token to any log during a full run', async () => {
  // Staff, customers and a restriction, through the API.
  const tokens: Record<string, string> = {};
  for (const s of STAFF) tokens[s.id] = await staffToken(gateway.url, { id: s.id, roles: s.roles, email: s.email, name: `Staff ${s.id}` });
  const ingest = await staffToken(gateway.url, { id: 'ingest-logs', roles: ['ingest'] });
  secrets.push(...Object.values(tokens), ingest);
  for (const p of Object.values(PEOPLE)) {
    const put = await api(gateway.url, PROCESS_ADMIN_TOKEN, 'PUT', `/v1/customers/${p.id}`, { name: p.name, phones: [p.phone], emails: [p.email], needs: [] });
    expect([200, 201]).toContain(put.status);
  }
  const requested = await api(gateway.url, tokens.sam!, 'POST', '/v1/restrictions', {
    customerId: PEOPLE.restricted.id,
    category: 'abusive-contact',
    summary: `Abusive calls from ${PEOPLE.restricted.phone}`,
    evidence: [{ type: 'call-log', reference: 'LOG-1', note: `Shouted at staff, email ${PEOPLE.restricted.email}` }],
    authorisedBy: 'mia',
    warnings: [{ type: 'formal', date: '2026-10-05', reference: 'W-1' }],
  });
  expect(requested.status).toBe(201);
  const restrictionId = (requested.body as { id: string }).id;
  const reviewAt = new Date(Date.now() + 60 * 86_400_000).toISOString();
  const decided = await api(gateway.url, tokens.tess!, 'POST', `/v1/restrictions/${restrictionId}/decide`, {
    measures: [{ type: 'written-only', channels: ['letter', 'email'] }],
    reviewAt,
    singlePointOfContact: 'tess',
  });
  expect(decided.status).toBe(200);
  expect((await api(gateway.url, tokens.tom!, 'POST', `/v1/restrictions/${restrictionId}/approve`, {})).status).toBe(200);

  // Calls: known, restricted (deflected; presses the emergency digit), unknown, withheld; status callbacks.
  for (const from of [PEOPLE.known.phone, PEOPLE.restricted.phone, UNKNOWN_PHONE, 'anonymous']) {
    const params = callParams(from);
    const incoming = await twilioPost('/voice/incoming', params);
    expect(incoming.status).toBe(200);
    if (from === PEOPLE.restricted.phone) {
      expect(incoming.body).toContain('<Gather');
      const gathered = await twilioPost('/voice/gather', { ...params, Digits: '1', CallStatus: 'in-progress' });
      expect(gathered.body).toContain('<Dial');
    }
    expect((await twilioPost('/voice/status', { ...params, CallStatus: 'completed', CallDuration: '42' })).status).toBeLessThan(300);
  }
  // A call with a bad signature is refused — and its number not logged either.
  const forged = await fetch(`${gateway.url}/voice/incoming`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' }, body: new URLSearchParams(callParams(PEOPLE.known.phone)).toString() });
  expect(forged.status).toBe(403);

  // Emails, over SMTP and HTTP, with personal data in subjects and bodies; one to an unknown domain (refused).
  const bodies = [
    { from: PEOPLE.known.email, subject: SUBJECTS[0]!, text: `Hello, ${BODY_SENTENCES[0]}. Call me on ${BODY_PHONE} or write to ${BODY_EMAIL}.` },
    { from: PEOPLE.restricted.email, subject: SUBJECTS[1]!, text: `${BODY_SENTENCES[1]}. My number is ${phoneForms(PEOPLE.restricted.phone)[3]}.` },
  ];
  const keys: string[] = [];
  for (const b of bodies) {
    const raw = buildMessage({ from: `${b.from.split('@')[0]} <${b.from}>`, to: WRITE_TO, subject: b.subject, text: b.text });
    const viaSmtp = await sendSmtp(smtp.smtpPort, raw, { from: b.from, to: [WRITE_TO] });
    expect(viaSmtp.code).toBe(250);
    keys.push(viaSmtp.messageKey!);
  }
  const httpRaw = buildMessage({ from: PEOPLE.known.email, to: WRITE_TO, subject: 'Re: letter', text: `${BODY_SENTENCES[2]} — ${BODY_EMAIL}` });
  const viaHttp = await postInboundEmail(gateway.url, ingest, httpRaw);
  expect(viaHttp.status).toBe(202);
  keys.push(viaHttp.messageKey!);
  expect((await sendSmtp(smtp.smtpPort, httpRaw, { from: PEOPLE.known.email, to: ['someone@not-ours.example'] })).code).toBe(550);

  // Staff reads.
  expect((await api(gateway.url, tokens.tess!, 'GET', `/v1/customers/${PEOPLE.known.id}/contacts`)).status).toBe(200);
  expect((await api(gateway.url, tokens.tess!, 'GET', `/v1/customers/${PEOPLE.restricted.id}/flags`)).status).toBe(200);
  expect((await api(gateway.url, tokens.tess!, 'POST', '/v1/decisions', { channel: 'voice', from: PEOPLE.restricted.phone })).status).toBe(200);
  expect((await api(gateway.url, 'not-a-token-at-all-0123456789', 'GET', '/v1/customers')).status).toBe(401);

  // Everything delivered (forwards, acknowledgements, the notification letter), then every process stopped.
  await until(() => keys.every((k) => relay.accepted.some((m) => m.messageId === `fwd.${k}@${MAIL_DOMAIN}`)), 30_000, 'the forwards');
  await until(() => relay.accepted.some((m) => m.rcptTo.includes(`print@gatekeeper.local`)), 30_000, 'the notification letter');
  await emailQueuesIdle(redis.url);
  for (const p of [gateway, smtp, worker]) expect(await p.stop()).toEqual({ code: 0, signal: null });

  const lines = [gateway, smtp, worker].flatMap((p) => p.lines().map((line) => ({ process: p.name, line })));
  // The run really was logged: requests, calls, mail, the lifecycle.
  const text = lines.map((l) => l.line).join('\n');
  for (const expected of ['/voice/incoming', '/voice/gather', 'smtp message accepted', 'http message accepted', 'written contact processed', 'written contact forwarded', 'written contact acknowledged']) {
    expect(text).toContain(expected);
  }
  expect(lines.length).toBeGreaterThan(50);

  const forbidden = [
    ...Object.values(PEOPLE).flatMap((p) => [...phoneForms(p.phone), p.email, p.email.split('@')[0]!, p.name]),
    ...phoneForms(UNKNOWN_PHONE),
    ...phoneForms(BODY_PHONE),
    BODY_EMAIL,
    BODY_EMAIL.split('@')[0]!,
    ...STAFF.flatMap((s) => [s.email, s.email.split('@')[0]!]),
    ...BODY_SENTENCES,
    ...SUBJECTS,
    ...secrets,
  ];
  const leaks = lines.flatMap(({ process: name, line }) => forbidden.filter((f) => line.toLowerCase().includes(f.toLowerCase())).map((f) => `${name}: "${f}" in ${line}`));
  expect(leaks).toEqual([]);
}, 120_000);
