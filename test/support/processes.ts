/**
 * Test support for suites that run Gatekeeper as real operating-system processes, the way `npm start`
 * runs it: `node dist/bin/gatekeeper.js --role …` with its configuration in the environment.
 *
 * - {@link ensureBuilt} compiles `dist/` once (only when a source file is newer than the last build; a lock
 *   directory keeps two Jest workers from compiling at the same time).
 * - {@link spawnGatekeeper} starts one process on free loopback ports, collects its stdout/stderr lines
 *   (JSON logs), waits until it says it is listening (and, for the gateway, until `/readyz` answers 200),
 *   and stops it with SIGTERM (or SIGKILL). {@link stopAllGatekeepers} cleans up whatever a suite left.
 * - {@link startRelay} is the outbound relay (`SMTP_RELAY_URL`): a real `smtp-server` that records every
 *   delivery attempt and can be told to answer 4xx or 5xx, to hold a DATA reply (so a process can be killed
 *   mid-send), or to go down and come back on the same port.
 * - Small HTTP and SMTP clients for the admin API, `/inbound/email` and the SMTP listener, and the depth of
 *   the email queues, so a test can wait until nothing is left to do before counting what was sent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { normaliseMessageId, readHeaderBlock } from '../../channels/email/message-key';
import { QUEUE_PREFIX } from '../../workers/queue-prefix';
import { freePort } from './redis-server';
import { reapOnExit } from './reap';

/** The repository root. */
export const REPO_ROOT = resolve(__dirname, '..', '..');
/** The compiled entry point. */
export const ENTRY_POINT = join(REPO_ROOT, 'dist', 'bin', 'gatekeeper.js');
/** The bootstrap admin token every spawned stack is given unless a test overrides it. */
export const PROCESS_ADMIN_TOKEN = 'process-suite-admin-token-0123456789';

/** The mail domain the process suites run Gatekeeper for (`SMTP_DOMAINS`). */
export const MAIL_DOMAIN = 'landlord.example';
/** Where Gatekeeper forwards customers' mail (`MAILBOX_DEFAULT`). */
export const MAILBOX = `housing-team@${MAIL_DOMAIN}`;
/** The address customers write to (`WRITE_TO_EMAIL`). */
export const WRITE_TO = `housing@${MAIL_DOMAIN}`;

/**
 * The environment every process suite gives a spawned Gatekeeper for mail: its Redis, the capturing relay,
 * and the addresses above. Suites add their own variables to it.
 */
export function mailEnv(redis: { url: string }, relay: { url: string }): Record<string, string> {
  return { REDIS_URL: redis.url, SMTP_RELAY_URL: relay.url, SMTP_DOMAINS: MAIL_DOMAIN, MAILBOX_DEFAULT: MAILBOX, WRITE_TO_EMAIL: WRITE_TO };
}

// ── Build once ────────────────────────────────────────────────────────────────────────────────────────

const SOURCE_DIRS = ['rules', 'store', 'channels', 'gateway', 'workers', 'config', 'bin'];
const BUILD_STAMP = join(REPO_ROOT, 'dist', '.process-suites-build-stamp');
const BUILD_LOCK = join(tmpdir(), `gk-build-lock-${Buffer.from(REPO_ROOT).toString('hex').slice(-32)}`);

function newestSourceMtime(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(REPO_ROOT, dir));
  for (const file of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(join(REPO_ROOT, file)).mtimeMs);
  return newest;
}

function isBuildCurrent(): boolean {
  return existsSync(ENTRY_POINT) && existsSync(BUILD_STAMP) && statSync(BUILD_STAMP).mtimeMs >= newestSourceMtime();
}

/**
 * Compiles `dist/` with `npm run build`'s compiler settings unless it is already newer than every source
 * file. Type errors do not stop the suites (tsc still emits, and `npm test` type-checks separately); a
 * missing entry point does.
 * @throws Error when the build produced no `dist/bin/gatekeeper.js`
 */
