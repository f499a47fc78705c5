/**
 * `npm run bench:scale`: does the gateway scale out? The voice benchmark's request mix — signed Twilio
 * `/voice/incoming` webhooks, each a new CallSid, callers a third each restricted, unrestricted and unknown,
 * over 100,000 seeded customers (1% restricted) — against one and then two `node dist/bin/gatekeeper.js
 * --role gateway` processes on one redis-server, with the same connections and duration each time.
 *
 * Both gateway processes run throughout; a one-gateway round sends every connection to the first, a
 * two-gateway round splits them evenly (as a load balancer would). Rounds alternate (1, 2, 2, 1, …) after
 * a warm-up of each, and the figures are medians, so drift in a shared machine's load lands on both. With
 * each round: CPU seconds per request of the gateways, redis-server and this load generator (from /proc).
 *
 * The scaling factor is the median two-gateway throughput over the median one-gateway throughput. It is
 * bounded by the cores: everything here — gateways, Redis and the load generator — shares this machine.
 *
 * Environment: BENCH_SCALE_DURATION (s per round, 15), BENCH_SCALE_ROUNDS (rounds per configuration, 3),
 * BENCH_SCALE_WARMUP (s, 5), BENCH_SCALE_CONNECTIONS (32), BENCH_CUSTOMERS (100000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { closeConnection, createStore, createStoreConnection, waitUntilReady } from '../../store';
import { cpuSeconds, machineBusySeconds, median } from '../measure';
import { spawnGatekeeper, startRedisServer, type GatekeeperChild } from '../soak/stack';
import { IncomingRequests, type PreparedRequest } from '../voice/requests';
import { seed } from '../voice/seed';

const DURATION_S = Number(process.env.BENCH_SCALE_DURATION ?? 15);
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 3);
const WARMUP_S = Number(process.env.BENCH_SCALE_WARMUP ?? 5);
const CONNECTIONS = Number(process.env.BENCH_SCALE_CONNECTIONS ?? 32);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const RESTRICTED = Math.round(CUSTOMERS / 100);
const AUTH_TOKEN = 'scale-twilio-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://gatekeeper.example.org';
const PATH = '/voice/incoming';

const incomingCalls = new IncomingRequests({ customers: CUSTOMERS, restricted: RESTRICTED }, { authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL });

interface Round {
  gateways: 1 | 2;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  gatewayCpuUs: number;
  redisCpuUs: number;
  loadCpuUs: number;
  otherCores: number;
}

let expectedRps = 3000;

/** One round: all connections to the first gateway, or split evenly over both. */
async function round(targets: GatekeeperChild[], redisPid: number, seconds: number): Promise<Round> {
  const pool = Array.from({ length: Math.ceil(Math.max(expectedRps, 2000) * seconds * 1.5) }, () => incomingCalls.next(PATH));
  let next = 0;
  const cpuOf = (): number[] => targets.map((t) => cpuSeconds(t.pid));
  const before = { gateways: cpuOf(), redis: cpuSeconds(redisPid), self: process.cpuUsage(), machine: machineBusySeconds() };
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    targets.map((t) =>
      autocannon({
        url: t.url,
        connections: Math.floor(CONNECTIONS / targets.length),
        duration: seconds,
        requests: [{ method: 'POST', path: PATH, setupRequest: (req) => ({ ...req, ...(pool[next++ % pool.length] as PreparedRequest) }) }],
      }),
    ),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (next > pool.length) console.warn(`(the pool of ${pool.length} requests wrapped: some CallSids were replays)`);
  const gatewayCpu = cpuOf().reduce((sum, c, i) => sum + c - (before.gateways[i] ?? 0), 0);
  const redisCpu = cpuSeconds(redisPid) - before.redis;
  const self = process.cpuUsage(before.self);
  const selfSeconds = (self.user + self.system) / 1e6;
  const machine = machineBusySeconds() - before.machine;
  const requests = results.reduce((n, r) => n + r.requests.total, 0);
  const rps = results.reduce((n, r) => n + r.requests.average, 0);
  expectedRps = rps;
  return {
    gateways: targets.length as 1 | 2,
    rps,
    // Latency: the worse of the two load generators (each saw half the traffic).
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    requests,
    failures: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    gatewayCpuUs: (gatewayCpu * 1e6) / requests,
    redisCpuUs: (redisCpu * 1e6) / requests,
    loadCpuUs: (selfSeconds * 1e6) / requests,
    otherCores: Math.max(0, (machine - gatewayCpu - redisCpu - selfSeconds) / elapsed),
  };
}

