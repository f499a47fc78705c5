/**
 * `npm run bench:voice`: Gatekeeper's `/voice/incoming` against a baseline, under autocannon, on a real
 * redis-server holding 100,000 customers (1% restricted).
 *
 * - baseline: an express route that does one Redis GET and returns a fixed TwiML string;
 * - gatekeeper: signed `/voice/incoming` requests, every one a new CallSid (so each is decided, claimed
 *   and recorded — no replays), callers a third each restricted, unrestricted and unknown.
 * Both run in one forked server process (run.ts only generates load). Method, so that a shared, noisy
 * machine still gives a fair comparison:
 * - a warm-up of each target first (JIT, connection pools, Redis caches), not counted;
 * - then rounds in ABBA order (baseline, gatekeeper, gatekeeper, baseline, …), so a drift in the machine's
 *   load lands on both targets alike;
 * - the figures are the MEDIAN of the rounds (one disturbed round moves nothing), the ratio is the median of
 *   the per-pair ratios (each gatekeeper round against the baseline round next to it) and also shown as
 *   the ratio of the medians;
 * - with each round, CPU seconds per request of the server, redis-server and the load generator (from
 *   /proc, insensitive to other load), and how many cores OTHER processes used meanwhile (from /proc/stat),
 *   so a reader can tell a slow round from a busy machine.
 *
 * Environment: BENCH_DURATION (seconds per round, default 10), BENCH_ROUNDS (rounds per target, default 5),
 * BENCH_WARMUP (seconds per target, default 5), BENCH_CONNECTIONS (default 32), BENCH_CUSTOMERS (default
 * 100000), BENCH_ONLY (`baseline` or `gatekeeper`: load one target alone, e.g. with BENCH_PROFILE),
 * BENCH_PROFILE (a directory: the server writes a V8 CPU profile there when it exits).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { closeConnection, createStore, createStoreConnection, waitUntilReady } from '../../store';
import { IncomingRequests, type PreparedRequest } from './requests';
import { cpuSeconds, cpuSplit, freePort, machineBusySeconds, median } from '../measure';
import { seed } from './seed';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const RESTRICTED = Math.round(CUSTOMERS / 100);
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://gatekeeper.example.org';
const TARGETS_MET = { ratio: 0.7, p99Ms: 10 };

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
  const profileDir = process.env.BENCH_PROFILE;
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // BENCH_SERVER_ARGS: more node options for the server, e.g. `--perf-basic-prof` to read it with `perf record`.
  if (process.env.BENCH_SERVER_ARGS) execArgv.push(...process.env.BENCH_SERVER_ARGS.split(' ').filter((a) => a !== ''));
  const child = fork(join(__dirname, 'server.js'), [redisUrl, String(port), PUBLIC_URL, AUTH_TOKEN], { stdio: 'inherit', execArgv });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return child;
}

const requests = new IncomingRequests({ customers: CUSTOMERS, restricted: RESTRICTED }, { authToken: AUTH_TOKEN, publicUrl: PUBLIC_URL });

/** What one round of one target measured. */
interface Figures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  /** CPU µs per request of the server process, redis-server and this load generator (`NaN` without /proc). */
  serverCpuUs: number;
  /** The part of serverCpuUs spent in the kernel (system calls: sockets, waking redis-server). */
  serverSysUs: number;
  /**
   * The part of serverCpuUs used by the server's main thread — the one that answers requests, and so the
   * bottleneck; the rest is the gatekeeper's evidence thread, V8's GC helpers and libuv.
   */
  mainCpuUs: number;
  redisCpuUs: number;
  loadCpuUs: number;
  /** Cores used meanwhile by everything else on the machine (other engineers' builds and tests). */
  otherCores: number;
  /** 1-minute load average at the end of the round. */
  load1: number;
}

/** The processes whose CPU is measured. */
const watched: { server?: number; redis?: number } = {};

/** Requests prepared for a round: enough for the best rate seen so far over the round, with headroom. */
function poolSize(bestRps: number, seconds: number): number {
  return Math.ceil(Math.max(bestRps * 1.5, 7000) * seconds);
}