export async function ensureBuilt(): Promise<void> {
  if (isBuildCurrent()) return;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      // Another suite is compiling; a lock older than three minutes belongs to a process that died.
      if (existsSync(BUILD_LOCK) && Date.now() - statSync(BUILD_LOCK).mtimeMs > 180_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another suite to finish building dist/');
      await sleep(250);
    }
  }
  try {
    if (isBuildCurrent()) return;
    const startedAt = Date.now();
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (!existsSync(ENTRY_POINT)) throw new Error(`the build produced no ${ENTRY_POINT}:\n${result.stdout}${result.stderr}`);
    writeFileSync(BUILD_STAMP, '');
    // A source saved during the build must trigger the next one: date the stamp at the build's start.
    const started = new Date(startedAt);
    utimesSync(BUILD_STAMP, started, started);
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

// ── Processes ─────────────────────────────────────────────────────────────────────────────────────────

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One parsed log line (the JSON the logger writes; other lines as `{ message: line }`). */
export type LogEntry = Record<string, unknown> & { message?: unknown; level?: unknown };

/** A running Gatekeeper process. */
export interface GatekeeperProcess {
  readonly name: string;
  readonly roles: string;
  readonly pid: number;
  /** `PORT` (the gateway's HTTP port) and its base URL. */
  readonly port: number;
  readonly url: string;
  /** `SMTP_PORT`. */
  readonly smtpPort: number;
  /** The environment it was started with. */
  readonly env: Readonly<Record<string, string>>;
  /** Resolves when the process exits. */
  readonly exited: Promise<ProcessExit>;
  /** True until it exits. */
  alive(): boolean;
  /** Everything it wrote to stdout and stderr so far, line by line. */
  lines(): string[];
  /** Its log entries so far. */
  entries(): LogEntry[];
  /** Resolves with the first log entry matching `predicate` (already written or still to come). */
  waitForLog(predicate: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  /** Resident set size now, and the peak so far (VmRSS / VmHWM from /proc), in bytes. */
  memory(): { rss: number; peak: number };
  /** Sends SIGTERM (or `signal`) and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
  /** SIGKILL: no chance to clean up. */
  kill(): Promise<ProcessExit>;
}

/** Options of {@link spawnGatekeeper}. */
export interface SpawnOptions {
  /** A name for messages (e.g. `gateway-a`). */
  name: string;
  /** `--role` value: `gateway`, `smtp`, `worker`, `all` or a comma list. */
  roles: string;
  /** Configuration. `PORT`, `SMTP_PORT` and `DATA_DIR` are chosen here unless given. */
  env: Record<string, string>;
  /** Wait for `/readyz` (default: when the roles include the gateway). */
  waitReady?: boolean;
  /** How long start-up may take. Default 30 s. */
  startTimeoutMs?: number;
}

const running = new Set<GatekeeperProcess>();
const dataDirs: string[] = [];

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 100 ms until it returns something other than `undefined`/`false`. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await sleep(100);
  }
}

function readProcStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function parseLine(line: string): LogEntry {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as LogEntry;
  } catch {
    // not JSON: a line from Node itself (a warning, a crash) or from a child
  }
  return { message: line };
}

/** The environment every spawned process starts from: nothing of the test runner's own configuration. */
function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: 'test', LOG_LEVEL: 'info', GATEKEEPER_ADMIN_TOKEN: PROCESS_ADMIN_TOKEN };
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  return env;
}

/**
 * Starts `node dist/bin/gatekeeper.js --role <roles>` (call {@link ensureBuilt} first).
 * @returns once the process has logged "Gatekeeper listening" (and `/readyz` answers 200 for a gateway)
 * @throws Error with the process's output when it exits or does not get ready in time
 */
