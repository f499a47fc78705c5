/**
 * `npm run bench:voice`: Gatekeeper's `/voice/incoming` against a baseline, under autocannon, on a real
 * redis-server holding 100,000 customers (1% restricted).
 *
 * - baseline: an express route that does one Redis GET and returns a fixed TwiML string;
 * - gatekeeper: signed `/voice/incoming` requests, every one a new CallSid (so each is decided, claimed
 *   and recorded — no replays), callers a third each restricted, unrestricted and unknown.
 * Both run in one forked server process (run.ts only generates load), at 32 connections, alternating
 * rounds so drift affects both alike. Prints throughput and p50/p99 latency of each and their ratio.
 *
 * Environment: BENCH_DURATION (seconds per round, default 10), BENCH_ROUNDS (default 2),
 * BENCH_CONNECTIONS (default 32), BENCH_CUSTOMERS (default 100000), BENCH_ONLY (`baseline` or `gatekeeper`,
 * to load one target alone, e.g. while profiling the server with `node --cpu-prof`).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';
import twilio from 'twilio';

import { closeConnection, createStore, createStoreConnection, waitUntilReady } from '../../store';
import { customerPhone, seed, unknownPhone } from './seed';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const RESTRICTED = Math.round(CUSTOMERS / 100);
const WARMUP_S = 3;
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://gatekeeper.example.org';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

async function startRedisServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

async function startServer(redisUrl: string, port: number): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'server.js'), [redisUrl, String(port), PUBLIC_URL, AUTH_TOKEN], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return child;
}

/** The caller of request `n`: a third each restricted, unrestricted and unknown. */
function callerOf(n: number): string {
  switch (n % 3) {
    case 0:
      return customerPhone(n % RESTRICTED);
    case 1:
      return customerPhone(RESTRICTED + ((n * 7919) % (CUSTOMERS - RESTRICTED)));
    default:
      return unknownPhone(n);
  }
}

let sequence = 0;
const runId = Date.now().toString(16);

