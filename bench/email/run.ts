/**
 * `npm run bench:email`: messages per second from SMTP submission to forwarded, through the real listener,
 * durable ingest, BullMQ workers and forwarding, over a real redis-server — beside a baseline smtp-server
 * that accepts and discards, in the same run — and the gatekeeper's peak RSS while a 25 MB message passes.
 *
 * - Messages: 10 KB (a text body, quoted-printable), each with its own Message-ID, from 100 senders not on
 *   any customer record (so each is decided, recorded, audited, forwarded and — once per sender per period —
 *   acknowledged). Submitted by nodemailer over a pool of connections.
 * - Baseline: messages/s until the last 250 from the discard server.
 * - Gatekeeper: messages/s until the last forward has reached the sink (an smtp-server in this process
 *   that counts and discards). Rounds alternate between the two so drift affects both alike.
 * - Memory: the gatekeeper's peak RSS (VmHWM, reset through /proc/<pid>/clear_refs) while one 25 MB message
 *   is received, stored, parsed, forwarded with the original attached, beside its RSS at rest.
 *
 * Environment: BENCH_MESSAGES (per round, default 1000), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS
 * (SMTP connections of the load generator, default 8), BENCH_PROCESS_CONCURRENCY (default 4), BENCH_PROFILE (a directory:
 * write a CPU profile of the gatekeeper process there).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../measure';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const DOMAIN = 'landlord.example';
const MB = 1024 * 1024;

async function startRedisServer(port: number, dir: string): Promise<ChildProcess> {
  // Append-only with fsync every second, as `npm start` runs its embedded Redis.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'], {
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

async function forkServer(args: string[]): Promise<ChildProcess> {
  // BENCH_PROFILE=<dir>: profile the gatekeeper process with `node --cpu-prof` (written at the end of the run).
  const profile = process.env.BENCH_PROFILE !== undefined && args[0] === 'gatekeeper' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(join(__dirname, 'servers.js'), args, { stdio: 'inherit', execArgv: profile });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return child;
}

/** The outbound sink: counts what the gatekeeper forwards and acknowledges, and discards it. */
async function startSink(port: number): Promise<{ forwards: () => number; acks: () => number; waitForwards: (n: number) => Promise<void>; close: () => Promise<void> }> {
  let forwards = 0;
  let acks = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 200 * MB,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        if (session.envelope.rcptTo.some((r) => r.address.endsWith(`@${DOMAIN}`))) forwards++;
        else acks++;
        for (const w of waiters.filter((x) => forwards >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    forwards: () => forwards,
    acks: () => acks,
    waitForwards: (n) => (forwards >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A 10 KB message: headers plus a quoted-printable text body. */
function message(n: number, run: string): Buffer {
  const body = `Dear Housing,\r\n\r\n${'The bathroom extractor fan has stopped working again and the mould is coming back on the ceiling. '.repeat(100)}\r\n\r\nKind regards\r\n`;
  const head = [
    `From: Tenant ${n % 100} <tenant${n % 100}.${run}@customer.example>`,
    `To: housing@${DOMAIN}`,
    `Subject: Repair request ${n}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${run}.${n}.${randomBytes(6).toString('hex')}@customer.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body.slice(0, 10 * 1024 - 300)}\r\n`, 'latin1');
}

/** Submits `count` messages over a connection pool; resolves when every one has been answered 250. */
async function submit(port: number, count: number, run: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: CONNECTIONS, maxMessages: Infinity });
  const raws = Array.from({ length: count }, (_, n) => message(n, run));
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < raws.length) {
      const i = next++;
      await transport.sendMail({ envelope: { from: `tenant${i % 100}.${run}@customer.example`, to: [`housing@${DOMAIN}`] }, raw: raws[i]! });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  transport.close();
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

const fmt = (n: number, d = 0): string => n.toFixed(d);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-email-'));
  const children: ChildProcess[] = [];
  try {
    const [redisPort, baselinePort, gkPort, sinkPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    children.push(await startRedisServer(redisPort, dir));
    const sink = await startSink(sinkPort);
    const baseline = await forkServer(['baseline', String(baselinePort)]);
    children.push(baseline);
    const gk = await forkServer(['gatekeeper', String(gkPort), `redis://127.0.0.1:${redisPort}`, `smtp://127.0.0.1:${sinkPort}`, dir]);
    children.push(gk);

    console.log(`bench:email — ${MESSAGES} messages of 10 KB per round, ${ROUNDS} round(s), ${CONNECTIONS} SMTP connections; ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    // Warm-up: JIT, connection pools, Lua script cache.
    await submit(gkPort, 50, 'warm');
    await sink.waitForwards(50);
    await submit(baselinePort, 50, 'warm');

    const results: Array<{ target: string; seconds: number }> = [];
    let forwarded = sink.forwards();
    for (let round = 1; round <= ROUNDS; round++) {
      let t = process.hrtime.bigint();
      await submit(baselinePort, MESSAGES, `b${round}`);
      results.push({ target: 'baseline (accept and discard)', seconds: Number(process.hrtime.bigint() - t) / 1e9 });

      t = process.hrtime.bigint();
      const acksBefore = sink.acks();
      await submit(gkPort, MESSAGES, `g${round}`);
      const accepted = Number(process.hrtime.bigint() - t) / 1e9;
      await sink.waitForwards(forwarded + MESSAGES);
      forwarded += MESSAGES;
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      results.push({ target: 'gatekeeper (submission → forwarded)', seconds });
      console.log(`  round ${round}: gatekeeper accepted all in ${fmt(accepted, 2)} s (${fmt(MESSAGES / accepted)} msg/s to 250), forwarded all in ${fmt(seconds, 2)} s; ${sink.acks() - acksBefore} acknowledgements`);
    }
    console.log('\n| target | messages | seconds | messages/s |\n|---|---:|---:|---:|');
    for (const r of results) console.log(`| ${r.target} | ${MESSAGES} | ${fmt(r.seconds, 2)} | ${fmt(MESSAGES / r.seconds)} |`);

    // Peak memory while one 25 MB message passes through.
    const pid = gk.pid!;
    const restRss = status(pid, 'VmRSS');
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    } catch {
      console.log('(could not reset the peak RSS counter; the peak below may include the throughput rounds)');
    }
    const big = Buffer.concat([
      Buffer.from(`From: Big Sender <big@customer.example>\r\nTo: housing@${DOMAIN}\r\nSubject: Photos\r\nMessage-ID: <big.${randomBytes(6).toString('hex')}@customer.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPhotos attached.\r\n--b\r\nContent-Type: image/jpeg; name="p.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n`),
      Buffer.from((randomBytes(Math.floor((25 * MB - 4096) * 0.73)).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')),
      Buffer.from('\r\n--b--\r\n'),
    ]);
    let sampledPeak = 0;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, status(pid, 'VmRSS'));
    }, 10);
    const t = process.hrtime.bigint();
    const before = sink.forwards();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: gkPort, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: 'big@customer.example', to: [`housing@${DOMAIN}`] }, raw: big });
    transport.close();
    await sink.waitForwards(before + 1);
    clearInterval(sampler);
    const peak = Math.max(status(pid, 'VmHWM'), sampledPeak);
    console.log(
      `\n25 MB message (${fmt(big.length / MB, 1)} MiB raw): received, stored, parsed and forwarded in ${fmt(Number(process.hrtime.bigint() - t) / 1e9, 2)} s; ` +
        `gatekeeper RSS at rest ${fmt(restRss / MB)} MiB, peak ${fmt(peak / MB)} MiB (+${fmt((peak - restRss) / MB)} MiB)`,
    );
    await sink.close();
  } finally {
    for (const c of children.reverse()) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      c.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
