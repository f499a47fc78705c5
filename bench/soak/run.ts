/**
 * `npm run bench:soak`: steady mixed traffic at a fixed rate against one `node dist/bin/gatekeeper.js
 * --role all` process (gateway, SMTP listener and workers together, as `npm start` runs them) on a
 * redis-server of its own (append-only, as the embedded one), for BENCH_SOAK_SECONDS (default 600).
 *
 * Traffic, open loop (requests are sent on schedule whether or not earlier ones have been answered):
 * - voice: signed Twilio `/voice/incoming` webhooks, each a new CallSid, callers a third each restricted,
 *   unrestricted and unknown (the voice benchmark's mix, over 10,000 seeded customers, 1% restricted), each
 *   followed by its `/voice/status` callback;
 * - email: messages over SMTP from 200 senders, each stored, processed, forwarded to a counting relay and
 *   (once per sender per day) acknowledged;
 * - staff API: agents' flag reads and "what would happen" decisions.
 *
 * Reports throughput and p50/p99/max latency per kind, errors (any non-2xx, SMTP refusal, network error,
 * error log line, or an email not forwarded by the end — must be zero), and the process's resident memory:
 * at start, after the warm-up (the first 10% of the run, at most 60 s, when pools, caches and JIT settle)
 * and at the end, with its growth after warm-up (must be under 10%). Exits 1 when either limit is broken.
 *
 * Environment: BENCH_SOAK_SECONDS (600), BENCH_SOAK_VOICE_RPS (20), BENCH_SOAK_EMAIL_RPS (2),
 * BENCH_SOAK_API_RPS (10), BENCH_SOAK_CUSTOMERS (10000).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { closeConnection, createStore, createStoreConnection, waitUntilReady } from '../../store';
import { benchCallSid, callerOf, incomingParams } from '../voice/requests';
import { seed } from '../voice/seed';
import { cpuSeconds } from '../measure';
import { mb, percentile, rssBytes, spawnGatekeeper, startCountingRelay, startRedisServer } from './stack';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const VOICE_RPS = Number(process.env.BENCH_SOAK_VOICE_RPS ?? 20);
const EMAIL_RPS = Number(process.env.BENCH_SOAK_EMAIL_RPS ?? 2);
const API_RPS = Number(process.env.BENCH_SOAK_API_RPS ?? 10);
const CUSTOMERS = Number(process.env.BENCH_SOAK_CUSTOMERS ?? 10_000);
const RESTRICTED = Math.max(3, Math.round(CUSTOMERS / 100));
const WARMUP_S = Math.min(60, Math.max(5, Math.round(SECONDS / 10)));
const AUTH_TOKEN = 'soak-twilio-auth-token-0123456789abcdef';
const ADMIN_TOKEN = 'soak-admin-token-0123456789abcdef';
const PUBLIC_URL = 'https://gatekeeper.example.org';
const DOMAIN = 'landlord.example';
const MAILBOX = `housing-team@${DOMAIN}`;
const EMERGENCY_MAILBOX = `emergency@${DOMAIN}`;
const WRITE_TO = `housing@${DOMAIN}`;
const SENDERS = 200;
const MAX_IN_FLIGHT = 2000;

type Kind = 'voice-incoming' | 'voice-status' | 'email-smtp' | 'api-flags' | 'api-decision';
const KINDS: Kind[] = ['voice-incoming', 'voice-status', 'email-smtp', 'api-flags', 'api-decision'];

/** Latencies (ms) after warm-up, and counts over the whole run, per kind. */
const stats = new Map<Kind, { latencies: number[]; sent: number; measured: number; errors: number; firstError?: string }>(KINDS.map((k) => [k, { latencies: [], sent: 0, measured: 0, errors: 0 }]));
let inFlight = 0;
let measuring = false;

async function timed(kind: Kind, work: () => Promise<boolean | string>): Promise<void> {
  const s = stats.get(kind)!;
  s.sent += 1;
  if (inFlight >= MAX_IN_FLIGHT) {
    s.errors += 1;
    s.firstError ??= 'overload: too many requests in flight';
    return;
  }
  inFlight += 1;
  const started = process.hrtime.bigint();
  const counted = measuring;
  try {
    const ok = await work();
    if (ok !== true) {
      s.errors += 1;
      s.firstError ??= typeof ok === 'string' ? ok : 'failed';
    }
  } catch (err) {
    s.errors += 1;
    s.firstError ??= (err as Error).message;
  } finally {
    inFlight -= 1;
    if (counted) {
      s.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      s.measured += 1;
    }
  }
}

/** The seeded population the callers are drawn from. */
const MIX = { customers: CUSTOMERS, restricted: RESTRICTED };
const runId = Date.now().toString(16);
function callParams(n: number): Record<string, string> {
  return incomingParams(benchCallSid(runId, n), callerOf(n, MIX));
}