export async function spawnGatekeeper(options: SpawnOptions): Promise<GatekeeperProcess> {
  const port = Number(options.env.PORT ?? (await freePort()));
  const smtpPort = Number(options.env.SMTP_PORT ?? (await freePort()));
  let dataDir = options.env.DATA_DIR;
  if (dataDir === undefined) {
    dataDir = join(tmpdir(), `gk-proc-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dataDir, { recursive: true });
    dataDirs.push(dataDir);
  }
  const env: Record<string, string> = { ...baseEnvironment(), ...options.env, PORT: String(port), SMTP_PORT: String(smtpPort), DATA_DIR: dataDir };
  const child: ChildProcess = reapOnExit(spawn(process.execPath, [ENTRY_POINT, '--role', options.roles], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);
  const pid = child.pid;
  const lines: string[] = [];
  const entries: LogEntry[] = [];
  const watchers = new Set<(entry: LogEntry) => void>();
  const take = (stream: NodeJS.ReadableStream | null): void => {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line === '') continue;
        lines.push(line);
        const entry = parseLine(line);
        entries.push(entry);
        for (const w of [...watchers]) w(entry);
      }
    });
  };
  take(child.stdout);
  take(child.stderr);
  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolveExit(exitInfo);
    });
  });

  const waitForLog = (predicate: (entry: LogEntry) => boolean, timeoutMs = 20_000): Promise<LogEntry> =>
    new Promise((resolveLog, reject) => {
      const found = entries.find(predicate);
      if (found) return resolveLog(found);
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`${options.name}: no matching log line within ${timeoutMs} ms; output:\n${lines.slice(-40).join('\n')}`));
      }, timeoutMs);
      const watch = (entry: LogEntry): void => {
        if (!predicate(entry)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolveLog(entry);
      };
      watchers.add(watch);
    });

  const proc: GatekeeperProcess = {
    name: options.name,
    roles: options.roles,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    smtpPort,
    env,
    exited,
    alive: () => exitInfo === undefined,
    lines: () => [...lines],
    entries: () => [...entries],
    waitForLog,
    memory: () => ({ rss: readProcStatus(pid, 'VmRSS'), peak: readProcStatus(pid, 'VmHWM') }),
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      running.delete(proc);
      return result;
    },
    async kill() {
      if (exitInfo) return exitInfo;
      child.kill('SIGKILL');
      const result = await exited;
      running.delete(proc);
      return result;
    },
  };
  running.add(proc);

  const startTimeout = options.startTimeoutMs ?? 30_000;
  const listening = waitForLog((e) => e.message === 'Gatekeeper listening', startTimeout);
  const died = exited.then((e) => {
    throw new Error(`${options.name} exited during start-up (code ${e.code}, signal ${e.signal}):\n${lines.join('\n')}`);
  });
  try {
    await Promise.race([listening, died]);
    const roles = options.roles.split(',');
    if (options.waitReady ?? (roles.includes('gateway') || roles.includes('all'))) {
      await Promise.race([until(async () => (await fetch(`${proc.url}/readyz`)).status === 200, startTimeout, `${options.name} /readyz`), died]);
    }
  } catch (err) {
    await proc.kill();
    throw err;
  } finally {
    died.catch(() => undefined);
  }
  return proc;
}

/** Stops every process this module started and has not seen exit (SIGTERM, then SIGKILL), and removes their data directories. */
export async function stopAllGatekeepers(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGTERM', 10_000)));
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Every log line of several processes, each prefixed with the process name (for a failure message). */
export function allLines(processes: readonly GatekeeperProcess[]): string[] {
  return processes.flatMap((p) => p.lines().map((l) => `${p.name}: ${l}`));
}

// ── The outbound relay ────────────────────────────────────────────────────────────────────────────────

/** How the relay answers the end of DATA. */
export type RelayMode = 'accept' | 'tempfail' | 'permfail';

/** One delivery attempt as the relay saw it. */
export interface RelayAttempt {
  messageId?: string;
  subject: string;
  rcptTo: string[];
  /** `connection-lost`: the sender went away before the relay answered (no 250 was given). */
  outcome: 'accepted' | 'tempfail' | 'permfail' | 'connection-lost';
}

/** A message the relay accepted (answered 250). */
export interface RelayedMessage {
  messageId?: string;
  subject: string;
  mailFrom: string | false;
  rcptTo: string[];
  raw: Buffer;
}

/** A rule that holds back the DATA reply of matching attempts. */
export interface HoldRule {
  /** Which attempts to hold, by their recipients. */
  match: (rcptTo: string[]) => boolean;
  /** How many matching attempts to hold. */
  count: number;
  /** How long to hold each before answering. */
  ms: number;
}

/** A running relay. */
export interface Relay {
  readonly port: number;
  readonly url: string;
  readonly accepted: RelayedMessage[];
  readonly attempts: RelayAttempt[];
  /** DATA replies being held right now. */
  holding(): number;
  setMode(mode: RelayMode): void;
  hold(rule: HoldRule): void;
  /** Stops listening (connections are refused) until {@link up}. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the relay on a free loopback port. Only an attempt answered 250 counts as accepted: a sender that
 * disappears while the reply is held has handed nothing over (a strict reading of RFC 5321 §4.1.1.4; real
 * relays may deliver such a message anyway, which is why our outbound Message-IDs are deterministic).
 */
export async function startRelay(): Promise<Relay> {
  const port = await freePort();
  const accepted: RelayedMessage[] = [];
  const attempts: RelayAttempt[] = [];
  const closedSessions = new Set<string>();
  const holds: HoldRule[] = [];
  let held = 0;
  let mode: RelayMode = 'accept';
  const replyFor = (m: RelayMode): Error | null =>
    m === 'tempfail'
      ? Object.assign(new Error('4.3.2 Relay busy, try again later'), { responseCode: 451 })
      : m === 'permfail'
        ? Object.assign(new Error('5.7.1 Message refused by policy'), { responseCode: 554 })
        : null;

  const makeServer = (): SMTPServer =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      size: 200 * 1024 * 1024,
      closeTimeout: 500,
      onClose(session) {
        closedSessions.add(session.id);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const head = readHeaderBlock(raw.subarray(0, 64 * 1024));
          const messageId = normaliseMessageId(head.get('message-id')?.[0]);
          const subject = head.get('subject')?.[0] ?? '';
          const rcptTo = session.envelope.rcptTo.map((r) => r.address);
          const mailFrom = session.envelope.mailFrom === false ? false : session.envelope.mailFrom.address;
          const outcomeMode = mode;
          const answer = (): void => {
            if (closedSessions.has(session.id)) {
              attempts.push({ ...(messageId ? { messageId } : {}), subject, rcptTo, outcome: 'connection-lost' });
              return;
            }
            attempts.push({ ...(messageId ? { messageId } : {}), subject, rcptTo, outcome: outcomeMode === 'accept' ? 'accepted' : outcomeMode });
            if (outcomeMode === 'accept') accepted.push({ ...(messageId ? { messageId } : {}), subject, mailFrom, rcptTo, raw });
            callback(replyFor(outcomeMode));
          };
          const rule = holds.find((h) => h.count > 0 && h.match(rcptTo));
          if (rule === undefined) return answer();
          rule.count -= 1;
          held += 1;
          // Answer when the hold ends, or at once (as a lost attempt) if the sender goes away meanwhile.
          const poll = setInterval(() => {
            if (closedSessions.has(session.id)) finish();
          }, 50);
          const timer = setTimeout(() => finish(), rule.ms);
          let done = false;
          const finish = (): void => {
            if (done) return;
            done = true;
            clearInterval(poll);
            clearTimeout(timer);
            held -= 1;
            answer();
          };
        });
      },
    });

  let server = makeServer();
  const listen = (): Promise<void> => new Promise((r) => server.listen(port, '127.0.0.1', r));
  const close = (): Promise<void> => new Promise((r) => server.close(() => r()));
  await listen();
  let isUp = true;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    attempts,
    holding: () => held,
    setMode: (m) => {
      mode = m;
    },
    hold: (rule) => {
      holds.push({ ...rule });
    },
    async down() {
      if (!isUp) return;
      isUp = false;
      await close();
    },
    async up() {
      if (isUp) return;
      server = makeServer();
      await listen();
      isUp = true;
    },
    async close() {
      if (isUp) await close();
      isUp = false;
    },
  };
}

// ── Clients ───────────────────────────────────────────────────────────────────────────────────────────

/** An HTTP answer. */
export interface ApiReply {
  status: number;
  body: unknown;
}

/**
 * Calls the gateway's JSON API.
 * @param body sent as JSON when given
 */
export async function api(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<ApiReply> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

/**
 * Creates a member of staff through the admin API and issues them a token.
 * @returns the bearer token
 */
export async function staffToken(baseUrl: string, staff: { id: string; roles: string[]; name?: string; email?: string }, adminToken = PROCESS_ADMIN_TOKEN): Promise<string> {
  const created = await api(baseUrl, adminToken, 'POST', '/v1/staff', {
    id: staff.id,
    name: staff.name ?? `Staff ${staff.id}`,
    email: staff.email ?? `${staff.id}@staff.example`,
    roles: staff.roles,
  });
  if (created.status !== 201 && created.status !== 200) throw new Error(`creating staff ${staff.id}: ${created.status} ${JSON.stringify(created.body)}`);
  const issued = await api(baseUrl, adminToken, 'POST', `/v1/staff/${staff.id}/tokens`);
  const token = (issued.body as { token?: string } | undefined)?.token;
  if (issued.status !== 201 || token === undefined) throw new Error(`issuing a token for ${staff.id}: ${issued.status}`);
  return token;
}

/** POSTs a raw message to `/inbound/email`. */
export async function postInboundEmail(baseUrl: string, token: string, raw: Buffer): Promise<{ status: number; messageKey?: string; body: unknown }> {
  const res = await fetch(`${baseUrl}/inbound/email`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, body: Uint8Array.from(raw) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const messageKey = (body as { messageKey?: string } | undefined)?.messageKey;
  return { status: res.status, body, ...(typeof messageKey === 'string' ? { messageKey } : {}) };
}

/** What the SMTP listener answered. */
export interface SmtpReply {
  /** The final reply code (250, 451, …), or undefined when no reply came (connection refused). */
  code?: number;
  response: string;
  /** The message key from a `250 … Queued as <key>` reply. */
  messageKey?: string;
}

/** Sends one raw message over a fresh SMTP connection (no pool) and reports the final reply. */
export async function sendSmtp(port: number, raw: Buffer, envelope: { from: string; to: string[] }): Promise<SmtpReply> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 10_000, socketTimeout: 30_000 });
  try {
    const info = await transport.sendMail({ envelope, raw });
    const key = /Queued as (\S+)/.exec(info.response)?.[1];
    return { code: Number(info.response.slice(0, 3)), response: info.response, ...(key ? { messageKey: key } : {}) };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string };
    return { ...(e.responseCode !== undefined ? { code: e.responseCode } : {}), response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** Resolves once something on `port` answers with an SMTP greeting (220). */
export async function waitForSmtpBanner(port: number, timeoutMs = 15_000): Promise<string> {
  return until(
    () =>
      new Promise<string | undefined>((resolveBanner) => {
        const socket = connect(port, '127.0.0.1');
        socket.setTimeout(2000);
        socket.once('data', (chunk) => {
          socket.end('QUIT\r\n');
          const text = chunk.toString();
          resolveBanner(text.startsWith('220') ? text : undefined);
        });
        socket.once('error', () => resolveBanner(undefined));
        socket.once('timeout', () => {
          socket.destroy();
          resolveBanner(undefined);
        });
      }),
    timeoutMs,
    `an SMTP banner on port ${port}`,
  );
}

// ── Queues ────────────────────────────────────────────────────────────────────────────────────────────

/** The written-contact queues. */
export const EMAIL_QUEUES = ['process-message', 'forward', 'acknowledge', 'digest'] as const;

/** Jobs not yet finished (waiting, active, delayed, prioritised) in the written-contact queues. */
export async function pendingEmailJobs(redisUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of EMAIL_QUEUES) {
    const { hostname, port } = new URL(redisUrl);
    const queue = new Queue(name, { connection: { host: hostname, port: Number(port), maxRetriesPerRequest: 1 }, prefix: QUEUE_PREFIX });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      out[name] = Object.values(counts).reduce((a, b) => a + b, 0);
    } finally {
      await queue.close();
    }
  }
  return out;
}

/** Resolves once no written-contact job is waiting, running or delayed. */
export async function emailQueuesIdle(redisUrl: string, timeoutMs = 30_000): Promise<void> {
  let last: Record<string, number> = {};
  await until(
    async () => {
      last = await pendingEmailJobs(redisUrl);
      return Object.values(last).every((n) => n === 0);
    },
    timeoutMs,
    `the email queues to drain (${JSON.stringify(last)})`,
  );
}