function describe(label: string, r: Round): string {
  return (
    `${label.padEnd(9)} ${r.gateways} gateway${r.gateways === 1 ? ' ' : 's'} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(4)} ms  ` +
    `CPU µs/req gateways ${r.gatewayCpuUs.toFixed(0)} redis ${r.redisCpuUs.toFixed(0)} load-gen ${r.loadCpuUs.toFixed(0)}  other cores ${r.otherCores.toFixed(2)}  failures ${r.failures}`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-scale-'));
  const redis = await startRedisServer(dir);
  const gateways: GatekeeperChild[] = [];
  try {
    const connection = createStoreConnection({ kind: 'single', url: redis.url });
    await waitUntilReady(connection);
    console.log(`Seeding ${CUSTOMERS.toLocaleString('en-GB')} customers (${RESTRICTED.toLocaleString('en-GB')} restricted)…`);
    const seededMs = await seed(createStore(connection), connection, { customers: CUSTOMERS, restricted: RESTRICTED }, new Date());
    console.log(`Seeded in ${(seededMs / 1000).toFixed(1)} s.`);
    await closeConnection(connection);

    const env = {
      REDIS_URL: redis.url,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      PUBLIC_URL,
      EMERGENCY_NUMBER: '+441632960999',
      VOICE_DEFAULT_ROUTE: 'dial:+441632960000',
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
    };
    gateways.push(await spawnGatekeeper('gateway', env), await spawnGatekeeper('gateway', env));
    const one = [gateways[0]!];
    const two = [gateways[0]!, gateways[1]!];

    console.log(`Load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`);
    console.log(describe('warm-up', await round(two, redis.pid, WARMUP_S)));
    console.log(describe('warm-up', await round(one, redis.pid, WARMUP_S)));
    const runs: Record<1 | 2, Round[]> = { 1: [], 2: [] };
    for (let i = 1; i <= ROUNDS; i += 1) {
      const order = i % 2 === 1 ? [one, two] : [two, one];
      for (const targets of order) {
        const r = await round(targets, redis.pid, DURATION_S);
        runs[r.gateways].push(r);
        console.log(describe(`round ${i}`, r));
      }
    }

    const summary = (rs: Round[]) => ({
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      gatewayCpuUs: median(rs.map((r) => r.gatewayCpuUs)),
      redisCpuUs: median(rs.map((r) => r.redisCpuUs)),
      loadCpuUs: median(rs.map((r) => r.loadCpuUs)),
      otherCores: median(rs.map((r) => r.otherCores)),
      failures: rs.reduce((n, r) => n + r.failures, 0),
    });
    const s1 = summary(runs[1]);
    const s2 = summary(runs[2]);
    console.log('');
    console.log(`Scale benchmark: ${CONNECTIONS} connections, median of ${ROUNDS} rounds × ${DURATION_S} s per configuration, ${CUSTOMERS.toLocaleString('en-GB')} customers, ${cpus().length} CPUs`);
    console.log('| gateways | req/s | p50 ms | p99 ms | gateway CPU µs/req | redis CPU µs/req | load-gen CPU µs/req | other cores | failures |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [n, s] of [[1, s1], [2, s2]] as const) {
      console.log(`| ${n} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.gatewayCpuUs.toFixed(0)} | ${s.redisCpuUs.toFixed(0)} | ${s.loadCpuUs.toFixed(0)} | ${s.otherCores.toFixed(2)} | ${s.failures} |`);
    }
    const perRequestCpu = s1.gatewayCpuUs + s1.redisCpuUs + s1.loadCpuUs;
    console.log('');
    console.log(`scaling factor (2 gateways / 1): ${(s2.rps / s1.rps).toFixed(2)}×`);
    console.log(
      `ceiling on this machine: all processes together use ~${perRequestCpu.toFixed(0)} µs of CPU per request, so ${cpus().length} cores allow at most ~${((cpus().length * 1e6) / perRequestCpu).toFixed(0)} req/s ` +
        `(${((cpus().length * 1e6) / perRequestCpu / s1.rps).toFixed(2)}× the one-gateway figure), whatever the number of gateways`,
    );
    process.exitCode = s1.failures + s2.failures === 0 ? 0 : 1;
  } finally {
    for (const g of gateways) await g.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