async function twilioPost(base: string, path: string, params: Record<string, string>): Promise<boolean | string> {
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path}`, params);
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.text();
  return res.status >= 200 && res.status < 300 ? true : `${path} answered ${res.status}: ${body.slice(0, 200)}`;
}

/** Runs `fire(n)` `rate` times a second for `seconds`, on schedule. Resolves when the last is sent. */
function schedule(rate: number, seconds: number, fire: (n: number) => void): Promise<void> {
  if (rate <= 0) return Promise.resolve();
  const total = Math.floor(rate * seconds);
  const started = Date.now();
  let sent = 0;
  return new Promise((resolveDone) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      while (sent < due) fire(sent++);
      if (sent >= total) {
        clearInterval(tick);
        resolveDone();
      }
    }, 5);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-soak-'));
  const redis = await startRedisServer(dir);
  const relay = await startCountingRelay();
  let gatekeeper: Awaited<ReturnType<typeof spawnGatekeeper>> | undefined;
  try {
    const connection = createStoreConnection({ kind: 'single', url: redis.url });
    await waitUntilReady(connection);
    console.log(`Seeding ${CUSTOMERS} customers (${RESTRICTED} restricted)…`);
    await seed(createStore(connection), connection, { customers: CUSTOMERS, restricted: RESTRICTED }, new Date());
    await closeConnection(connection);

    gatekeeper = await spawnGatekeeper('all', {
      REDIS_URL: redis.url,
      SMTP_RELAY_URL: relay.url,
      SMTP_DOMAINS: DOMAIN,
      MAILBOX_DEFAULT: MAILBOX,
      MAILBOX_EMERGENCY: EMERGENCY_MAILBOX,
      WRITE_TO_EMAIL: WRITE_TO,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      PUBLIC_URL,
      GATEKEEPER_ADMIN_TOKEN: ADMIN_TOKEN,
      EMERGENCY_NUMBER: '+441632960999',
      VOICE_DEFAULT_ROUTE: 'dial:+441632960000',
      DATA_DIR: dir,
      // A production log level: one line per request and per message handled.
      LOG_LEVEL: 'info',
    });
    const gk = gatekeeper;
    const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const staff = await fetch(`${gk.url}/v1/staff`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ id: 'soak-agent', name: 'Soak Agent', email: 'agent@staff.example', roles: ['agent', 'tenancy-specialist'] }) });
    if (staff.status !== 201) throw new Error(`creating staff: ${staff.status}`);
    const issued = (await (await fetch(`${gk.url}/v1/staff/soak-agent/tokens`, { method: 'POST', headers: adminHeaders })).json()) as { token: string };
    const staffHeaders = { authorization: `Bearer ${issued.token}`, 'content-type': 'application/json' };
    const forwardedCount = (): number => relay.count(MAILBOX) + relay.count(EMERGENCY_MAILBOX);
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: gk.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 4 });

    const rss = { start: rssBytes(gk.pid), warm: 0, end: 0, samples: [] as number[] };
    const cpuStart = cpuSeconds(gk.pid);
    console.log(`Soak: ${SECONDS} s at ${VOICE_RPS} calls/s (+ status callbacks), ${EMAIL_RPS} emails/s, ${API_RPS} staff API requests/s; warm-up ${WARMUP_S} s`);
    const sampler = setInterval(() => rss.samples.push(rssBytes(gk.pid)), 5000);
    const progress = setInterval(() => {
      const sent = [...stats.values()].reduce((n, s) => n + s.sent, 0);
      const errors = [...stats.values()].reduce((n, s) => n + s.errors, 0);
      console.log(`  ${new Date().toISOString()} sent ${sent}, errors ${errors}, in flight ${inFlight}, RSS ${mb(rssBytes(gk.pid))} MB, forwarded ${forwardedCount()}`);
    }, 60_000);
    const warm = setTimeout(() => {
      measuring = true;
      rss.warm = rssBytes(gk.pid);
    }, WARMUP_S * 1000);
    const pending: Array<Promise<void>> = [];
    let emailsSent = 0;
    const started = Date.now();
    await Promise.all([
      schedule(VOICE_RPS, SECONDS, (n) => {
        const params = callParams(n);
        pending.push(
          timed('voice-incoming', () => twilioPost(gk.url, '/voice/incoming', params)).then(() =>
            timed('voice-status', () => twilioPost(gk.url, '/voice/status', { ...params, CallStatus: 'completed', CallDuration: '37' })),
          ),
        );
      }),
      schedule(EMAIL_RPS, SECONDS, (n) => {
        const sender = `soak-sender-${n % SENDERS}@tenant.example`;
        // A reference such as S0000999, not a bare number: "999" in a message is an emergency (and is treated as one).
        const ref = `S${String(n).padStart(7, '0')}`;
        const raw = [
          `From: Soak Sender <${sender}>`,
          `To: ${WRITE_TO}`,
          `Subject: Soak message ${ref}`,
          `Message-ID: <soak-${runId}-${n}-${randomBytes(4).toString('hex')}@tenant.example>`,
          `Date: ${new Date().toUTCString()}`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          '',
          `Message ${ref}: the communal door on the third floor does not close. ${'Details follow. '.repeat(40)}`,
          '',
        ].join('\r\n');
        emailsSent += 1;
        pending.push(
          timed('email-smtp', async () => {
            const info = await mailer.sendMail({ envelope: { from: sender, to: [WRITE_TO] }, raw });
            return info.response.startsWith('250') ? true : `SMTP answered ${info.response}`;
          }),
        );
      }),
      schedule(API_RPS, SECONDS, (n) => {
        const customerId = `B${String((n * 31) % CUSTOMERS).padStart(6, '0')}`;
        if (n % 5 === 4) {
          pending.push(
            timed('api-decision', async () => {
              const res = await fetch(`${gk.url}/v1/decisions`, { method: 'POST', headers: staffHeaders, body: JSON.stringify({ channel: 'voice', from: callerOf(n, MIX) }) });
              await res.arrayBuffer();
              return res.status === 200 ? true : `decision answered ${res.status}`;
            }),
          );
        } else {
          pending.push(
            timed('api-flags', async () => {
              const res = await fetch(`${gk.url}/v1/customers/${customerId}/flags`, { headers: staffHeaders });
              await res.arrayBuffer();
              return res.status === 200 ? true : `flags answered ${res.status}`;
            }),
          );
        }
      }),
    ]);
    await Promise.all(pending);
    const elapsed = (Date.now() - started) / 1000;
    clearTimeout(warm);
    clearInterval(sampler);
    clearInterval(progress);
    rss.end = rssBytes(gk.pid);
    const cpu = cpuSeconds(gk.pid) - cpuStart;

    // Every email accepted must reach the relay: wait for the queues to drain.
    const drainDeadline = Date.now() + 120_000;
    while (forwardedCount() < emailsSent && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 500));
    const forwarded = forwardedCount();
    const perRecipient = [...relay.recipients()];
    const acksPerSender = perRecipient.filter(([rcpt]) => rcpt.startsWith('soak-sender-')).map(([, n]) => n);
    const acknowledgements = acksPerSender.reduce((a, b) => a + b, 0);
    // Everything else the workers sent: e.g. breach alerts to the restricted callers' tenancy specialists.
    const otherMail = perRecipient.filter(([rcpt]) => !rcpt.startsWith('soak-sender-') && rcpt !== MAILBOX && rcpt !== EMERGENCY_MAILBOX);
    mailer.close();
    const errorLines = gk.errorLines();

    const measuredSeconds = elapsed - WARMUP_S;
    console.log('');
    console.log(`Soak run: ${elapsed.toFixed(0)} s (figures after a ${WARMUP_S} s warm-up), ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('| kind | requests | req/s | p50 ms | p99 ms | max ms | errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    let errors = 0;
    for (const kind of KINDS) {
      const s = stats.get(kind)!;
      const sorted = [...s.latencies].sort((a, b) => a - b);
      errors += s.errors;
      console.log(
        `| ${kind} | ${s.sent} | ${(s.measured / measuredSeconds).toFixed(1)} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} | ${s.errors} |`,
      );
      if (s.firstError) console.log(`  first ${kind} error: ${s.firstError}`);
    }
    const lost = emailsSent - forwarded;
    const growth = (rss.end - rss.warm) / rss.warm;
    console.log('');
    console.log(
      `emails sent ${emailsSent}, forwarded ${forwarded} (${relay.count(EMERGENCY_MAILBOX)} as emergencies; lost ${lost}); ` +
        `acknowledgements ${acknowledgements} to ${acksPerSender.length} senders (most to one sender: ${Math.max(0, ...acksPerSender)})`,
    );
    console.log(`other mail from the workers: ${otherMail.map(([rcpt, n]) => `${n} to ${rcpt}`).join(', ') || 'none'}`);
    console.log(`error log lines: ${errorLines.length}${errorLines.length > 0 ? `, first: ${errorLines[0]}` : ''}`);
    console.log(
      `RSS: start ${mb(rss.start)} MB, after warm-up ${mb(rss.warm)} MB, end ${mb(rss.end)} MB (growth after warm-up ${(growth * 100).toFixed(1)}%); ` +
        `min/max over the run ${mb(Math.min(...rss.samples))}/${mb(Math.max(...rss.samples))} MB`,
    );
    console.log(`process CPU: ${cpu.toFixed(1)} s over ${elapsed.toFixed(0)} s (${((cpu / elapsed) * 100).toFixed(0)}% of one core)`);
    // At most one acknowledgement per sender per day, emergencies excepted.
    const ackOk = Math.max(0, ...acksPerSender) <= 1 + relay.count(EMERGENCY_MAILBOX);
    const ok = errors === 0 && lost === 0 && ackOk && errorLines.length === 0 && growth < 0.1;
    console.log(ok ? 'soak passed: zero errors, nothing lost, one acknowledgement per sender, RSS growth under 10%' : 'SOAK FAILED');
    process.exitCode = ok ? 0 : 1;
  } finally {
    const code = await gatekeeper?.stop();
    if (gatekeeper && code !== 0) {
      console.error(`gatekeeper exited with ${code}`);
      process.exitCode = 1;
    }
    await relay.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