/** A Twilio-shaped, Twilio-signed `/voice/incoming` request with a fresh CallSid. */
function signedIncoming(path: string, signed: boolean): { body: string; headers: Record<string, string> } {
  sequence += 1;
  const from = callerOf(sequence);
  const params: Record<string, string> = {
    AccountSid: 'AC0123456789abcdef0123456789abcdef',
    ApiVersion: '2010-04-01',
    CallSid: `CA${(runId + sequence.toString(16).padStart(12, '0')).padStart(32, '0').slice(-32)}`,
    CallStatus: 'ringing',
    Called: '+441632960000',
    Caller: from,
    Direction: 'inbound',
    From: from,
    FromCountry: 'GB',
    To: '+441632960000',
    ToCountry: 'GB',
  };
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signed) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path}`, params);
  return { body: new URLSearchParams(params).toString(), headers };
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time the server process spent per request (µs), when /proc is readable: independent of other load on the machine. */
  serverCpuUs?: number;
  /** The same for redis-server. */
  redisCpuUs?: number;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); `undefined` elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The processes whose CPU is measured. */
const watched: { server?: number; redis?: number } = {};

/** Requests prepared per load run, before the clock starts, so signing costs the load generator nothing. */
const POOL_SIZE = Number(process.env.BENCH_POOL ?? 150_000);

async function load(url: string, path: string, signed: boolean, seconds: number): Promise<Figures> {
  // Both targets get the same treatment: a pool of distinct, ready-made requests (fresh CallSids).
  const pool = Array.from({ length: POOL_SIZE }, () => signedIncoming(path, signed));
  let next = 0;
  const cpuBefore = { server: cpuSeconds(watched.server), redis: cpuSeconds(watched.redis) };
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (req) => ({ ...req, ...(pool[next++ % POOL_SIZE] as { body: string; headers: Record<string, string> }) }),
      },
    ],
  });
  if (next > POOL_SIZE) console.warn(`(the pool of ${POOL_SIZE} requests wrapped: some CallSids were replays)`);
  const perRequest = (before: number | undefined, after: number | undefined): number | undefined =>
    before === undefined || after === undefined || result.requests.total === 0 ? undefined : ((after - before) * 1e6) / result.requests.total;
  const figures: Figures = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
  const serverCpuUs = perRequest(cpuBefore.server, cpuSeconds(watched.server));
  const redisCpuUs = perRequest(cpuBefore.redis, cpuSeconds(watched.redis));
  if (serverCpuUs !== undefined) figures.serverCpuUs = serverCpuUs;
  if (redisCpuUs !== undefined) figures.redisCpuUs = redisCpuUs;
  return figures;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-'));
  const redisPort = await freePort();
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  let redis: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  try {
    redis = await startRedisServer(redisPort, dir);
    const connection = createStoreConnection({ kind: 'single', url: redisUrl });
    await waitUntilReady(connection);
    const store = createStore(connection);
    console.log(`Seeding ${CUSTOMERS.toLocaleString('en-GB')} customers (${RESTRICTED.toLocaleString('en-GB')} restricted)…`);
    const seededMs = await seed(store, connection, { customers: CUSTOMERS, restricted: RESTRICTED }, new Date());
    await connection.set('bench:baseline', 'x');
    console.log(`Seeded in ${(seededMs / 1000).toFixed(1)} s; Redis dbsize ${await connection.dbsize()}.`);
    await closeConnection(connection);

    const port = await freePort();
    server = await startServer(redisUrl, port);
    watched.server = server.pid;
    watched.redis = redis.pid;
    const url = `http://127.0.0.1:${port}`;
    const targets = {
      baseline: { path: '/baseline/incoming', signed: false, runs: [] as Figures[] },
      gatekeeper: { path: '/voice/incoming', signed: true, runs: [] as Figures[] },
    };
    const only = process.env.BENCH_ONLY;
    if (only === 'baseline' || only === 'gatekeeper') {
      const t = targets[only];
      for (let round = 1; round <= ROUNDS; round++) {
        const f = await load(url, t.path, t.signed, DURATION_S);
        console.log(`round ${round} ${only} ${f.rps.toFixed(0)} req/s  p50 ${f.p50} ms  p99 ${f.p99} ms  non-2xx ${f.non2xx}`);
      }
      return;
    }

    console.log(`Warming up (${WARMUP_S} s each)…`);
    for (const t of Object.values(targets)) await load(url, t.path, t.signed, WARMUP_S);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, t] of Object.entries(targets)) {
        const f = await load(url, t.path, t.signed, DURATION_S);
        t.runs.push(f);
        console.log(
          `round ${round} ${name.padEnd(10)} ${f.rps.toFixed(0).padStart(6)} req/s  p50 ${f.p50} ms  p99 ${f.p99} ms  ` +
            `server CPU ${f.serverCpuUs?.toFixed(0) ?? '?'} µs/req  redis CPU ${f.redisCpuUs?.toFixed(0) ?? '?'} µs/req  non-2xx ${f.non2xx}  errors ${f.errors}`,
        );
      }
    }

    const summary = Object.fromEntries(
      Object.entries(targets).map(([name, t]) => [
        name,
        {
          rps: mean(t.runs.map((r) => r.rps)),
          p50: mean(t.runs.map((r) => r.p50)),
          p99: Math.max(...t.runs.map((r) => r.p99)),
          serverCpuUs: mean(t.runs.map((r) => r.serverCpuUs ?? Number.NaN)),
          redisCpuUs: mean(t.runs.map((r) => r.redisCpuUs ?? Number.NaN)),
          failures: t.runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
        },
      ]),
    ) as Record<keyof typeof targets, { rps: number; p50: number; p99: number; serverCpuUs: number; redisCpuUs: number; failures: number }>;
    const ratio = summary.gatekeeper.rps / summary.baseline.rps;

    console.log('');
    console.log(`Voice benchmark: ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION_S} s per target, ${CUSTOMERS.toLocaleString('en-GB')} customers`);
    console.log('| target | req/s | p50 ms | p99 ms | server CPU µs/req | redis CPU µs/req | non-2xx + errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const [name, s] of Object.entries(summary)) {
      console.log(
        `| ${name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.serverCpuUs.toFixed(0)} | ${s.redisCpuUs.toFixed(0)} | ${s.failures} |`,
      );
    }
    console.log('');
    console.log(`throughput ratio gatekeeper/baseline: ${(ratio * 100).toFixed(1)}% (target ≥ 70%)`);
    console.log(`gatekeeper p99: ${summary.gatekeeper.p99.toFixed(2)} ms (target < 10 ms)`);
    console.log(`server CPU per request, gatekeeper/baseline: ${(summary.gatekeeper.serverCpuUs / summary.baseline.serverCpuUs).toFixed(2)}×`);
    console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs (other processes skew req/s; CPU µs/req much less)`);
    const ok = ratio >= 0.7 && summary.gatekeeper.p99 < 10 && summary.gatekeeper.failures === 0;
    console.log(ok ? 'targets met' : 'TARGETS NOT MET');
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    if (redis && redis.exitCode === null) {
      const exited = new Promise((r) => redis?.once('exit', r));
      redis.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