/** The best requests per second each target has managed, to size the next pool. */
const bestRps: Record<string, number> = {};

async function load(url: string, name: string, path: string, signed: boolean, seconds: number): Promise<Figures> {
  // Prepared before the clock starts, so signing costs the load generator nothing during the round.
  const size = poolSize(bestRps[name] ?? 0, seconds);
  const pool = Array.from({ length: size }, () => requests.next(path, signed));
  let next = 0;
  const mainThread = (): number => {
    return cpuSeconds(watched.server, watched.server);
  };
  const before = { server: cpuSeconds(watched.server), serverSys: cpuSplit(watched.server).system, main: mainThread(), redis: cpuSeconds(watched.redis), self: process.cpuUsage(), machine: machineBusySeconds() };
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'POST', path, setupRequest: (req) => ({ ...req, ...(pool[next++ % size] as PreparedRequest) }) }],
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const self = process.cpuUsage(before.self);
  const server = cpuSeconds(watched.server) - before.server;
  const serverSys = cpuSplit(watched.server).system - before.serverSys;
  const main = mainThread() - before.main;
  const redis = cpuSeconds(watched.redis) - before.redis;
  const machine = machineBusySeconds() - before.machine;
  if (next > size) console.warn(`(${name}: the pool of ${size} requests wrapped: some CallSids were replays)`);
  const total = result.requests.total;
  const selfSeconds = (self.user + self.system) / 1e6;
  bestRps[name] = Math.max(bestRps[name] ?? 0, result.requests.average);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: total,
    failures: result.non2xx + result.errors + result.timeouts,
    serverCpuUs: (server * 1e6) / total,
    serverSysUs: (serverSys * 1e6) / total,
    mainCpuUs: (main * 1e6) / total,
    redisCpuUs: (redis * 1e6) / total,
    loadCpuUs: (selfSeconds * 1e6) / total,
    otherCores: Math.max(0, (machine - server - redis - selfSeconds) / elapsed),
    load1: loadavg()[0] ?? Number.NaN,
  };
}

function describe(name: string, round: string, f: Figures): string {
  return (
    `${round.padEnd(8)} ${name.padEnd(10)} ${f.rps.toFixed(0).padStart(6)} req/s  p50 ${String(f.p50).padStart(3)} ms  p99 ${String(f.p99).padStart(3)} ms  ` +
    `CPU µs/req server ${f.serverCpuUs.toFixed(0).padStart(3)} (main thread ${f.mainCpuUs.toFixed(0).padStart(3)}, sys ${f.serverSysUs.toFixed(0).padStart(3)}) redis ${f.redisCpuUs.toFixed(0).padStart(2)} load-gen ${f.loadCpuUs.toFixed(0).padStart(3)}  ` +
    `other cores ${f.otherCores.toFixed(2)}  load ${f.load1.toFixed(2)}  failures ${f.failures}`
  );
}

/**
 * `baseline` is the (an express route: one GET, fixed TwiML) and the one the targets are against.
 * `node` is for reference only: the same work on node's own request and response, as the gateway serves
 * the webhooks — what the gate costs beyond the least node itself can do for a webhook.
 */
type TargetName = 'baseline' | 'gatekeeper' | 'node';
const TARGETS: Record<TargetName, { path: string; signed: boolean }> = {
  baseline: { path: '/baseline/incoming', signed: false },
  gatekeeper: { path: '/voice/incoming', signed: true },
  node: { path: '/baseline-node/incoming', signed: false },
};

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

    const only = process.env.BENCH_ONLY;
    if (only === 'baseline' || only === 'gatekeeper' || only === 'node') {
      const t = TARGETS[only];
      for (let round = 1; round <= ROUNDS; round++) console.log(describe(only, `round ${round}`, await load(url, only, t.path, t.signed, DURATION_S)));
      return;
    }

    console.log(`Load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`);
    for (const name of ['baseline', 'gatekeeper', 'node'] as const) {
      console.log(describe(name, 'warm-up', await load(url, name, TARGETS[name].path, TARGETS[name].signed, WARMUP_S)));
    }
    const runs: Record<TargetName, Figures[]> = { baseline: [], gatekeeper: [], node: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      // ABBA: odd rounds baseline first, even rounds gatekeeper first; the reference last in each round.
      const order: TargetName[] = round % 2 === 1 ? ['baseline', 'gatekeeper', 'node'] : ['gatekeeper', 'baseline', 'node'];
      for (const name of order) {
        const f = await load(url, name, TARGETS[name].path, TARGETS[name].signed, DURATION_S);
        runs[name].push(f);
        console.log(describe(name, `round ${round}`, f));
      }
    }

    const summary = (fs: Figures[]) => ({
      rps: median(fs.map((f) => f.rps)),
      p50: median(fs.map((f) => f.p50)),
      p99: median(fs.map((f) => f.p99)),
      worstP99: Math.max(...fs.map((f) => f.p99)),
      serverCpuUs: median(fs.map((f) => f.serverCpuUs)),
      mainCpuUs: median(fs.map((f) => f.mainCpuUs)),
      redisCpuUs: median(fs.map((f) => f.redisCpuUs)),
      loadCpuUs: median(fs.map((f) => f.loadCpuUs)),
      failures: fs.reduce((n, f) => n + f.failures, 0),
    });
    const base = summary(runs.baseline);
    const gate = summary(runs.gatekeeper);
    const node = summary(runs.node);
    const pairedRatio = median(runs.gatekeeper.map((g, i) => g.rps / (runs.baseline[i]?.rps ?? Number.NaN)));
    const others = median([...runs.baseline, ...runs.gatekeeper].map((f) => f.otherCores));
    const loads = [...runs.baseline, ...runs.gatekeeper].map((f) => f.load1);

    console.log('');
    console.log(`Voice benchmark: ${CONNECTIONS} connections, median of ${ROUNDS} rounds × ${DURATION_S} s per target (ABBA order, after ${WARMUP_S} s warm-up), ${CUSTOMERS.toLocaleString('en-GB')} customers`);
    console.log('| target | req/s | p50 ms | p99 ms (worst round) | server CPU µs/req | of which main thread | redis CPU µs/req | load-gen CPU µs/req | failures |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, s] of [['baseline', base], ['gatekeeper', gate], ['node (reference)', node]] as const) {
      console.log(
        `| ${name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} (${s.worstP99}) | ${s.serverCpuUs.toFixed(0)} | ${s.mainCpuUs.toFixed(0)} | ${s.redisCpuUs.toFixed(0)} | ${s.loadCpuUs.toFixed(0)} | ${s.failures} |`,
      );
    }
    console.log('');
    console.log(`throughput ratio gatekeeper/baseline: ${(pairedRatio * 100).toFixed(1)}% median of paired rounds, ${((gate.rps / base.rps) * 100).toFixed(1)}% of medians (target ≥ ${TARGETS_MET.ratio * 100}%)`);
    console.log(
      `for reference, against plain node (one GET on node's own request and response): gatekeeper ${((gate.rps / node.rps) * 100).toFixed(1)}% of its throughput, p99 ${node.p99.toFixed(1)} ms`,
    );
    console.log(`gatekeeper p99: ${gate.p99.toFixed(1)} ms median of rounds, worst ${gate.worstP99} ms (target < ${TARGETS_MET.p99Ms} ms); baseline p99 ${base.p99.toFixed(1)} ms`);
    console.log(
      `server CPU per request, gatekeeper/baseline: ${(gate.serverCpuUs / base.serverCpuUs).toFixed(2)}× in all, ` +
        `${(gate.mainCpuUs / base.mainCpuUs).toFixed(2)}× on the main thread (the one that answers)`,
    );
    console.log(
      `machine: ${cpus().length} CPUs; other processes used a median ${others.toFixed(2)} cores during the rounds; ` +
        `1-min load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (ours alone is ~2: server + load generator)`,
    );
    const ok = pairedRatio >= TARGETS_MET.ratio && gate.p99 < TARGETS_MET.p99Ms && gate.failures === 0;
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
